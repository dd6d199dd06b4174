package oauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const (
	// tokenTimeout bounds one token request; a renewal runs apart from the caller that started
	// it, so that its cancellation does not fail the callers sharing it.
	tokenTimeout = time.Minute
	// renewShare is the share of a token's lifetime after which it is renewed: 54 minutes of
	// Okta's hour, which leaves six minutes to ride out a token endpoint outage.
	renewShare = 0.9
	// keepMargin: an old token is used while renewal fails only if it has this much life left.
	keepMargin = 30 * time.Second
)

// Transport is an http.RoundTripper that adds an OAuth 2.0 access token (and DPoP proofs) to
// each request to the org. It is safe for concurrent use; concurrent callers share one token
// request. Printing it never shows the key, an assertion or a token.
type Transport struct {
	org      *url.URL
	tokenURL string
	clientID string
	kid      string
	scope    string
	base     http.RoundTripper
	clock    Clock
	log      *slog.Logger
	assert   jose.Signer // client assertions, with the app's key
	proof    jose.Signer // DPoP proofs, with the Transport's own key; nil without DPoP
	onJoin   func()      // test hook: a caller joined a renewal in flight

	mu            sync.Mutex
	tok           *token
	flight        *flight
	tokenNonce    string // last DPoP-Nonce of the token endpoint
	resourceNonce string // last DPoP-Nonce of the resource server
}

// token is an access token and when to renew it.
type token struct {
	value   secret
	renewAt time.Time
	expires time.Time
}

// String shows when the token expires, not the token: fmt cannot reach the Format method of
// an unexported field, so the struct must redact itself.
func (t token) String() string {
	return fmt.Sprintf("oauth.token{value: [redacted], renewAt: %s, expires: %s}",
		t.renewAt.Format(time.RFC3339), t.expires.Format(time.RFC3339))
}

// GoString is String, so %#v shows no token.
func (t token) GoString() string { return t.String() }

// Format covers every verb.
func (t token) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue keeps the token out of structured logs.
func (t token) LogValue() slog.Value { return slog.StringValue(t.String()) }

// flight is a token request in progress; its callers wait on done.
type flight struct {
	done chan struct{}
	tok  *token
	err  error
}

// NewTransport checks cfg, loads the private key and, with DPoP, makes the proof key. It
// sends nothing: the first request gets the first token.
func NewTransport(cfg Config) (*Transport, error) {
	org, err := checkOrgURL(cfg.OrgURL)
	if err != nil {
		return nil, err
	}
	clientID := strings.TrimSpace(cfg.ClientID)
	if clientID == "" {
		return nil, fmt.Errorf("%w: client_id is empty", errConfig)
	}
	key, err := parseKey(cfg.PrivateKey, strings.TrimSpace(cfg.KeyID))
	if err != nil {
		return nil, fmt.Errorf("oauth: %w", err)
	}
	scopes := cfg.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	for _, s := range scopes {
		if s == "" || strings.ContainsAny(s, " \t\r\n\"\\") {
			return nil, fmt.Errorf("%w: scope %q is not a single scope token", errConfig, s)
		}
	}
	t := &Transport{
		org: org, tokenURL: org.String() + tokenPath, clientID: clientID, kid: key.kid,
		scope: strings.Join(scopes, " "), base: cfg.Base, clock: cfg.Clock, log: cfg.Logger,
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	if t.clock == nil {
		t.clock = realClock{}
	}
	if t.log == nil {
		t.log = slog.New(slog.DiscardHandler)
	}
	if t.assert, err = newSigner(key, "JWT", false); err != nil {
		return nil, err
	}
	if cfg.DPoP {
		if t.proof, err = newDPoPSigner(); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// RoundTrip sends req with the access token. A 401 leads to one token renewal and one retry,
// a DPoP nonce challenge to one retry with the nonce, both only when the body can be sent
// again; otherwise, and when the retry fails too, the response is returned as it came.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.onOrg(req.URL) {
		closeBody(req)
		return nil, fmt.Errorf("oauth: refusing to send the access token to %s://%s, which is not the org", req.URL.Scheme, req.URL.Host)
	}
	ctx := req.Context()
	tok, err := t.getToken(ctx, nil)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	replay := replayable(req)
	resp, err := t.send(req, tok, false)
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !replay {
		return resp, err
	}
	if t.proof != nil && nonceChallenge(resp) {
		t.log.Debug("oauth: the resource asked for a DPoP nonce; retrying with it")
		discard(resp)
		if resp, err = t.send(req, tok, true); err != nil || resp.StatusCode != http.StatusUnauthorized {
			return resp, err
		}
	}
	t.log.Warn("oauth: the resource refused the access token; renewing it and retrying once",
		"status", resp.StatusCode, "www_authenticate", oneLine(resp.Header.Get("WWW-Authenticate"), 200))
	discard(resp)
	if tok, err = t.getToken(ctx, tok); err != nil {
		return nil, err
	}
	resp, err = t.send(req, tok, true)
	if err == nil && resp.StatusCode == http.StatusUnauthorized {
		t.log.Warn("oauth: the resource refused a fresh access token", "hint", ResourceHint(resp.StatusCode, resp.Header))
	}
	return resp, err
}

// send sends a clone of req with tok; again means req was sent before, so its body is
// fetched anew.
func (t *Transport) send(req *http.Request, tok *token, again bool) (*http.Response, error) {
	r := req.Clone(req.Context())
	if again && req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("oauth: replaying the request body: %w", err)
		}
		r.Body = body
	}
	if t.proof == nil {
		r.Header.Set("Authorization", "Bearer "+string(tok.value))
	} else {
		t.mu.Lock()
		nonce := t.resourceNonce
		t.mu.Unlock()
		proof, err := newProof(t.proof, req.Method, req.URL, t.clock.Now(), nonce, string(tok.value))
		if err != nil {
			closeBody(r)
			return nil, err
		}
		r.Header.Set("Authorization", "DPoP "+string(tok.value))
		r.Header.Set("DPoP", proof)
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	if n := resp.Header.Get("DPoP-Nonce"); n != "" && t.proof != nil {
		t.mu.Lock()
		t.resourceNonce = n
		t.mu.Unlock()
	}
	return resp, nil
}

// getToken returns a token that is not due for renewal and is not stale (the token a resource
// just refused), starting a renewal or joining the one in flight.
func (t *Transport) getToken(ctx context.Context, stale *token) (*token, error) {
	t.mu.Lock()
	if tok := t.tok; tok != nil && tok != stale && t.clock.Now().Before(tok.renewAt) {
		t.mu.Unlock()
		return tok, nil
	}
	f := t.flight
	joined := f != nil
	if f == nil {
		f = &flight{done: make(chan struct{})}
		t.flight = f
		go t.renew(context.WithoutCancel(ctx), f, stale != nil)
	}
	t.mu.Unlock()
	if joined && t.onJoin != nil {
		t.onJoin()
	}
	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return nil, fmt.Errorf("oauth: waiting for an access token: %w", context.Cause(ctx))
	}
}

// renew requests a token for f. When a renewal that is merely due fails, the old token is
// used while it has life left; a refused token is never used again.
func (t *Transport) renew(ctx context.Context, f *flight, refused bool) {
	ctx, cancel := context.WithTimeout(ctx, tokenTimeout)
	defer cancel()
	tok, err := t.fetchToken(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	defer close(f.done)
	t.flight = nil
	if err == nil {
		t.tok, f.tok = tok, tok
		return
	}
	if old := t.tok; old != nil && !refused && t.clock.Now().Before(old.expires.Add(-keepMargin)) {
		t.log.Warn("oauth: renewing the access token failed; using the current one until it expires",
			"expires", old.expires, "error", err)
		f.tok = old
		return
	}
	f.err = err
}

// fetchToken runs the client-credentials grant, answering one DPoP nonce challenge.
func (t *Transport) fetchToken(ctx context.Context) (*token, error) {
	t.mu.Lock()
	nonce := t.tokenNonce
	t.mu.Unlock()
	for attempt := 0; ; attempt++ {
		sent := t.clock.Now()
		status, header, body, err := t.postToken(ctx, sent, nonce)
		if err != nil {
			return nil, err
		}
		fresh := header.Get("DPoP-Nonce")
		if fresh != "" && t.proof != nil {
			t.mu.Lock()
			t.tokenNonce = fresh
			t.mu.Unlock()
		}
		tr, err := parseTokenResponse(status, body)
		var te *TokenError
		if errors.As(err, &te) && te.Code == "use_dpop_nonce" && t.proof != nil && attempt == 0 && fresh != "" {
			t.log.Debug("oauth: the token endpoint asked for a DPoP nonce; retrying with it")
			nonce = fresh
			continue
		}
		if err != nil {
			return nil, err
		}
		if err := t.checkTokenType(tr.TokenType); err != nil {
			return nil, err
		}
		t.log.Info("oauth: access token obtained", "client_id", t.clientID, "token_type", tr.TokenType,
			"expires_in_s", int64(tr.Lifetime/time.Second), "scope", oneLine(tr.Scope, 200))
		return &token{
			value:   secret(tr.AccessToken),
			renewAt: sent.Add(time.Duration(float64(tr.Lifetime) * renewShare)),
			expires: sent.Add(tr.Lifetime),
		}, nil
	}
}

func (t *Transport) checkTokenType(typ string) error {
	want := "Bearer"
	if t.proof != nil {
		want = "DPoP"
	}
	if strings.EqualFold(typ, want) || (typ == "" && want == "Bearer") {
		return nil
	}
	te := &TokenError{Status: http.StatusOK, Code: "unexpected_token_type",
		Description: fmt.Sprintf("token_type %q, expected %s", oneLine(typ, 20), want)}
	if want == "DPoP" {
		te.Description += ": the token is not bound to the DPoP key"
	}
	return te
}

// postToken sends one token request and returns the answer, its body bounded.
func (t *Transport) postToken(ctx context.Context, now time.Time, nonce string) (int, http.Header, []byte, error) {
	assertion, err := newAssertion(t.assert, t.clientID, t.tokenURL, now)
	if err != nil {
		return 0, nil, nil, err
	}
	form := url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {t.scope},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.tokenURL, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("oauth: token request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if t.proof != nil {
		proof, err := newProof(t.proof, http.MethodPost, req.URL, now, nonce, "")
		if err != nil {
			return 0, nil, nil, err
		}
		req.Header.Set("DPoP", proof)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("oauth: token request to %s: %w", t.tokenURL, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenBody))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("oauth: reading the token response: %w", err)
	}
	return resp.StatusCode, resp.Header, body, nil
}

func (t *Transport) onOrg(u *url.URL) bool {
	return u != nil && u.Scheme == t.org.Scheme && strings.EqualFold(u.Host, t.org.Host)
}

// ResourceHint says what an Okta admin can do about a 401 or 403 an OAuth token received
// from an Okta API, reading the WWW-Authenticate challenge; "" for other statuses.
func ResourceHint(status int, h http.Header) string {
	challenge := strings.ToLower(h.Get("WWW-Authenticate"))
	switch {
	case strings.Contains(challenge, "insufficient_scope"):
		return "the access token lacks the scope: grant okta.logs.read to the API Services app (Okta API Scopes tab)"
	case status == http.StatusForbidden:
		return "the app lacks permission: assign it an admin role that can read the System Log (e.g. Read-only Administrator) and grant okta.logs.read"
	case strings.Contains(challenge, "invalid_dpop_proof"), strings.Contains(challenge, "use_dpop_nonce"):
		return "the DPoP proof was refused: check the host clock and the dpop setting"
	case status == http.StatusUnauthorized:
		return "a fresh access token was refused: check that the app is active, was granted okta.logs.read and has an admin role"
	}
	return ""
}

// nonceChallenge reports a resource server's request for a DPoP nonce (RFC 9449 §9).
func nonceChallenge(resp *http.Response) bool {
	if resp.Header.Get("DPoP-Nonce") == "" {
		return false
	}
	for _, c := range resp.Header.Values("WWW-Authenticate") {
		if strings.Contains(c, "use_dpop_nonce") {
			return true
		}
	}
	return false
}

// replayable reports whether req can be sent a second time: no body, or one GetBody renews.
func replayable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// discard drains a little of a response that is being replaced, so the connection is reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// closeBody honours the RoundTripper contract of closing the body even when nothing is sent.
func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}

func (t *Transport) String() string {
	return fmt.Sprintf("oauth.Transport{org: %s, client_id: %s, kid: %s, scope: %q, dpop: %t, key: [redacted], token: [redacted]}",
		t.org, t.clientID, t.kid, t.scope, t.proof != nil)
}

// GoString is String, so %#v shows no secret.
func (t *Transport) GoString() string { return t.String() }

// Format covers every verb, so %v, %+v, %#v, %s, %q and %x all print the redacted form.
func (t *Transport) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// LogValue keeps secrets out of structured logs.
func (t *Transport) LogValue() slog.Value { return slog.StringValue(t.String()) }

// secret is a string that prints as [redacted] whatever the verb.
type secret string

func (secret) String() string               { return "[redacted]" }
func (secret) GoString() string             { return "[redacted]" }
func (secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte("[redacted]")) }
func (secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }
func (secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }

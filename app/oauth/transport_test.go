package oauth

import (
	"bytes"
	"context"
	"crypto/elliptic"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newTestTransport(t testing.TB, f *fakeOkta, key []byte, mod func(*Config)) *Transport {
	t.Helper()
	cfg := Config{OrgURL: f.srv.URL, ClientID: f.clientID, PrivateKey: key, Clock: f.clock}
	if mod != nil {
		mod(&cfg)
	}
	tr, err := NewTransport(cfg)
	require.NoError(t, err)
	return tr
}

// get sends GET /api/v1/logs through tr as the Okta client does, and reads the answer.
func get(t testing.TB, tr http.RoundTripper, ctx context.Context) (int, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	require.NoError(t, err)
	return do(tr, req, "/api/v1/logs?since=2026-03-01T00%3A00%3A00Z&limit=1000#frag")
}

func do(tr http.RoundTripper, req *http.Request, pathQuery string) (int, error) {
	base := tr.(*Transport).org.String()
	u, err := req.URL.Parse(base + pathQuery)
	if err != nil {
		return 0, err
	}
	req.URL = u
	req.Host = u.Host
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

func TestAssertionKeyFormats(t *testing.T) {
	rk, ek := rsaKey(), ecKey()
	ek384, ek521 := mustEC(elliptic.P384()), mustEC(elliptic.P521())
	tests := []struct {
		name    string
		key     []byte
		pub     any
		kid     string // Config.KeyID
		wantKid string // what the server has registered
		alg     string
	}{
		{"PKCS#1 RSA", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk)), &rk.PublicKey, "k1", "k1", "RS256"},
		{"PKCS#8 RSA", pkcs8(t, rk), &rk.PublicKey, "k1", "k1", "RS256"},
		{"SEC1 EC", sec1(t, ek), &ek.PublicKey, "e1", "e1", "ES256"},
		{"PKCS#8 EC", pkcs8(t, ek), &ek.PublicKey, "", "", "ES256"},
		{"JWK RSA with kid", jwkJSON(t, rk, "jwk-rsa", "RS256"), &rk.PublicKey, "", "jwk-rsa", "RS256"},
		{"JWK EC with kid", jwkJSON(t, ek, "jwk-ec", ""), &ek.PublicKey, "jwk-ec", "jwk-ec", "ES256"},
		{"JWK Set", []byte(`{"keys":[` + string(jwkJSON(t, &ek.PublicKey, "pub", "")) + `,` + string(jwkJSON(t, ek, "set-ec", "ES256")) + `]}`), &ek.PublicKey, "", "set-ec", "ES256"},
		{"PEM with lost line breaks", bytes.ReplaceAll(pkcs8(t, ek), []byte("\n"), []byte(" ")), &ek.PublicKey, "", "", "ES256"},
		{"PEM with literal \\n", bytes.ReplaceAll(sec1(t, ek), []byte("\n"), []byte(`\n`)), &ek.PublicKey, "", "", "ES256"},
		{"SEC1 EC P-384", sec1(t, ek384), &ek384.PublicKey, "", "", "ES384"},
		{"PKCS#8 EC P-521", pkcs8(t, ek521), &ek521.PublicKey, "", "", "ES512"},
		{"JWK RSA that says RS384", jwkJSON(t, rk, "r384", "RS384"), &rk.PublicKey, "", "r384", "RS384"},
		{"JWK RSA that says RS512", jwkJSON(t, rk, "r512", "RS512"), &rk.PublicKey, "", "r512", "RS512"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, tt.pub, tt.wantKid)
			tr := newTestTransport(t, f, tt.key, func(c *Config) { c.KeyID = tt.kid })
			status, err := get(t, tr, t.Context())
			require.NoError(t, err)
			assert.Equal(t, 200, status)
			assert.Equal(t, []string{tt.alg}, f.algs)
		})
	}
}

func TestTokenEndpointErrors(t *testing.T) {
	other := mustEC(ecKey().Curve)
	tests := []struct {
		name     string
		key      []byte
		kid      string
		setup    func(*fakeOkta)
		mod      func(*Config)
		code     string
		contains []string
	}{
		{name: "wrong key", key: sec1(t, other), code: "invalid_client",
			contains: []string{"401 invalid_client", "signature is invalid", "public key is registered", "key_id matches its kid"}},
		{name: "kid mismatch", key: sec1(t, ecKey()), kid: "old-kid", setup: func(f *fakeOkta) { f.kid = "new-kid" }, code: "invalid_client",
			contains: []string{"kid does not match"}},
		{name: "scope not granted", key: sec1(t, ecKey()), mod: func(c *Config) { c.Scopes = []string{"okta.logs.read", "okta.users.read"} },
			code: "invalid_scope", contains: []string{"okta.users.read", "grant okta.logs.read to the app"}},
		{name: "app requires DPoP", key: sec1(t, ecKey()), setup: func(f *fakeOkta) { f.requireDPoP = true },
			code: "invalid_dpop_proof", contains: []string{"DPoP proof JWT header is missing", "Require Demonstrating Proof of Possession"}},
		{name: "DPoP asked, Bearer issued", key: sec1(t, ecKey()), mod: func(c *Config) { c.DPoP = true },
			setup: func(f *fakeOkta) { f.tokenType = "Bearer" }, code: "unexpected_token_type", contains: []string{"not bound to the DPoP key"}},
		{name: "Bearer asked, DPoP issued", key: sec1(t, ecKey()), setup: func(f *fakeOkta) { f.tokenType = "DPoP" },
			code: "unexpected_token_type", contains: []string{`token_type "DPoP", expected Bearer`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, &ecKey().PublicKey, "")
			if tt.setup != nil {
				f.set(tt.setup)
			}
			tr := newTestTransport(t, f, tt.key, func(c *Config) {
				c.KeyID = tt.kid
				if tt.mod != nil {
					tt.mod(c)
				}
			})
			_, err := get(t, tr, t.Context())
			var te *TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.code, te.Code)
			assert.False(t, te.Temporary())
			for _, s := range tt.contains {
				assert.Contains(t, err.Error(), s)
			}
			assert.Zero(t, f.resourceCalls)
		})
	}
}

func TestTokenCachedAndRenewedBeforeExpiry(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), nil)
	for range 25 {
		status, err := get(t, tr, t.Context())
		require.NoError(t, err)
		require.Equal(t, 200, status)
	}
	assert.Equal(t, 1, f.tokenCalls, "one token for many calls")

	f.clock.Advance(53 * time.Minute) // before 90 % of the hour
	_, err := get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 1, f.tokenCalls)

	f.clock.Advance(2 * time.Minute) // 55 min: past 90 %, the token still valid for 5 min
	_, err = get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, f.tokenCalls, "renewed before expiry")
	assert.Equal(t, 27, f.resourceCalls, "no call was refused")
}

func TestRenewalFailureKeepsValidToken(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), nil)
	_, err := get(t, tr, t.Context())
	require.NoError(t, err)

	f.set(func(f *fakeOkta) { f.echoBody = 503 })
	f.clock.Advance(56 * time.Minute) // due for renewal, 4 min of life left
	status, err := get(t, tr, t.Context())
	require.NoError(t, err, "the current token is still good")
	assert.Equal(t, 200, status)

	f.clock.Advance(4 * time.Minute) // expired
	_, err = get(t, tr, t.Context())
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 503, te.Status)
	assert.True(t, te.Temporary())
}

func TestConcurrentCallersShareOneRenewal(t *testing.T) {
	const callers = 8
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), nil)
	joined := make(chan struct{}, callers)
	tr.onJoin = func() { joined <- struct{}{} }

	for round, wantCalls := range []int{1, 2} {
		gate := make(chan struct{})
		f.set(func(f *fakeOkta) { f.tokenGate = gate })
		var wg sync.WaitGroup
		errs := make([]error, callers)
		for i := range callers {
			wg.Go(func() {
				status, err := get(t, tr, t.Context())
				if err == nil && status != 200 {
					err = fmt.Errorf("status %d", status)
				}
				errs[i] = err
			})
		}
		for range callers - 1 { // all but the one that started the renewal
			<-joined
		}
		close(gate)
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		assert.Equal(t, wantCalls, f.tokenCalls, "round %d", round)
		f.clock.Advance(55 * time.Minute)
	}
}

func TestCallerCancelledWhileWaiting(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), nil)
	gate := make(chan struct{})
	f.set(func(f *fakeOkta) { f.tokenGate = gate })
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, f.srv.URL+"/api/v1/logs", nil)
	_, err := tr.RoundTrip(req)
	require.ErrorIs(t, err, context.Canceled)
	close(gate)
	// The renewal went on without the caller, and the next caller gets its token.
	status, err := get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, 1, f.tokenCalls)
}

func Test401RenewsOnceThenRetries(t *testing.T) {
	tests := []struct {
		name          string
		always401     bool
		post          bool
		wantStatus    int
		wantToken     int
		wantResources int
	}{
		// The server forgets tokens after 10 minutes though it said an hour.
		{name: "expired early", wantStatus: 200, wantToken: 2, wantResources: 2},
		{name: "refused again", always401: true, wantStatus: 401, wantToken: 2, wantResources: 2},
		{name: "body cannot be replayed", post: true, wantStatus: 401, wantToken: 1, wantResources: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, &ecKey().PublicKey, "")
			f.set(func(f *fakeOkta) { f.serverLife = 10 * time.Minute })
			var logs bytes.Buffer
			tr := newTestTransport(t, f, sec1(t, ecKey()), func(c *Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			_, err := get(t, tr, t.Context())
			require.NoError(t, err)
			f.clock.Advance(11 * time.Minute)
			f.set(func(f *fakeOkta) {
				f.always401 = tt.always401
				f.tokenCalls, f.resourceCalls = 1, 0
			})

			var status int
			if tt.post {
				req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, "", io.NopCloser(strings.NewReader("x")))
				status, err = do(tr, req, "/api/v1/logs")
			} else {
				status, err = get(t, tr, t.Context())
			}
			require.NoError(t, err, "a 401 is a response, for the Okta client to report")
			assert.Equal(t, tt.wantStatus, status)
			assert.Equal(t, tt.wantToken, f.tokenCalls)
			assert.Equal(t, tt.wantResources, f.resourceCalls)
			if tt.always401 {
				assert.Contains(t, logs.String(), "refused a fresh access token")
			}
		})
	}
}

func TestInsufficientScopeHint(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	f.set(func(f *fakeOkta) { f.granted = []string{"okta.users.read"} })
	tr := newTestTransport(t, f, sec1(t, ecKey()), func(c *Config) { c.Scopes = []string{"okta.users.read"} })
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, f.srv.URL+"/api/v1/logs", nil)
	resp, err := tr.RoundTrip(req)
	require.NoError(t, err)
	defer func() { _ = resp.Body.Close() }()
	assert.Equal(t, 403, resp.StatusCode)
	assert.Contains(t, ResourceHint(resp.StatusCode, resp.Header), "grant okta.logs.read")
}

func TestDPoP(t *testing.T) {
	f := newFakeOkta(t, &rsaKey().PublicKey, "k1")
	f.set(func(f *fakeOkta) {
		f.requireDPoP = true
		f.tokenNonce = "token-nonce-1"
		f.resourceNonce = "resource-nonce-1"
	})
	tr := newTestTransport(t, f, pkcs8(t, rsaKey()), func(c *Config) { c.DPoP = true; c.KeyID = "k1" })

	status, err := get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, 2, f.tokenCalls, "use_dpop_nonce, then the token")
	assert.Equal(t, 2, f.resourceCalls, "use_dpop_nonce, then the page")

	// Both nonces are remembered: no more challenges.
	status, err = get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, 3, f.resourceCalls)

	// A new token endpoint nonce (Okta rotates it daily) costs one retry on renewal.
	f.set(func(f *fakeOkta) { f.tokenNonce = "token-nonce-2" })
	f.clock.Advance(55 * time.Minute)
	status, err = get(t, tr, t.Context())
	require.NoError(t, err)
	assert.Equal(t, 200, status)
	assert.Equal(t, 4, f.tokenCalls)
	for _, tok := range f.tokens {
		assert.NotEmpty(t, tok.jkt, "every token is DPoP-bound")
	}
}

func TestDPoPNonceAskedTwice(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), func(c *Config) { c.DPoP = true })
	// A server that wants a nonce the client can never satisfy: one retry only.
	f.set(func(f *fakeOkta) { f.rotateNonce = true })
	_, err := get(t, tr, t.Context())
	var te *TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "use_dpop_nonce", te.Code)
	assert.Equal(t, 2, f.tokenCalls)
}

func TestRefusesOtherHosts(t *testing.T) {
	f := newFakeOkta(t, &ecKey().PublicKey, "")
	tr := newTestTransport(t, f, sec1(t, ecKey()), nil)
	for _, u := range []string{"http://evil.example/api/v1/logs", "https://" + strings.TrimPrefix(f.srv.URL, "http://") + "/x"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
		_, err := tr.RoundTrip(req)
		require.Error(t, err, u)
		assert.Contains(t, err.Error(), "not the org")
	}
	assert.Zero(t, f.tokenCalls)
}

func TestNewTransportErrors(t *testing.T) {
	key := sec1(t, ecKey())
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client id", Config{OrgURL: "https://acme.okta.com", PrivateKey: key}, "client_id is empty"},
		{"http org", Config{OrgURL: "http://acme.okta.com", ClientID: "c", PrivateKey: key}, "must start with https://"},
		{"org with path", Config{OrgURL: "https://acme.okta.com/oauth2/default", ClientID: "c", PrivateKey: key}, "no path"},
		{"bad scope", Config{OrgURL: "https://acme.okta.com", ClientID: "c", PrivateKey: key, Scopes: []string{"a b"}}, "single scope"},
		{"no key", Config{OrgURL: "https://acme.okta.com", ClientID: "c"}, "private key: empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewTransport(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	tr, err := NewTransport(Config{OrgURL: "https://ACME.okta.com/", ClientID: " c ", PrivateKey: key})
	require.NoError(t, err)
	assert.Equal(t, "https://acme.okta.com/oauth2/v1/token", tr.tokenURL)
	assert.Equal(t, DefaultScope, tr.scope)
}

// TestNoSecretsAnywhere runs good and failing exchanges with recognisable secrets and looks
// for them in logs, errors and every printed form of Config and Transport.
func TestNoSecretsAnywhere(t *testing.T) {
	rk := rsaKey()
	keyPEM := pkcs8(t, rk)
	keyLines := strings.Split(strings.TrimSpace(string(keyPEM)), "\n")
	f := newFakeOkta(t, &rk.PublicKey, "")
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := Config{OrgURL: f.srv.URL, ClientID: f.clientID, PrivateKey: keyPEM, Clock: f.clock, Logger: logger, DPoP: true}
	tr, err := NewTransport(cfg)
	require.NoError(t, err)

	var out bytes.Buffer
	_, err = get(t, tr, t.Context())
	require.NoError(t, err)
	f.set(func(f *fakeOkta) { f.serverLife = time.Minute })
	f.clock.Advance(2 * time.Minute)
	_, err = get(t, tr, t.Context()) // 401, renewal, retry
	require.NoError(t, err)
	f.set(func(f *fakeOkta) { f.echoBody = 500 }) // a proxy that echoes the form, assertion included
	f.clock.Advance(time.Hour)
	_, err = get(t, tr, t.Context())
	require.Error(t, err)
	fmt.Fprintln(&out, err)
	f.set(func(f *fakeOkta) { f.echoBody, f.granted = 0, nil })
	_, err = get(t, tr, t.Context())
	require.Error(t, err)
	fmt.Fprintln(&out, err)

	for _, v := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
		fmt.Fprintf(&out, v+"\n", cfg)
		fmt.Fprintf(&out, v+"\n", &cfg)
		fmt.Fprintf(&out, v+"\n", tr)
		fmt.Fprintf(&out, v+"\n", *tr.tok)
		fmt.Fprintf(&out, v+"\n", tr.tok)
	}
	logger.Info("config", "cfg", cfg, "transport", tr, "token", tr.tok.value, "tok", tr.tok, "tokv", *tr.tok)
	all := out.String() + logs.String()

	f.mu.Lock()
	defer f.mu.Unlock()
	require.NotEmpty(t, f.tokens)
	require.NotEmpty(t, f.assertions)
	var secrets []string
	for tok := range f.tokens {
		secrets = append(secrets, tok)
	}
	secrets = append(secrets, f.assertions...)
	secrets = append(secrets, keyLines[1:len(keyLines)-1]...)
	for _, s := range secrets {
		require.NotEmpty(t, s)
		assert.NotContains(t, all, s)
	}
	assert.Contains(t, all, "[redacted]")
	assert.Contains(t, all, "access token obtained", "the logs were captured")
	assert.Contains(t, all, "proxy error", "the echoed body is quoted, its JWTs removed")
}

func TestTokenErrorHints(t *testing.T) {
	tests := []struct {
		err  TokenError
		want string
	}{
		{TokenError{Status: 400, Code: "unauthorized_client"}, "enable the Client Credentials grant"},
		{TokenError{Status: 400, Code: "invalid_request", Description: "DPoP proof required"}, "set dpop = 1"},
		{TokenError{Status: 400, Code: "invalid_grant"}, "host clock"},
		{TokenError{Status: 404}, "check org_url"},
		{TokenError{Status: 429}, "rate limit"},
		{TokenError{Status: 502}, "Okta is failing"},
	}
	for _, tt := range tests {
		assert.Contains(t, tt.err.Error(), tt.want)
	}
}

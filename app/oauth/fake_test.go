package oauth

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// fakeClock is a settable clock shared by the Transport and the fake server.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Test keys are made once per test binary: RSA generation is slow under -race.
var (
	rsaKey = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC(elliptic.P256()) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC(c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, k any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func sec1(t testing.TB, k *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("EC PRIVATE KEY", der)
}

func jwkJSON(t testing.TB, k any, kid, alg string) []byte {
	t.Helper()
	b, err := jose.JSONWebKey{Key: k, KeyID: kid, Algorithm: alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// issued is what the fake server knows of a token it minted.
type issued struct {
	expires time.Time
	jkt     string // thumbprint of the DPoP key it is bound to, "" for Bearer
	scopes  []string
}

// fakeOkta is an org authorization server and System Log resource that checks what Okta
// checks: the client assertion, the DPoP proofs and their binding, nonces and scopes.
type fakeOkta struct {
	t        testing.TB
	srv      *httptest.Server
	clock    *fakeClock
	clientID string
	pub      crypto.PublicKey // the registered public key
	kid      string           // the registered kid; "" accepts any

	mu            sync.Mutex
	granted       []string
	lifetime      int           // expires_in sent
	serverLife    time.Duration // how long the server honours a token; 0: lifetime
	requireDPoP   bool
	tokenNonce    string        // required in token request proofs when set
	resourceNonce string        // required in resource proofs when set
	tokenType     string        // override of the token_type answered
	tokenGate     chan struct{} // token answers wait for it when set
	always401     bool
	echoBody      int  // answer token requests with this status and the request body
	rotateNonce   bool // answer every token request with use_dpop_nonce and a new nonce
	tokens        map[string]issued
	seen          map[string]bool // jti values
	tokenCalls    int             // POSTs to the token endpoint
	resourceCalls int
	algs          []string // alg of each verified assertion
	problems      []string // checks that failed: the test fails on any
	assertions    []string // every client assertion received
}

func newFakeOkta(t testing.TB, pub crypto.PublicKey, kid string) *fakeOkta {
	f := &fakeOkta{
		t: t, clock: newFakeClock(), clientID: "0oa1clientid", pub: pub, kid: kid,
		granted: []string{"okta.logs.read"}, lifetime: 3600,
		tokens: map[string]issued{}, seen: map[string]bool{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/oauth2/v1/token", f.token)
	mux.HandleFunc("/api/v1/logs", f.resource)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, p := range f.problems {
			t.Errorf("fake Okta: %s", p)
		}
	})
	return f
}

// set changes the server's behaviour under its lock.
func (f *fakeOkta) set(change func(*fakeOkta)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	change(f)
}

func (f *fakeOkta) tokenURL() string { return f.srv.URL + "/oauth2/v1/token" }

func (f *fakeOkta) problem(format string, args ...any) {
	f.problems = append(f.problems, fmt.Sprintf(format, args...))
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func (f *fakeOkta) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.tokenCalls++
	gate := f.tokenGate
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		f.problem("token request %s with Content-Type %q", r.Method, r.Header.Get("Content-Type"))
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, 400, "invalid_request", "bad form")
		return
	}
	f.assertions = append(f.assertions, r.PostForm.Get("client_assertion"))
	if f.rotateNonce {
		w.Header().Set("DPoP-Nonce", "n-"+randHex(4))
		oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
		return
	}
	if f.echoBody != 0 {
		w.WriteHeader(f.echoBody)
		_, _ = w.Write([]byte("<html>proxy error for " + r.PostForm.Encode() + "</html>"))
		return
	}
	if g := r.PostForm.Get("grant_type"); g != "client_credentials" {
		f.problem("grant_type %q", g)
	}
	if a := r.PostForm.Get("client_assertion_type"); a != assertionType {
		f.problem("client_assertion_type %q", a)
	}
	// DPoP first, as Okta does.
	var jkt string
	if proof := r.Header.Get("DPoP"); proof != "" {
		var claims proofClaims
		var ok bool
		if jkt, claims, ok = f.checkProof(proof, http.MethodPost, f.tokenURL()); !ok {
			oauthError(w, 400, "invalid_dpop_proof", "The DPoP proof JWT is invalid.")
			return
		}
		if claims.Ath != "" {
			f.problem("token request proof has ath")
		}
		if f.tokenNonce != "" && claims.Nonce != f.tokenNonce {
			w.Header().Set("DPoP-Nonce", f.tokenNonce)
			oauthError(w, 400, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			return
		}
	} else if f.requireDPoP {
		oauthError(w, 400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		return
	}
	if desc := f.checkAssertion(r.PostForm.Get("client_assertion")); desc != "" {
		oauthError(w, 401, "invalid_client", desc)
		return
	}
	scopes := strings.Fields(r.PostForm.Get("scope"))
	for _, s := range scopes {
		if !slices.Contains(f.granted, s) {
			oauthError(w, 400, "invalid_scope", "The following scopes are not allowed: "+s)
			return
		}
	}
	tok := "tok-" + randHex(16)
	typ := "Bearer"
	if jkt != "" {
		typ = "DPoP"
	}
	if f.tokenType != "" {
		typ = f.tokenType
	}
	life := time.Duration(f.lifetime) * time.Second
	if f.serverLife != 0 {
		life = f.serverLife
	}
	f.tokens[tok] = issued{expires: f.clock.Now().Add(life), jkt: jkt, scopes: scopes}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": typ, "expires_in": f.lifetime, "scope": strings.Join(scopes, " "),
	})
}

// checkAssertion verifies a client assertion as Okta does; it returns why it is refused.
func (f *fakeOkta) checkAssertion(s string) string {
	jws, err := jose.ParseSignedCompact(s, []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512})
	if err != nil {
		return "The client_assertion is not a JWT."
	}
	h := jws.Signatures[0].Header
	if f.kid != "" && h.KeyID != f.kid {
		return "The client_assertion kid does not match a registered key."
	}
	payload, err := jws.Verify(f.pub)
	if err != nil {
		return "The client_assertion signature is invalid."
	}
	f.algs = append(f.algs, h.Algorithm)
	var c assertionClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		f.problem("assertion claims: %v", err)
		return "bad claims"
	}
	now := f.clock.Now().Unix()
	switch {
	case c.Iss != f.clientID || c.Sub != f.clientID:
		f.problem("assertion iss %q sub %q", c.Iss, c.Sub)
	case c.Aud != f.tokenURL():
		f.problem("assertion aud %q", c.Aud)
	case c.Iat > now+5 || c.Iat < now-60:
		f.problem("assertion iat %d, now %d", c.Iat, now)
	case c.Exp <= now || c.Exp-c.Iat > 300:
		f.problem("assertion exp %d iat %d", c.Exp, c.Iat)
	case c.Jti == "" || f.seen[c.Jti]:
		f.problem("assertion jti %q reused", c.Jti)
	}
	if typ, _ := h.ExtraHeaders["typ"].(string); typ != "JWT" {
		f.problem("assertion typ %q", typ)
	}
	f.seen[c.Jti] = true
	return ""
}

// checkProof verifies a DPoP proof (RFC 9449 §4.3) and returns the key's thumbprint.
func (f *fakeOkta) checkProof(proof, method, uri string) (string, proofClaims, bool) {
	var c proofClaims
	jws, err := jose.ParseSignedCompact(proof, []jose.SignatureAlgorithm{jose.ES256, jose.RS256})
	if err != nil {
		f.problem("proof: %v", err)
		return "", c, false
	}
	h := jws.Signatures[0].Header
	if typ, _ := h.ExtraHeaders["typ"].(string); typ != "dpop+jwt" {
		f.problem("proof typ %q", typ)
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		f.problem("proof without a public jwk")
		return "", c, false
	}
	payload, err := jws.Verify(h.JSONWebKey)
	if err != nil {
		f.problem("proof signature: %v", err)
		return "", c, false
	}
	if err := json.Unmarshal(payload, &c); err != nil {
		f.problem("proof claims: %v", err)
		return "", c, false
	}
	now := f.clock.Now().Unix()
	switch {
	case c.Htm != method:
		f.problem("proof htm %q, want %q", c.Htm, method)
	case c.Htu != uri:
		f.problem("proof htu %q, want %q", c.Htu, uri)
	case c.Iat > now+5 || c.Iat < now-60:
		f.problem("proof iat %d, now %d", c.Iat, now)
	case c.Jti == "" || f.seen[c.Jti]:
		f.problem("proof jti %q reused", c.Jti)
	}
	f.seen[c.Jti] = true
	tp, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		f.problem("thumbprint: %v", err)
	}
	return base64.RawURLEncoding.EncodeToString(tp), c, true
}

func (f *fakeOkta) resource(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resourceCalls++
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	info, ok := f.tokens[tok]
	if f.always401 || !ok || !f.clock.Now().Before(info.expires) {
		w.Header().Set("WWW-Authenticate", scheme+` error="invalid_token", error_description="The token has expired."`)
		w.WriteHeader(401)
		return
	}
	if info.jkt != "" {
		if scheme != "DPoP" {
			f.problem("DPoP-bound token sent with scheme %q", scheme)
		}
		jkt, c, ok := f.checkProof(r.Header.Get("DPoP"), r.Method, "http://"+r.Host+r.URL.Path)
		if !ok {
			w.WriteHeader(401)
			return
		}
		if jkt != info.jkt {
			f.problem("resource proof key differs from the token's key")
		}
		sum := sha256.Sum256([]byte(tok))
		if c.Ath != base64.RawURLEncoding.EncodeToString(sum[:]) {
			f.problem("proof ath %q", c.Ath)
		}
		if f.resourceNonce != "" && c.Nonce != f.resourceNonce {
			w.Header().Set("DPoP-Nonce", f.resourceNonce)
			w.Header().Set("WWW-Authenticate", `DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"`)
			w.WriteHeader(401)
			return
		}
	} else if scheme != "Bearer" {
		f.problem("Bearer token sent with scheme %q", scheme)
	}
	if !slices.Contains(info.scopes, "okta.logs.read") {
		w.Header().Set("WWW-Authenticate", `Bearer error="insufficient_scope"`)
		w.WriteHeader(403)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte("[]"))
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

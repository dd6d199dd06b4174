package oauth

import (
	"crypto/x509"
	"slices"
	"strings"
	"testing"
	"unicode"

	jose "github.com/go-jose/go-jose/v4"
)

// FuzzParseTokenResponse: any answer of a token endpoint gives a usable token or a one-line
// *TokenError, never a panic.
func FuzzParseTokenResponse(f *testing.F) {
	f.Add(200, []byte(`{"token_type":"DPoP","expires_in":3600,"access_token":"eyJ.a.b","scope":"okta.logs.read"}`))
	f.Add(200, []byte(`{"access_token":"t","expires_in":"1e309"}`))
	f.Add(200, []byte(`{"access_token":"t","expires_in":"NaN"}`))
	f.Add(400, []byte(`{"error":"use_dpop_nonce","error_description":"Authorization server requires nonce in DPoP proof."}`))
	f.Add(401, []byte(`{"error":"invalid_client","error_description":"x\u0000\ny"}`))
	f.Add(502, []byte("<html>\xff\xfe</html>"))
	f.Add(500, []byte(""))
	f.Fuzz(func(t *testing.T, status int, body []byte) {
		r, err := parseTokenResponse(status, body)
		if err != nil {
			te, ok := err.(*TokenError)
			if !ok {
				t.Fatalf("error %T, want *TokenError", err)
			}
			msg := te.Error()
			if strings.ContainsFunc(msg, func(r rune) bool { return unicode.IsControl(r) }) {
				t.Fatalf("control character in %q", msg)
			}
			return
		}
		if status != 200 || r.AccessToken == "" || !validToken(r.AccessToken) || r.Lifetime <= 0 {
			t.Fatalf("accepted %d %q as %+v", status, body, r.Lifetime)
		}
	})
}

// FuzzParseKey: any key input loads a usable signing key or fails with ErrKey.
func FuzzParseKey(f *testing.F) {
	ek := ecKey()
	f.Add(sec1(f, ek), "")
	f.Add(pkcs8(f, ek), "kid")
	f.Add(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey())), "")
	f.Add(jwkJSON(f, ek, "k", "ES256"), "k")
	f.Add([]byte(`{"keys":[{"kty":"EC","crv":"P-256"}]}`), "")
	f.Add([]byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}`), "")
	f.Add([]byte("-----BEGIN PRIVATE KEY----- AAAA -----END PRIVATE KEY-----"), "")
	f.Add([]byte(`-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----`), "")
	f.Fuzz(func(t *testing.T, data []byte, kid string) {
		k, err := parseKey(data, kid)
		if err != nil {
			return
		}
		if !slices.Contains([]jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}, k.alg) {
			t.Fatalf("alg %s", k.alg)
		}
		if _, err := newSigner(k, "JWT", false); err != nil {
			t.Fatalf("loaded key cannot sign: %v", err)
		}
	})
}

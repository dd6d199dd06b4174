package oauth

import (
	"crypto/elliptic"
	"crypto/x509"
	"strings"
	"testing"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKey(t *testing.T) {
	rk, ek := rsaKey(), ecKey()
	ek2 := mustEC(elliptic.P256())
	pubDER, err := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	require.NoError(t, err)
	pubPEM := pemBlock("PUBLIC KEY", pubDER)
	twoKeys := `{"keys":[` + string(jwkJSON(t, ek, "a", "")) + `,` + string(jwkJSON(t, ek2, "b", "")) + `]}`
	tests := []struct {
		name    string
		data    string
		kid     string
		wantAlg jose.SignatureAlgorithm
		wantKid string
		wantErr string
	}{
		{name: "PKCS#1", data: string(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))), kid: "k", wantAlg: jose.RS256, wantKid: "k"},
		{name: "PKCS#8 EC after a public key", data: string(pubPEM) + string(pkcs8(t, ek)), wantAlg: jose.ES256},
		{name: "JWK kid used", data: string(jwkJSON(t, ek, "from-jwk", "")), wantAlg: jose.ES256, wantKid: "from-jwk"},
		{name: "JWK kid agrees", data: string(jwkJSON(t, rk, "same", "RS256")), kid: "same", wantAlg: jose.RS256, wantKid: "same"},
		{name: "JWK Set picks kid", data: twoKeys, kid: "b", wantAlg: jose.ES256, wantKid: "b"},
		{name: "P-384", data: string(sec1(t, mustEC(elliptic.P384()))), wantAlg: jose.ES384},
		{name: "P-521 PKCS#8", data: string(pkcs8(t, mustEC(elliptic.P521()))), wantAlg: jose.ES512},
		{name: "JWK RSA says RS512", data: string(jwkJSON(t, rk, "", "RS512")), wantAlg: jose.RS512},
		{name: "JWK RSA says RS384", data: string(jwkJSON(t, rk, "", "RS384")), wantAlg: jose.RS384},
		{name: "JWK P-384 says ES384", data: string(jwkJSON(t, mustEC(elliptic.P384()), "", "ES384")), wantAlg: jose.ES384},

		{name: "empty", data: " \n", wantErr: "empty"},
		{name: "garbage", data: "hello", wantErr: "neither PEM nor JWK"},
		{name: "public PEM only", data: string(pubPEM), wantErr: "no private key"},
		{name: "encrypted PEM", data: "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n", wantErr: "encrypted"},
		{name: "broken PKCS#1", data: "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", wantErr: "PKCS#1"},
		{name: "RSA 1024", data: string(pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(mustRSA(1024)))), wantErr: "at least 2048"},
		{name: "P-224", data: string(pkcs8(t, mustEC(elliptic.P224()))), wantErr: "EC key on P-224; Okta accepts P-256 (ES256), P-384 (ES384) or P-521 (ES512)"},
		{name: "JWK public", data: string(jwkJSON(t, &ek.PublicKey, "p", "")), wantErr: "public key"},
		{name: "JWK kid mismatch", data: string(jwkJSON(t, ek, "new", "")), kid: "old", wantErr: `key_id "old" differs from the JWK's kid "new"`},
		{name: "JWK RSA says PS256", data: string(jwkJSON(t, rk, "", "PS256")), wantErr: `the JWK says alg "PS256"; Okta accepts RS256, RS384 or RS512`},
		{name: "JWK P-256 says ES384", data: string(jwkJSON(t, ek, "", "ES384")), wantErr: `the JWK says alg "ES384", but a key on P-256 signs with ES256`},
		{name: "JWK bad JSON", data: `{"kty":`, wantErr: "not valid JSON"},
		{name: "JWK symmetric", data: `{"kty":"oct","k":"c2VjcmV0"}`, wantErr: "not supported"},
		{name: "JWK Set ambiguous", data: twoKeys, wantErr: "has 2 private keys"},
		{name: "JWK Set no such kid", data: twoKeys, kid: "c", wantErr: `no private RSA or EC key with kid "c"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k, err := parseKey([]byte(tt.data), tt.kid)
			if tt.wantErr != "" {
				require.ErrorIs(t, err, ErrKey)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.wantAlg, k.alg)
			assert.Equal(t, tt.wantKid, k.kid)
		})
	}
}

// TestKeyErrorsNameNoKeyBytes: a key that almost parses must not end up in the message.
func TestKeyErrorsNameNoKeyBytes(t *testing.T) {
	good := string(sec1(t, ecKey()))
	body := strings.Split(strings.TrimSpace(good), "\n")[1]
	for _, data := range []string{
		strings.Replace(good, "EC PRIVATE KEY", "RSA PRIVATE KEY", 2),
		strings.Replace(good, "EC PRIVATE KEY", "PRIVATE KEY", 2),
		`{"kty":"EC","crv":"P-256","d":"` + body + `"}`,
	} {
		_, err := parseKey([]byte(data), "")
		require.Error(t, err)
		assert.NotContains(t, err.Error(), body[:16])
	}
	_, err := parseKey([]byte(good), "")
	require.NoError(t, err)
}

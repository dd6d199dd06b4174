package oauth

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// assertionLifetime is the exp - iat of a client assertion: Okta allows up to an hour, and a
// short one limits what a leaked assertion is worth.
const assertionLifetime = 5 * time.Minute

// assertionType is the client_assertion_type of private_key_jwt (RFC 7523).
const assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// newSigner returns a JWS signer for k with typ set and, when embed, the public key in a jwk
// header instead of a kid (as DPoP asks).
func newSigner(k signingKey, typ string, embed bool) (jose.Signer, error) {
	opts := (&jose.SignerOptions{EmbedJWK: embed}).WithType(jose.ContentType(typ))
	var key any = jose.JSONWebKey{Key: k.key, KeyID: k.kid, Algorithm: string(k.alg)}
	if embed {
		key = k.key
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("oauth: %s signer: %w", typ, err)
	}
	return s, nil
}

// sign serialises claims and signs them into a compact JWS.
func sign(s jose.Signer, claims any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("oauth: JWT claims: %w", err)
	}
	jws, err := s.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("oauth: signing JWT: %w", err)
	}
	c, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("oauth: serialising JWT: %w", err)
	}
	return c, nil
}

// assertionClaims are the private_key_jwt claims Okta checks (RFC 7523 §3).
type assertionClaims struct {
	Iss string `json:"iss"`
	Sub string `json:"sub"`
	Aud string `json:"aud"`
	Iat int64  `json:"iat"`
	Exp int64  `json:"exp"`
	Jti string `json:"jti"`
}

func newAssertion(s jose.Signer, clientID, tokenURL string, now time.Time) (string, error) {
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	return sign(s, assertionClaims{
		Iss: clientID, Sub: clientID, Aud: tokenURL,
		Iat: now.Unix(), Exp: now.Add(assertionLifetime).Unix(), Jti: jti,
	})
}

// proofClaims are the claims of a DPoP proof (RFC 9449 §4.2).
type proofClaims struct {
	Htm   string `json:"htm"`
	Htu   string `json:"htu"`
	Iat   int64  `json:"iat"`
	Jti   string `json:"jti"`
	Ath   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// newDPoPSigner makes the Transport's own P-256 key and a signer that embeds its public half.
func newDPoPSigner() (jose.Signer, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("oauth: generating the DPoP key: %w", err)
	}
	return newSigner(signingKey{key: k, alg: jose.ES256}, "dpop+jwt", true)
}

// newProof returns a DPoP proof for method and u; token, when set, is bound through ath.
func newProof(s jose.Signer, method string, u *url.URL, now time.Time, nonce, token string) (string, error) {
	jti, err := randomID()
	if err != nil {
		return "", err
	}
	c := proofClaims{Htm: method, Htu: htu(u), Iat: now.Unix(), Jti: jti, Nonce: nonce}
	if token != "" {
		c.Ath = accessTokenHash(token)
	}
	return sign(s, c)
}

// htu is the request URI without query and fragment (RFC 9449 §4.2), nor user info.
func htu(u *url.URL) string {
	v := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return v.String()
}

// accessTokenHash is the ath claim: base64url(SHA-256(token)) without padding.
func accessTokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// randomID returns 128 random bits for a jti, enough that Okta's replay check never trips.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("oauth: random jti: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

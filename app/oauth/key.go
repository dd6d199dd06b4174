package oauth

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"regexp"

	jose "github.com/go-jose/go-jose/v4"
)

// minRSABits is Okta's minimum for a service app's RSA key.
const minRSABits = 2048

// ErrKey is wrapped by every error about the configured private key. The messages name the
// problem, never a byte of the key.
var ErrKey = errors.New("private key")

// signingKey is the private key of the service app with what a JWS header needs.
type signingKey struct {
	key crypto.Signer // *rsa.PrivateKey or *ecdsa.PrivateKey on P-256, P-384 or P-521
	alg jose.SignatureAlgorithm
	kid string
}

// parseKey reads a PEM (PKCS#1 or PKCS#8 RSA, SEC1 or PKCS#8 EC) or a JWK / JWK Set
// with a private key. kid, when set, must match the JWK's kid; a JWK's kid is used when kid
// is empty.
func parseKey(data []byte, kid string) (signingKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return signingKey{}, fmt.Errorf("%w: empty", ErrKey)
	}
	if data[0] == '{' {
		return parseJWK(data, kid)
	}
	k, err := parsePEM(data)
	if err != nil {
		return signingKey{}, err
	}
	return newSigningKey(k, kid, "")
}

// newSigningKey pairs a private key with the algorithm Okta will verify it with: the JWK's alg
// when it names one (jwkAlg), else RS256 for RSA and the curve's ES algorithm for EC. These
// are the six algorithms Okta accepts for private_key_jwt client assertions.
func newSigningKey(k any, kid, jwkAlg string) (signingKey, error) {
	var alg jose.SignatureAlgorithm
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if n := k.N.BitLen(); n < minRSABits {
			return signingKey{}, fmt.Errorf("%w: RSA key of %d bits, Okta requires at least %d", ErrKey, n, minRSABits)
		}
		switch jose.SignatureAlgorithm(jwkAlg) {
		case "", jose.RS256:
			alg = jose.RS256
		case jose.RS384, jose.RS512:
			alg = jose.SignatureAlgorithm(jwkAlg)
		default:
			return signingKey{}, fmt.Errorf("%w: the JWK says alg %q; Okta accepts RS256, RS384 or RS512 for an RSA key", ErrKey, jwkAlg)
		}
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			alg = jose.ES256
		case elliptic.P384():
			alg = jose.ES384
		case elliptic.P521():
			alg = jose.ES512
		default:
			return signingKey{}, fmt.Errorf("%w: EC key on %s; Okta accepts P-256 (ES256), P-384 (ES384) or P-521 (ES512)", ErrKey, k.Curve.Params().Name)
		}
		if jwkAlg != "" && jwkAlg != string(alg) {
			return signingKey{}, fmt.Errorf("%w: the JWK says alg %q, but a key on %s signs with %s", ErrKey, jwkAlg, k.Curve.Params().Name, alg)
		}
	case nil:
		return signingKey{}, fmt.Errorf("%w: no key found", ErrKey)
	default:
		return signingKey{}, fmt.Errorf("%w: %T keys are not supported, use RSA or EC (P-256, P-384, P-521)", ErrKey, k)
	}
	return signingKey{key: k.(crypto.Signer), alg: alg, kid: kid}, nil
}

// pemOneLine finds a PEM block whose line breaks were lost, as happens when a key is pasted
// into a one-line text field or stored with literal "\n" sequences.
var pemOneLine = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]+)-----(.*?)-----END ([A-Z0-9 ]+)-----`)

func parsePEM(data []byte) (any, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		flat := bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
		if block, _ = pem.Decode(flat); block == nil {
			block = repairPEM(flat)
		}
	}
	if block == nil {
		return nil, fmt.Errorf("%w: neither PEM nor JWK JSON", ErrKey)
	}
	// Skip what may precede the key in a bundle (parameters, certificates).
	for block != nil {
		switch block.Type {
		case "RSA PRIVATE KEY":
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#1 RSA: %w", ErrKey, err)
			}
			return k, nil
		case "EC PRIVATE KEY":
			k, err := x509.ParseECPrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: SEC1 EC: %w", ErrKey, err)
			}
			return k, nil
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PKCS#8: %w", ErrKey, err)
			}
			return k, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%w: the PEM is encrypted; store it decrypted (openssl pkcs8 -topk8 -nocrypt) in Splunk's secret store", ErrKey)
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			// Not the key we need, but maybe the next block is.
		}
		data = bytes.TrimSpace(pemRest(data, block))
		block, _ = pem.Decode(data)
	}
	return nil, fmt.Errorf("%w: the PEM holds no private key (only a public key or certificate?)", ErrKey)
}

// pemRest returns what follows block in data; pem.Decode's rest is not kept by the repair path,
// so the first END line is searched for instead.
func pemRest(data []byte, block *pem.Block) []byte {
	end := []byte("-----END " + block.Type + "-----")
	if i := bytes.Index(data, end); i >= 0 {
		return data[i+len(end):]
	}
	return nil
}

// repairPEM rebuilds a PEM block whose body lost its line breaks.
func repairPEM(data []byte) *pem.Block {
	m := pemOneLine.FindSubmatch(data)
	if m == nil || !bytes.Equal(m[1], m[3]) {
		return nil
	}
	body := bytes.Join(bytes.Fields(m[2]), nil)
	var b bytes.Buffer
	b.WriteString("-----BEGIN " + string(m[1]) + "-----\n")
	for len(body) > 64 {
		b.Write(body[:64])
		b.WriteByte('\n')
		body = body[64:]
	}
	b.Write(body)
	b.WriteString("\n-----END " + string(m[1]) + "-----\n")
	block, _ := pem.Decode(b.Bytes())
	return block
}

func parseJWK(data []byte, kid string) (signingKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err != nil {
		return signingKey{}, fmt.Errorf("%w: JWK is not valid JSON", ErrKey)
	}
	if set.Keys == nil {
		return parseOneJWK(data, kid)
	}
	var found []signingKey
	for _, raw := range set.Keys {
		k, err := parseOneJWK(raw, "")
		if err != nil || (kid != "" && k.kid != kid) {
			continue
		}
		found = append(found, k)
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) == 0 && kid != "":
		return signingKey{}, fmt.Errorf("%w: the JWK Set has no private RSA or EC key with kid %q", ErrKey, kid)
	case len(found) == 0:
		return signingKey{}, fmt.Errorf("%w: the JWK Set has no private RSA or EC key", ErrKey)
	default:
		return signingKey{}, fmt.Errorf("%w: the JWK Set has %d private keys; set key_id to choose one", ErrKey, len(found))
	}
}

func parseOneJWK(data []byte, kid string) (signingKey, error) {
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		return signingKey{}, fmt.Errorf("%w: JWK: %w", ErrKey, err)
	}
	if jwk.IsPublic() {
		return signingKey{}, fmt.Errorf("%w: the JWK is a public key; give the private key (with \"d\")", ErrKey)
	}
	if kid != "" && jwk.KeyID != "" && kid != jwk.KeyID {
		return signingKey{}, fmt.Errorf("%w: key_id %q differs from the JWK's kid %q", ErrKey, kid, jwk.KeyID)
	}
	if kid == "" {
		kid = jwk.KeyID
	}
	return newSigningKey(jwk.Key, kid, jwk.Algorithm)
}

package oauth

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// DefaultScope is the scope requested when Config.Scopes is empty: reading the System Log.
const DefaultScope = "okta.logs.read"

// tokenPath is the org authorization server's token endpoint, the one that mints okta.* scopes.
const tokenPath = "/oauth2/v1/token"

// Clock is the Transport's view of time, so tests control token expiry.
type Clock interface{ Now() time.Time }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

// Config configures a Transport. Printing it never shows the private key.
type Config struct {
	OrgURL     string   // "https://acme.okta.com"; the token endpoint is {OrgURL}/oauth2/v1/token
	ClientID   string   // the API Services app's client ID
	PrivateKey []byte   // PEM (PKCS#1 or PKCS#8 RSA, SEC1 or PKCS#8 EC on P-256, P-384 or P-521) or a JWK (Set) with the private key
	KeyID      string   // kid of the registered public key; taken from the JWK when empty
	Scopes     []string // default [DefaultScope]
	DPoP       bool     // bind tokens to a per-Transport key with DPoP proofs (RFC 9449)
	// Base sends the requests, to the token endpoint and the resource; nil: http.DefaultTransport.
	Base   http.RoundTripper
	Clock  Clock        // nil: the real clock
	Logger *slog.Logger // INFO per token, WARN per renewal after a 401; nil: no logs
}

func (c Config) String() string {
	return fmt.Sprintf("oauth.Config{OrgURL: %q, ClientID: %q, KeyID: %q, Scopes: %q, DPoP: %t, PrivateKey: [redacted]}",
		c.OrgURL, c.ClientID, c.KeyID, c.Scopes, c.DPoP)
}

// GoString is String, so %#v does not print the key either.
func (c Config) GoString() string { return c.String() }

// Format covers every verb, so %v, %+v, %#v, %s, %q and %x all print the redacted form.
func (c Config) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(c.String())) }

// LogValue keeps the key out of structured logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("org_url", c.OrgURL), slog.String("client_id", c.ClientID),
		slog.String("key_id", c.KeyID), slog.Any("scopes", c.Scopes), slog.Bool("dpop", c.DPoP),
		slog.String("private_key", "[redacted]"))
}

// errConfig is wrapped by errors about a Config field.
var errConfig = errors.New("oauth: config")

// checkOrgURL accepts https://host[:port] with an optional trailing slash; plain http only on a
// loopback host, for tests and the simulator.
func checkOrgURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("%w: org_url: %w", errConfig, err)
	}
	switch {
	case u.Host == "" || u.Opaque != "":
		return nil, fmt.Errorf("%w: org_url: want https://your-org.okta.com, got %q", errConfig, s)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.Trim(u.Path, "/") != "":
		return nil, fmt.Errorf("%w: org_url: only scheme and host, no path, query or credentials", errConfig)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		return nil, fmt.Errorf("%w: org_url: must start with https://", errConfig)
	}
	return &url.URL{Scheme: u.Scheme, Host: strings.ToLower(u.Host)}, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

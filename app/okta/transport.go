package okta

import (
	"fmt"
	"net/http"
)

// NewSSWSTransport returns a RoundTripper that sends each request through base (nil:
// http.DefaultTransport) with "Authorization: SSWS <token>" set on a clone of it. Other
// credentials (OAuth, DPoP) can be plugged in the same way. Printing it never shows the token.
func NewSSWSTransport(token string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &sswsTransport{token: secret(token), base: base}
}

type sswsTransport struct {
	token secret
	base  http.RoundTripper
}

// RoundTrip leaves the caller's request untouched, as the RoundTripper contract asks.
func (t *sswsTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "SSWS "+string(t.token))
	return t.base.RoundTrip(r)
}

func (t *sswsTransport) String() string   { return "okta.SSWSTransport{token: [redacted]}" }
func (t *sswsTransport) GoString() string { return t.String() }

// Format covers every verb, so %v, %+v, %#v, %s and %q all print the redacted form.
func (t *sswsTransport) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(t.String())) }

// secret is a string that prints as [redacted] whatever the verb.
type secret string

func (secret) String() string               { return "[redacted]" }
func (secret) GoString() string             { return "[redacted]" }
func (secret) Format(f fmt.State, _ rune)   { _, _ = f.Write([]byte("[redacted]")) }
func (secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Package sameorigin keeps a credential on the origin it was given for. Every HTTP client of
// oktainput that carries one (the Okta API token or OAuth token, the HEC token, the splunkd
// session key, the SCS access token) follows a redirect only to the same scheme, host and port,
// and refuses any other with an error that names the target, never the credential. Go's own
// rule is weaker: it forwards Authorization to another port of the same host and from https
// to http, and a header a RoundTripper adds is sent wherever a redirect goes.
package sameorigin

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// MaxRedirects is how many redirects on the origin a request may follow.
const MaxRedirects = 5

// ErrRedirect is wrapped by every *RedirectError.
var ErrRedirect = errors.New("redirect to another origin refused")

// RedirectError is a request or redirect to another origin than the credential's, refused.
type RedirectError struct {
	Target string // scheme://host:port of the refused URL, nothing of its path or query
	Origin string // scheme://host:port the credential is for
}

func (e *RedirectError) Error() string {
	if e.Target == e.Origin {
		return fmt.Sprintf("%s: the URL on %s carries a user name or password of its own, so the credential is not sent there",
			ErrRedirect, e.Target)
	}
	return fmt.Sprintf("%s: %s is not %s (scheme, host and port must all match), so the credential is not sent there",
		ErrRedirect, e.Target, e.Origin)
}

// Unwrap lets errors.Is find ErrRedirect.
func (e *RedirectError) Unwrap() error { return ErrRedirect }

// Of is u's origin, scheme://host:port, with the host in lower case, a trailing dot dropped and
// the scheme's default port made explicit, so that two spellings of one origin compare equal.
func Of(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.ToLower(strings.TrimSuffix(u.Hostname(), ".")), port)
}

// Same reports whether u is on origin's scheme, host and port and carries no user name or
// password of its own.
func Same(origin, u *url.URL) bool {
	return u.User == nil && u.Host != "" && Of(u) == Of(origin)
}

// Check returns nil when u is on origin, else a *RedirectError naming u's origin.
func Check(origin, u *url.URL) error {
	if Same(origin, u) {
		return nil
	}
	return &RedirectError{Target: clip(Of(u)), Origin: Of(origin)}
}

// Client returns a copy of hc (nil: a zero http.Client, Go's default transport) whose redirects
// stay on origin: at most MaxRedirects, each to the same scheme, host and port; hc's own
// CheckRedirect, if any, is asked after that. hc itself is not changed.
func Client(hc *http.Client, origin *url.URL) *http.Client {
	var c http.Client
	if hc != nil {
		c = *hc
	}
	o := *origin
	theirs := c.CheckRedirect
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if err := Check(&o, req.URL); err != nil {
			return err
		}
		if len(via) >= MaxRedirects {
			return fmt.Errorf("stopped after %d redirects", MaxRedirects)
		}
		if theirs != nil {
			return theirs(req, via)
		}
		return nil
	}
	return &c
}

// Transport returns a RoundTripper that sends through base (nil: http.DefaultTransport) only
// requests to origin and refuses every other with a *RedirectError. It is for a client whose
// http.Client is out of reach (an SDK builds its own): each redirect it follows is a new
// request through its transport, so a hop to another origin ends here.
func Transport(base http.RoundTripper, origin *url.URL) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	o := *origin
	return &guard{base: base, origin: &o}
}

type guard struct {
	base   http.RoundTripper
	origin *url.URL
}

func (g *guard) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := Check(g.origin, req.URL); err != nil {
		if req.Body != nil {
			_ = req.Body.Close() // a RoundTripper closes the body, even on error
		}
		return nil, err
	}
	return g.base.RoundTrip(req)
}

// clip bounds a server-chosen origin in an error message.
func clip(s string) string {
	const n = 200
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

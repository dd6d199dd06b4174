// Package splunkd is a small client for splunkd's REST management port (server_uri in a
// modular input's configuration): encrypted secrets in storage/passwords, masking a clear
// secret in inputs.conf, streaming search exports and the app's KV store.
package splunkd

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oktasight/oktasight/app/clock"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/oktasight/oktasight/app/sameorigin"
)

// DefaultTimeout bounds one REST call (not an export, which streams for as long as its context allows).
const DefaultTimeout = 30 * time.Second

// ErrNotFound means splunkd answered 404 for the object; it also matches fs.ErrNotExist so
// packages that must not import splunkd (checkpoint) can recognise it.
var ErrNotFound = fmt.Errorf("splunkd: not found: %w", fs.ErrNotExist)

// ErrUnauthorized means splunkd refused the session key (401): it expired, or splunkd restarted.
var ErrUnauthorized = errors.New("splunkd refused the session key (expired, or splunkd restarted); the input must be restarted by splunkd to get a new one")

// Error is a failed REST call: what was asked, splunkd's HTTP status and its messages.
type Error struct {
	Op       string // e.g. "GET storage/passwords/oktasight:prod:"
	Status   int
	Messages []string
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("splunkd %s: HTTP %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if len(e.Messages) > 0 {
		msg += ": " + strings.Join(e.Messages, "; ")
	}
	if e.Status == http.StatusUnauthorized {
		msg += ": " + ErrUnauthorized.Error()
	}
	return msg
}

// Unwrap lets errors.Is find ErrNotFound (404) and ErrUnauthorized (401).
func (e *Error) Unwrap() error {
	switch e.Status {
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusUnauthorized:
		return ErrUnauthorized
	}
	return nil
}

// Config is what a modular input knows about its splunkd (from the input XML) plus test hooks.
type Config struct {
	ServerURI  string // e.g. https://127.0.0.1:8089
	SessionKey string
	App        string // namespace for every call: /servicesNS/nobody/<App>/...
	// SplunkHome locates etc/auth/cacert.pem, the CA splunkd's certificate is checked against.
	SplunkHome string
	// HTTPClient, when set, is used with its TLS settings; otherwise New builds one. Either way
	// the client follows redirects only on ServerURI's scheme, host and port: the session key
	// is a header of every request (see sameorigin).
	HTTPClient *http.Client
	Logger     *slog.Logger
	// Timeout bounds each non-streaming call; DefaultTimeout when zero.
	Timeout time.Duration
	// Sleep waits between KV-store retries; tests pass one that returns at once.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Client talks to one splunkd as the session key's user.
type Client struct {
	base       *url.URL
	sessionKey string
	app        string
	hc         *http.Client
	log        *slog.Logger
	timeout    time.Duration
	sleep      func(ctx context.Context, d time.Duration) error
	retry      retryPolicy
}

// New checks the configuration and builds the HTTP client with splunkd's TLS rules: verify
// against $SPLUNK_HOME/etc/auth/cacert.pem (plus system roots) when present; without it, only
// a loopback server_uri skips verification, and says so once.
func New(cfg Config) (*Client, error) {
	u, err := url.Parse(cfg.ServerURI)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("splunkd server_uri %q: want https://host:port", cfg.ServerURI)
	}
	if u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("splunkd server_uri %q: want https://host:port only", u.Redacted())
	}
	if cfg.SessionKey == "" {
		return nil, errors.New("splunkd: no session_key in the input's configuration")
	}
	if cfg.App == "" || strings.ContainsAny(cfg.App, "/?#") {
		return nil, fmt.Errorf("splunkd: app name %q is not usable", cfg.App)
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		base:       &url.URL{Scheme: u.Scheme, Host: u.Host},
		sessionKey: cfg.SessionKey,
		app:        cfg.App,
		hc:         cfg.HTTPClient,
		log:        log,
		timeout:    cfg.Timeout,
		sleep:      cfg.Sleep,
		retry:      defaultRetry,
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.sleep == nil {
		c.sleep = clock.Sleep
	}
	if c.hc == nil {
		tc, err := tlsConfig(u.Hostname(), cfg.SplunkHome, log)
		if err != nil {
			return nil, err
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tc
		// splunkd on loopback must never go through a proxy from the environment.
		if isLoopback(u.Hostname()) {
			tr.Proxy = nil
		}
		c.hc = &http.Client{Transport: tr}
	}
	c.hc = sameorigin.Client(c.hc, c.base)
	return c, nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// tlsConfig applies the rules in New's comment. With a CA file and a loopback host only the
// chain is checked, not the name: splunkd's default certificate is issued to
// "SplunkServerDefaultCert" and names no address, so 127.0.0.1 would never match it.
func tlsConfig(host, splunkHome string, log *slog.Logger) (*tls.Config, error) {
	caPath := ""
	if splunkHome != "" {
		caPath = filepath.Join(splunkHome, "etc", "auth", "cacert.pem")
	}
	var pem []byte
	if caPath != "" {
		b, err := os.ReadFile(caPath)
		switch {
		case err == nil:
			pem = b
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("splunkd CA %s: %w", caPath, err)
		}
	}
	if pem == nil {
		if isLoopback(host) {
			log.Info("splunkd TLS certificate not verified: no CA file and server_uri is loopback", "host", host, "ca_file", caPath)
			return &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}, nil //nolint:gosec // loopback only, logged
		}
		return &tls.Config{MinVersion: tls.VersionTLS12}, nil
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("splunkd CA %s: no PEM certificate in it", caPath)
	}
	if !isLoopback(host) {
		return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
	}
	return &tls.Config{
		MinVersion:         tls.VersionTLS12,
		InsecureSkipVerify: true, // replaced by VerifyConnection: chain only, see above
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("splunkd sent no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: pool, Intermediates: inter})
			if err != nil {
				return fmt.Errorf("splunkd certificate not signed by %s: %w", caPath, err)
			}
			return nil
		},
	}, nil
}

// nsPath is the app-namespaced REST path for the already-escaped rest.
func (c *Client) nsPath(rest string) string {
	return "/servicesNS/nobody/" + url.PathEscape(c.app) + "/" + rest
}

// request is one REST call. body is sent as is with contentType; form, when set, is
// url-encoded instead. redact lists strings (secrets) to blank out of any error text.
type request struct {
	method, path string // path already escaped
	op           string // for errors: method and the path without the namespace
	query        url.Values
	form         url.Values
	body         []byte
	contentType  string
	redact       []string
	stream       bool // no per-call timeout: the caller's context bounds it
}

// do sends r and returns the response when its status is 2xx; otherwise an *Error carrying
// splunkd's messages. The caller closes the body.
func (c *Client) do(ctx context.Context, r request) (*http.Response, context.CancelFunc, error) {
	cancel := context.CancelFunc(func() {})
	if !r.stream {
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
	}
	q := r.query
	if q == nil {
		q = url.Values{}
	}
	q.Set("output_mode", "json")
	u := *c.base
	u.RawPath = r.path
	u.Path, _ = url.PathUnescape(r.path)
	u.RawQuery = q.Encode()
	var body io.Reader
	ct := r.contentType
	switch {
	case r.form != nil:
		body = strings.NewReader(r.form.Encode())
		ct = "application/x-www-form-urlencoded"
	case r.body != nil:
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		cancel()
		return nil, nil, fmt.Errorf("splunkd %s: %w", r.op, err)
	}
	req.Header.Set("Authorization", "Splunk "+c.sessionKey)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		cancel()
		var re *sameorigin.RedirectError
		if errors.As(err, &re) { // names two origins, nothing secret; kept for errors.Is
			return nil, nil, fmt.Errorf("splunkd %s: %w", r.op, re)
		}
		return nil, nil, fmt.Errorf("splunkd %s: %s", r.op, c.scrub(err.Error(), r.redact))
	}
	if resp.StatusCode/100 == 2 {
		return resp, cancel, nil
	}
	defer cancel()
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &Error{Op: r.op, Status: resp.StatusCode}
	for _, m := range parseMessages(data) {
		e.Messages = append(e.Messages, c.scrub(m, r.redact))
	}
	return nil, nil, e
}

// scrub removes the session key and any listed secret from s, in case splunkd or the
// transport ever echoes one.
func (c *Client) scrub(s string, redact []string) string {
	// Form bodies and URLs carry values query-escaped; an echo may show either form.
	for _, v := range []string{c.sessionKey, url.QueryEscape(c.sessionKey)} {
		s = strings.ReplaceAll(s, v, "<session key>")
	}
	for _, r := range redact {
		if r != "" {
			s = strings.ReplaceAll(s, r, "<secret>")
			s = strings.ReplaceAll(s, url.QueryEscape(r), "<secret>")
		}
	}
	return s
}

// parseMessages reads splunkd's {"messages":[{"type":..,"text":..}]} error body.
func parseMessages(data []byte) []string {
	var env struct {
		Messages []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		} `json:"messages"`
	}
	if json.Unmarshal(data, &env) != nil {
		return nil
	}
	out := make([]string, 0, len(env.Messages))
	for _, m := range env.Messages {
		if m.Text == "" {
			continue
		}
		if m.Type != "" {
			out = append(out, m.Type+": "+m.Text)
		} else {
			out = append(out, m.Text)
		}
	}
	return out
}

// call runs a non-streaming request and decodes a JSON body into out when out is non-nil.
func (c *Client) call(ctx context.Context, r request, out any) error {
	resp, cancel, err := c.do(ctx, r)
	if err != nil {
		return err
	}
	defer cancel()
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(out); err != nil {
		return &answerError{op: r.op, err: err}
	}
	return nil
}

// answerError is a 2xx answer that could not be decoded; asking again would not help.
type answerError struct {
	op  string
	err error
}

func (e *answerError) Error() string {
	return fmt.Sprintf("splunkd %s: bad JSON answer: %v", e.op, e.err)
}

func (e *answerError) Unwrap() error { return e.err }

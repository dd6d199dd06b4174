// Package scs delivers Okta events to the Splunk Cloud Services ingest API through
// github.com/splunk/splunk-cloud-sdk-go, whose types stay inside this package. It uses only
// the SDK's ingest PostEvents, with its own batching and retries: WritePage returns once every
// event of the page was accepted (HTTP 2xx), so the poller's checkpoint never runs ahead.
//
// The SDK's BatchEventsSender is not used: it loses events (a batch's last event is never
// sent) and shares its queue between goroutines without locks; see sdkbatch_test.go.
//
// The SDK imports github.com/golang/glog, which registers its flags (-v, -logtostderr, …) on
// flag.CommandLine when the program starts; commands must parse their own flag.FlagSet.
package scs

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oktasight/oktasight/app/clock"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/splunk/splunk-cloud-sdk-go/idp"
	"github.com/splunk/splunk-cloud-sdk-go/services"
	"github.com/splunk/splunk-cloud-sdk-go/services/ingest"
	"github.com/splunk/splunk-cloud-sdk-go/util"

	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/sameorigin"
)

// Defaults for the zero values of Config.
const (
	DefaultHostname    = "scp.splunk.com"
	DefaultSourcetype  = "OktaIM2:log"
	DefaultBatchBytes  = 1_000_000 // the service takes about 1 MiB (1,040,000 bytes) a request
	DefaultBatchEvents = 500       // the service's maximum events a request
	DefaultMaxBackoff  = 30 * time.Second
	DefaultRetryFor    = 15 * time.Minute
	defaultTimeout     = time.Minute
	firstBackoff       = 500 * time.Millisecond
	eventOverhead      = 100 // keys, quotes, commas and a timestamp: bytes of each event beside its body and fields
)

// Config says where and how to send events.
type Config struct {
	Tenant string // Splunk Cloud Services tenant
	// Hostname is the root domain (default scp.splunk.com): events go to
	// https://api.<Hostname>/<Tenant>/ingest/v1beta2/events.
	Hostname string
	// BaseURL, when set, replaces https://api.<Hostname> (tests, private endpoints): scheme and
	// host[:port] only.
	BaseURL string
	// Token is a bearer access token; or set TokenSource to get a fresh one before each request
	// (it should cache). Neither is ever logged nor put in errors.
	Token       string
	TokenSource func() (string, error)
	Source      string
	Sourcetype  string // default DefaultSourcetype
	Host        string
	// HTTPClient gives its Transport and Timeout to the SDK's client (the SDK makes its own
	// http.Client); default timeout one minute.
	HTTPClient  *http.Client
	BatchBytes  int // cap on the estimated JSON size of one request
	BatchEvents int // cap on the events of one request
	MaxBackoff  time.Duration
	// RetryFor bounds how long WritePage retries one page before it returns an error.
	RetryFor time.Duration
	// Now and Sleep let tests drive time; Sleep must return ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per retry; default: discard.
	Logger *slog.Logger
}

// Sink writes pages of Okta events to the ingest service, one page at a time.
type Sink struct {
	cfg Config
	svc *ingest.Service
	rt  *ctxTransport
	log *slog.Logger

	mu sync.Mutex // one page at a time: rt carries that page's context
}

// New checks cfg and builds the SDK client; with TokenSource it asks for a first token.
func New(cfg Config) (*Sink, error) {
	if cfg.Tenant == "" {
		return nil, errors.New("scs tenant: empty")
	}
	if (cfg.Token == "") == (cfg.TokenSource == nil) {
		return nil, errors.New("scs: set exactly one of a token and a token source")
	}
	if cfg.Sourcetype == "" {
		cfg.Sourcetype = DefaultSourcetype
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.BatchEvents <= 0 || cfg.BatchEvents > DefaultBatchEvents {
		cfg.BatchEvents = DefaultBatchEvents
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	rt := &ctxTransport{ctx: context.Background()}
	sc := &services.Config{
		Tenant:       cfg.Tenant,
		Timeout:      hc.Timeout,
		RoundTripper: rt,
		// The SDK's own 429 retry sleeps without a context; ours is below.
		RetryRequests: false,
	}
	if sc.Timeout == 0 {
		sc.Timeout = defaultTimeout
	}
	switch {
	case cfg.BaseURL != "" && cfg.Hostname != "":
		return nil, errors.New("scs: set the hostname or the base URL, not both")
	case cfg.BaseURL != "":
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" {
			return nil, fmt.Errorf("scs base url %q: want https://host[:port]", redactURL(cfg.BaseURL))
		}
		sc.Scheme, sc.OverrideHost = u.Scheme, u.Host
	default:
		sc.Host = cfg.Hostname
		if sc.Host == "" {
			sc.Host = DefaultHostname
		}
	}
	// The SDK makes its own http.Client, which follows redirects with the bearer token: the
	// transport refuses every request off the ingest origin, a redirect's included.
	origin := &url.URL{Scheme: "https", Host: "api." + sc.Host}
	if sc.OverrideHost != "" {
		origin = &url.URL{Scheme: sc.Scheme, Host: sc.OverrideHost}
	}
	rt.base = sameorigin.Transport(hc.Transport, origin)
	if cfg.TokenSource != nil {
		sc.TokenRetriever = tokenRetriever{get: cfg.TokenSource, now: cfg.Now}
	} else {
		sc.Token = cfg.Token
	}
	client, err := services.NewClient(sc)
	if err != nil {
		return nil, fmt.Errorf("scs: %w", err)
	}
	return &Sink{cfg: cfg, svc: ingest.NewService(client), rt: rt, log: cfg.Logger}, nil
}

// tokenRetriever adapts TokenSource to the SDK; an ExpiresIn of 0 makes the SDK ask before
// every request, so the source's own cache decides when to renew.
type tokenRetriever struct {
	get func() (string, error)
	now func() time.Time
}

func (t tokenRetriever) GetTokenContext() (*idp.Context, error) {
	tok, err := t.get()
	if err != nil {
		return nil, fmt.Errorf("scs token source: %w", err)
	}
	return &idp.Context{TokenType: "Bearer", AccessToken: tok, StartTime: t.now().Unix()}, nil
}

// ctxTransport gives the SDK's requests, which are made without a context, the context of the
// page being written, so a stop cancels a request in flight.
type ctxTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	ctx  context.Context
}

func (t *ctxTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	ctx := t.ctx
	t.mu.Unlock()
	return t.base.RoundTrip(req.WithContext(ctx))
}

func (t *ctxTransport) set(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
}

// WritePage sends the page in batches and returns once the service accepted every event, or
// an error when it cannot.
func (s *Sink) WritePage(ctx context.Context, events []okta.Event) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rt.set(ctx)
	defer s.rt.set(context.Background())

	deadline := s.cfg.Now().Add(s.cfg.RetryFor)
	batch := make([]ingest.Event, 0, min(len(events), s.cfg.BatchEvents))
	size, first := 0, 0
	fixed := eventOverhead + len(s.cfg.Source) + len(s.cfg.Sourcetype) + len(s.cfg.Host)
	for i, ev := range events {
		n := fixed + jsonSize(ev.Raw) + len(ev.UUID)
		if len(batch) > 0 && (len(batch) == s.cfg.BatchEvents || size+n > s.cfg.BatchBytes) {
			if err := s.send(ctx, batch, first, deadline); err != nil {
				return err
			}
			batch, size, first = batch[:0], 0, i
		}
		batch = append(batch, s.event(ev))
		size += n
	}
	return s.send(ctx, batch, first, deadline)
}

// jsonSize bounds the length of raw once encoding/json has compacted and escaped it, as the
// SDK does: <, > and & become \u003c (6 bytes), U+2028 and U+2029 become \u2028 (6 for 3).
func jsonSize(raw []byte) int {
	n := len(raw)
	for i, c := range raw {
		switch {
		case c == '<' || c == '>' || c == '&':
			n += 5
		case c == 0xe2 && i+2 < len(raw) && raw[i+1] == 0x80 && (raw[i+2] == 0xa8 || raw[i+2] == 0xa9):
			n += 3
		}
	}
	return n
}

func (s *Sink) event(ev okta.Event) ingest.Event {
	e := ingest.Event{
		// The Okta JSON goes in as a value, not a string. encoding/json re-compacts it and
		// escapes <, > and & as \u003c…: the same JSON value, not always the same bytes.
		Body:      json.RawMessage(ev.Raw),
		Timestamp: ptr(ev.Published.UnixMilli()),
		// The service uses id to deduplicate data sent more than once: a resent batch.
		Id: ptr(ev.UUID),
	}
	if s.cfg.Source != "" {
		e.Source = &s.cfg.Source
	}
	if s.cfg.Sourcetype != "" {
		e.Sourcetype = &s.cfg.Sourcetype
	}
	if s.cfg.Host != "" {
		e.Host = &s.cfg.Host
	}
	return e
}

func ptr[T any](v T) *T { return &v }

// send posts one batch until the service accepts it.
func (s *Sink) send(ctx context.Context, batch []ingest.Event, first int, deadline time.Time) error {
	for attempt := 0; ; attempt++ {
		err := s.postOnce(batch)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (stopped: %w)", err, ctx.Err())
		}
		if !retryable(err) {
			return err
		}
		if s.cfg.Now().After(deadline) {
			return fmt.Errorf("%w (gave up after retrying for %s)", err, s.cfg.RetryFor)
		}
		d := clock.Backoff(attempt, firstBackoff, s.cfg.MaxBackoff)
		s.log.Warn("scs: retrying", "events", fmt.Sprintf("%d-%d", first, first+len(batch)-1),
			"attempt", attempt+1, "in", d.String(), "error", err.Error())
		if serr := s.cfg.Sleep(ctx, d); serr != nil {
			return fmt.Errorf("%w (stopped: %w)", err, serr)
		}
	}
}

// postOnce calls PostEvents; a 2xx status is success even when its body is not the JSON the
// SDK expects, since the events were accepted.
func (s *Sink) postOnce(batch []ingest.Event) error {
	var resp http.Response
	_, err := s.svc.PostEvents(batch, &resp)
	if err == nil {
		return nil
	}
	var he *util.HTTPError
	if errors.As(err, &he) {
		return &Error{Status: he.HTTPStatusCode, Code: he.Code, Message: he.Message, Tenant: s.cfg.Tenant}
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		s.log.Warn("scs: events accepted, reply unreadable", "status", resp.StatusCode, "error", err.Error())
		return nil
	}
	return fmt.Errorf("scs ingest: %w", err)
}

// Error is a reply from the ingest service that is not a success.
type Error struct {
	Status  int
	Code    string // the service's code, e.g. "401"
	Message string
	Tenant  string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("scs ingest: HTTP %d", e.Status)
	if e.Code != "" {
		s += " code " + e.Code
	}
	if e.Message != "" {
		s += fmt.Sprintf(" %q", snippet(e.Message))
	}
	switch e.Status {
	case http.StatusUnauthorized:
		s += ": the access token was rejected (expired or not valid); get a new one"
	case http.StatusForbidden:
		s += fmt.Sprintf(": the token may not ingest into tenant %q (check the principal's permissions)", e.Tenant)
	case http.StatusNotFound:
		s += fmt.Sprintf(": no ingest endpoint for tenant %q (check --scs-tenant and the hostname)", e.Tenant)
	case http.StatusRequestEntityTooLarge:
		s += ": the batch is too large; lower the batch size"
	}
	return s
}

// Retryable reports whether the same batch may succeed later: throttling or a server fault.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status == http.StatusRequestTimeout || e.Status >= 500
}

func retryable(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Retryable()
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &tlsErr) || errors.Is(err, sameorigin.ErrRedirect) {
		return false
	}
	var ue *url.Error
	return errors.As(err, &ue) // network failures; anything else (encoding) will not improve
}

func snippet(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// redactURL drops credentials from a URL for an error message.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

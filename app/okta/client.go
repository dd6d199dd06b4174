package okta

import (
	"errors"
	"fmt"
	"github.com/oktasight/oktasight/app/clock"
	"github.com/oktasight/oktasight/app/sameorigin"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Clock is the client's view of time, so tests control every wait.
type Clock = clock.Clock

// Config configures a Client.
type Config struct {
	OrgURL string // "https://acme.okta.com"
	// HTTPClient sends the requests; credentials live in its Transport (NewSSWSTransport).
	// It is copied, not changed; the copy follows redirects only on the org (sameorigin).
	// nil: a client with timeouts and no credentials.
	HTTPClient   *http.Client
	RateLimitPct int            // share (1-100 %) of the endpoint's limit per window this client may use; default 50
	Logger       *slog.Logger   // WARN per retry; nil: no logs
	Clock        Clock          // nil: the real clock
	UserAgent    string         // default "oktasight-okta-client"
	MaxBackoff   time.Duration  // cap of the exponential backoff between retries; default 5m
	Rand         func() float64 // jitter source in [0,1); nil: math/rand/v2
	// RequestTimeout bounds one attempt, reading the body included; default 2m.
	RequestTimeout time.Duration
	// MaxAttempts bounds the attempts of one Fetch; 0: no bound but the context's.
	MaxAttempts int
	// FailFast ends a Fetch at once on a ConnectFault (no such host, connection refused, an
	// untrusted certificate, no TLS), for a caller with a person waiting; otherwise they are
	// retried like any network error.
	FailFast bool
}

// MaxPageBytes bounds a page body (after gzip): a larger answer is refused as a *BodyError
// wrapping ErrPageTooLarge, and retried like a truncated page.
const MaxPageBytes = 256 << 20

// Defaults.
const (
	DefaultRateLimitPct   = 50
	DefaultMaxBackoff     = 5 * time.Minute
	DefaultRequestTimeout = 2 * time.Minute
	defaultUserAgent      = "oktasight-okta-client"
	firstBackoff          = time.Second
	// keepBytes is the largest page buffer kept for the next page: 1000 events of a few
	// kilobytes each are a few megabytes, so anything larger is an exception whose memory
	// goes back to the system.
	keepBytes = 16 << 20
	// maxErrorBody bounds what is read of an error answer.
	maxErrorBody = 64 << 10
)

// Client reads the System Log of one org. It is safe for concurrent use; its pacing is meant
// for one caller fetching pages one after another.
type Client struct {
	org      *url.URL
	http     *http.Client
	pct      int
	log      *slog.Logger
	clock    Clock
	ua       string
	maxBack  time.Duration
	rand     func() float64
	attemptT time.Duration
	attempts int
	failFast bool

	mu    sync.Mutex
	pace  pacer
	stats Stats

	lastBody atomic.Int64 // size of the last page body, to size the next read
	// bodies holds the memory of released pages for the next reads: a poller that fetches
	// ahead has three pages in hand (written, decoded, requested early), so a few buffers are
	// all a catch-up ever needs.
	bodies chan *[]byte

	aheadMu sync.Mutex
	ahead   *early // the request FetchAhead sent early, if any
}

// Stats counts what a Client has done since New.
type Stats struct {
	Requests, Retries, Responses429 int64
	Throttled                       time.Duration // time spent waiting for the rate limit or a retry
	LastRate                        RateLimit     // from the last response that had valid headers
}

// Page is one page of the System Log.
type Page struct {
	Events     []Event
	Next, Self string // absolute URLs on the org; Next is always set when polling
	Rate       RateLimit
	Attempts   int // requests it took, 1 when the first one succeeded

	body   *[]byte // what the events' Raw bytes point into
	client *Client
}

// Release gives the page's memory back to its client for a later fetch, so catching up does
// not allocate (and the garbage collector reclaim) a body of megabytes per page. The page's
// events, whose Raw bytes live in that memory, must not be used after it.
func (p *Page) Release() {
	if p == nil || p.body == nil || p.client == nil {
		return
	}
	p.client.putBody(p.body)
	p.body, p.Events = nil, nil
}

// putBody keeps a page's memory for a later read, unless enough is kept already or it is
// larger than a normal page.
func (c *Client) putBody(b *[]byte) {
	if cap(*b) > keepBytes {
		return
	}
	select {
	case c.bodies <- b:
	default: // enough kept already: let the garbage collector have it
	}
}

func (c *Client) getBody() []byte {
	select {
	case b := <-c.bodies:
		return (*b)[:0]
	default:
		return nil
	}
}

// ErrForeignURL is wrapped by the error for a URL (given, or in a Link header) that is not on
// the org: following it would send the API token elsewhere.
var ErrForeignURL = errors.New("URL is not on the Okta org")

// New returns a Client for cfg.OrgURL, which must pass CheckOrgURL.
func New(cfg Config) (*Client, error) {
	org, err := CheckOrgURL(cfg.OrgURL)
	if err != nil {
		return nil, fmt.Errorf("okta: org URL: %w", err)
	}
	if cfg.RateLimitPct == 0 {
		cfg.RateLimitPct = DefaultRateLimitPct
	}
	if cfg.RateLimitPct < 1 || cfg.RateLimitPct > 100 {
		return nil, fmt.Errorf("okta: rate limit share must be 1 to 100 %%, got %d", cfg.RateLimitPct)
	}
	c := &Client{
		org: org, pct: cfg.RateLimitPct, log: cfg.Logger, clock: cfg.Clock, ua: cfg.UserAgent,
		maxBack: cfg.MaxBackoff, rand: cfg.Rand, attemptT: cfg.RequestTimeout, bodies: make(chan *[]byte, 4),
		attempts: cfg.MaxAttempts, failFast: cfg.FailFast,
	}
	c.pace.pct = c.pct
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.clock == nil {
		c.clock = clock.Real{}
	}
	if c.ua == "" {
		c.ua = defaultUserAgent
	}
	if c.maxBack <= 0 {
		c.maxBack = DefaultMaxBackoff
	}
	if c.rand == nil {
		c.rand = rand.Float64
	}
	if c.attemptT <= 0 {
		c.attemptT = DefaultRequestTimeout
	}
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{Transport: defaultTransport()}
	}
	c.http = sameorigin.Client(hc, c.org)
	return c, nil
}

func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
	}
}

// OrgURL is the normalised org address.
func (c *Client) OrgURL() string { return c.org.String() }

// PollURL is the first URL of a polling query: since, ascending order, no until, so that Okta
// serves every event, late ones included, and always returns a next link.
func (c *Client) PollURL(q Query) string {
	return c.logsURL(q, false)
}

// BoundedURL is the first URL of a bounded query (since and until, ascending): Okta filters
// on published and the last page has no next link.
func (c *Client) BoundedURL(q Query) string {
	return c.logsURL(q, true)
}

func (c *Client) logsURL(q Query, bounded bool) string {
	var b strings.Builder
	b.WriteString(c.org.String())
	b.WriteString("/api/v1/logs")
	sep := byte('?')
	// Times, the sort order and the limit need no escaping (digits, "-:.Z", letters): they
	// are written as Okta's documentation shows them.
	add := func(k, v string) {
		b.WriteByte(sep)
		sep = '&'
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	if !q.Since.IsZero() {
		add("since", formatTime(q.Since))
	}
	if bounded && !q.Until.IsZero() {
		add("until", formatTime(q.Until))
	}
	add("sortOrder", "ASCENDING")
	if q.Limit > 0 {
		add("limit", strconv.Itoa(q.Limit))
	}
	if q.Filter != "" {
		add("filter", escapeQuery(q.Filter))
	}
	if q.Q != "" {
		add("q", escapeQuery(q.Q))
	}
	return b.String()
}

// escapeQuery escapes a query value with %20 for a space, which every server reads the same
// way, where "+" is not always read as a space.
func escapeQuery(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// Stats returns the counters so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// pathQuery is how a URL appears in errors and logs: path and query only.
func pathQuery(u *url.URL) string {
	return u.RequestURI()
}

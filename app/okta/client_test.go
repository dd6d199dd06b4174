package okta

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/sameorigin"
)

// testToken is recognisable so that tests can prove it never leaks.
const testToken = "00SECRET-test-token-9f8e7d6c5b4a"

var t0 = time.Date(2024, 5, 1, 12, 0, 10, 0, time.UTC)

// fakeClock records sleeps and advances its time by them; it never really sleeps.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	// cancelAfter, when set, cancels after that many sleeps (to end a Fetch that would retry forever).
	cancelAfter int
	cancel      context.CancelFunc
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	f.sleeps = append(f.sleeps, d)
	f.now = f.now.Add(d)
	n := len(f.sleeps)
	f.mu.Unlock()
	if f.cancel != nil && n >= f.cancelAfter {
		f.cancel()
		return ctx.Err()
	}
	return nil
}

func (f *fakeClock) Sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.sleeps...)
}

// reply is one scripted answer of the fake Okta.
type reply struct {
	status int
	rate   *[3]int64 // limit, remaining, reset (epoch s); nil: no headers
	body   string
	links  []string // Link header lines; "{srv}" is replaced by the server URL
	header map[string]string
	hijack bool // drop the connection without an answer
}

// fakeOkta answers with the script in order, records requests, and dates its answers by clk.
type fakeOkta struct {
	t      *testing.T
	clk    *fakeClock
	srv    *httptest.Server
	mu     sync.Mutex
	script []reply
	reqs   []*http.Request
}

func newFakeOkta(t *testing.T, clk *fakeClock, script ...reply) *fakeOkta {
	f := &fakeOkta{t: t, clk: clk, script: script}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeOkta) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.reqs = append(f.reqs, r)
	if len(f.script) == 0 {
		f.mu.Unlock()
		http.Error(w, "unexpected request", http.StatusTeapot)
		return
	}
	rp := f.script[0]
	f.script = f.script[1:]
	f.mu.Unlock()
	if rp.hijack {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
		return
	}
	h := w.Header()
	h.Set("Date", f.clk.Now().Format(http.TimeFormat))
	h.Set("Content-Type", "application/json")
	if rp.rate != nil {
		h.Set("X-Rate-Limit-Limit", strconv.FormatInt(rp.rate[0], 10))
		h.Set("X-Rate-Limit-Remaining", strconv.FormatInt(rp.rate[1], 10))
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(rp.rate[2], 10))
	}
	for _, l := range rp.links {
		h.Add("Link", strings.ReplaceAll(l, "{srv}", f.srv.URL))
	}
	for k, v := range rp.header {
		h.Set(k, v)
	}
	status := rp.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, rp.body)
}

func (f *fakeOkta) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

// testClient returns a client of srv with the SSWS transport, clk, a fixed jitter of 0.5 and
// its log.
func testClient(t *testing.T, srv *httptest.Server, clk Clock, mod func(*Config)) (*Client, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg := Config{
		OrgURL:     srv.URL,
		HTTPClient: &http.Client{Transport: NewSSWSTransport(testToken, srv.Client().Transport)},
		Logger:     slog.New(slog.NewTextHandler(&logs, nil)),
		Clock:      clk,
		Rand:       func() float64 { return 0.5 },
		UserAgent:  "oktasight-test/1",
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	return c, &logs
}

func events(n, from int) string {
	var parts []string
	for i := from; i < from+n; i++ {
		parts = append(parts, fmt.Sprintf(`{"uuid":"u%d","published":"2024-05-01T11:00:%02d.000Z","eventType":"user.session.start"}`, i, i%60))
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func rate(limit, remaining int64, reset time.Time) *[3]int64 {
	return &[3]int64{limit, remaining, reset.Unix()}
}

func TestFetchPage(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk, reply{
		rate:  rate(50, 49, t0.Add(50*time.Second)),
		body:  events(2, 0),
		links: []string{`<{srv}/api/v1/logs?limit=2&since=x&sortOrder=ASCENDING>; rel="self"`, `<{srv}/api/v1/logs?limit=2&after=1714561210000_1&sortOrder=ASCENDING>; rel="next"`},
	})
	c, logs := testClient(t, f.srv, clk, nil)
	url := c.PollURL(Query{Since: t0.Add(-time.Hour), Limit: 2})
	page, err := c.Fetch(context.Background(), url)
	require.NoError(t, err)

	require.Len(t, page.Events, 2)
	assert.Equal(t, "u0", page.Events[0].UUID)
	assert.Equal(t, `{"uuid":"u1","published":"2024-05-01T11:00:01.000Z","eventType":"user.session.start"}`, string(page.Events[1].Raw))
	assert.Equal(t, f.srv.URL+"/api/v1/logs?limit=2&after=1714561210000_1&sortOrder=ASCENDING", page.Next)
	assert.Equal(t, f.srv.URL+"/api/v1/logs?limit=2&since=x&sortOrder=ASCENDING", page.Self)
	assert.Equal(t, RateLimit{Limit: 50, Remaining: 49, Reset: t0.Add(50 * time.Second), Valid: true}, page.Rate)
	assert.Equal(t, 1, page.Attempts)

	reqs := f.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, http.MethodGet, r.Method)
	assert.Equal(t, "/api/v1/logs?since=2024-05-01T11:00:10.000Z&sortOrder=ASCENDING&limit=2", r.URL.RequestURI())
	assert.Equal(t, "SSWS "+testToken, r.Header.Get("Authorization"))
	assert.Equal(t, "application/json", r.Header.Get("Accept"))
	assert.Equal(t, "oktasight-test/1", r.Header.Get("User-Agent"))

	st := c.Stats()
	assert.Equal(t, Stats{Requests: 1, LastRate: page.Rate}, st)
	assert.Empty(t, clk.Sleeps(), "the first request does not wait")
	assert.Empty(t, logs.String())
}

// windowOkta is a fake Okta with Okta's fixed one-minute window for /api/v1/logs.
type windowOkta struct {
	limit   int
	latency time.Duration // fake time each request takes
	clk     *fakeClock
	mu      sync.Mutex
	counts  map[time.Time]int // requests per window
	n429    int
}

func (w *windowOkta) ServeHTTP(rw http.ResponseWriter, _ *http.Request) {
	w.clk.mu.Lock()
	w.clk.now = w.clk.now.Add(w.latency)
	now := w.clk.now
	w.clk.mu.Unlock()
	win := now.Truncate(time.Minute)
	w.mu.Lock()
	w.counts[win]++
	used := w.counts[win]
	if used > w.limit {
		w.n429++
	}
	w.mu.Unlock()
	h := rw.Header()
	h.Set("Date", now.Format(http.TimeFormat))
	h.Set("X-Rate-Limit-Limit", strconv.Itoa(w.limit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(w.limit-used, 0)))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(win.Add(time.Minute).Unix(), 10))
	h.Set("Link", `</api/v1/logs?after=x>; rel="next"`)
	if used > w.limit {
		rw.WriteHeader(http.StatusTooManyRequests)
		_, _ = io.WriteString(rw, `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oaeRL"}`)
		return
	}
	_, _ = io.WriteString(rw, events(1, 0))
}

func TestFetchPacingKeepsShare(t *testing.T) {
	tests := []struct {
		limit, pct, share int
		latency           time.Duration
	}{
		{20, 50, 10, 0}, // a free developer org at the default share
		{20, 100, 20, 0},
		{50, 50, 25, 0},
		{50, 25, 12, 0},
		{20, 1, 1, 0},
		{50, 50, 25, 1500 * time.Millisecond}, // slow pages still use the share
		{120, 50, 60, 200 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("L=%d pct=%d latency=%s", tt.limit, tt.pct, tt.latency), func(t *testing.T) {
			clk := &fakeClock{now: t0}
			w := &windowOkta{limit: tt.limit, latency: tt.latency, clk: clk, counts: map[time.Time]int{}}
			srv := httptest.NewTLSServer(w)
			defer srv.Close()
			c, _ := testClient(t, srv, clk, func(cfg *Config) { cfg.RateLimitPct = tt.pct })
			next := c.PollURL(Query{Since: t0, Limit: 1000})
			end := t0.Truncate(time.Minute).Add(5 * time.Minute) // a backlog: fetch for five windows
			for clk.Now().Before(end) {
				page, err := c.Fetch(context.Background(), next)
				require.NoError(t, err)
				require.Equal(t, 1, page.Attempts)
				next = page.Next
			}
			assert.Zero(t, w.n429, "no 429 when we are the only client")
			assert.Zero(t, c.Stats().Responses429)
			first := t0.Truncate(time.Minute)
			var per []int
			for win := first; win.Before(end); win = win.Add(time.Minute) {
				per = append(per, w.counts[win])
			}
			t.Logf("requests per window: %v (share %d)", per, tt.share)
			for win := first; win.Before(end); win = win.Add(time.Minute) {
				got := w.counts[win]
				assert.LessOrEqual(t, got, tt.share, "window %s: over the share", win.Format("15:04"))
				if win != first { // the first window is entered part-way
					assert.GreaterOrEqual(t, float64(got), 0.95*float64(tt.share), "window %s: a backlog must use the share", win.Format("15:04"))
				}
			}
			st := c.Stats()
			assert.Positive(t, st.Throttled)
			var slept time.Duration
			for _, d := range clk.Sleeps() {
				slept += d
			}
			assert.Equal(t, slept, st.Throttled, "every pacing sleep counts as throttled")
			assert.Equal(t, int64(len(clk.Sleeps())), st.Requests-1, "one pacing sleep between requests")
		})
	}
}

func TestFetchPacingWithoutHeaders(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk, reply{body: "[]"}, reply{body: "[]"}, reply{body: "[]"})
	c, _ := testClient(t, f.srv, clk, nil)
	for range 3 {
		_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 10}))
		require.NoError(t, err)
	}
	// As if the org had Okta's smallest limit (20/min): 10 requests a minute at 50 %.
	assert.Equal(t, []time.Duration{6 * time.Second, 6 * time.Second}, clk.Sleeps())
	assert.False(t, c.Stats().LastRate.Valid)
}

func TestFetch429WaitsForReset(t *testing.T) {
	clk := &fakeClock{now: t0}
	reset := t0.Add(37 * time.Second)
	f := newFakeOkta(t, clk,
		reply{status: 429, rate: rate(50, 0, reset), body: `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorLink":"E0000047","errorId":"oae429","errorCauses":[]}`},
		reply{rate: rate(50, 49, reset.Add(60*time.Second)), body: events(1, 0), links: []string{`<{srv}/api/v1/logs?after=1>; rel="next"`}},
	)
	c, logs := testClient(t, f.srv, clk, func(cfg *Config) { cfg.Rand = func() float64 { return 0 } })
	page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.NoError(t, err)
	assert.Equal(t, 2, page.Attempts)
	assert.Equal(t, []time.Duration{37*time.Second + 250*time.Millisecond}, clk.Sleeps(), "until Reset, plus slack")
	reqs := f.requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].URL.RequestURI(), reqs[1].URL.RequestURI(), "the same URL again")
	st := c.Stats()
	assert.Equal(t, int64(2), st.Requests)
	assert.Equal(t, int64(1), st.Retries)
	assert.Equal(t, int64(1), st.Responses429)
	assert.Equal(t, 37*time.Second+250*time.Millisecond, st.Throttled)
	assert.Contains(t, logs.String(), "level=WARN msg=\"oktainput retry\" attempt=1 status=429 errorId=oae429 wait=37.25s url=\"/api/v1/logs?sortOrder=ASCENDING&limit=1\"")
}

func TestFetch429ClockSkew(t *testing.T) {
	// Our clock is 40 s ahead of Okta's: the wait is measured on Okta's Date, not ours.
	clk := &fakeClock{now: t0}
	okta := &fakeClock{now: t0.Add(-40 * time.Second)}
	f := newFakeOkta(t, okta,
		reply{status: 429, rate: rate(50, 0, okta.now.Add(20*time.Second))},
		reply{rate: rate(50, 49, okta.now.Add(80*time.Second)), body: "[]"},
	)
	c, _ := testClient(t, f.srv, clk, func(cfg *Config) { cfg.Rand = func() float64 { return 0 } })
	_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{20*time.Second + 250*time.Millisecond}, clk.Sleeps())
}

func TestFetch429ImplausibleDate(t *testing.T) {
	// A server whose Date comes from another clock than its limiter (days apart): the wait
	// is measured on our clock instead.
	clk := &fakeClock{now: t0}
	other := &fakeClock{now: t0.Add(8 * 24 * time.Hour)}
	f := newFakeOkta(t, other,
		reply{status: 429, rate: rate(50, 0, t0.Add(20*time.Second))},
		reply{rate: rate(50, 49, t0.Add(80*time.Second)), body: "[]"},
	)
	c, _ := testClient(t, f.srv, clk, func(cfg *Config) { cfg.Rand = func() float64 { return 0 } })
	_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{20*time.Second + 250*time.Millisecond}, clk.Sleeps())
}

func TestFetchBacksOffExponentially(t *testing.T) {
	concurrency := `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oaeConc"}`
	tests := []struct {
		name       string
		fail       reply
		maxBackoff time.Duration
		want       []time.Duration // with jitter 0.5: 3/4 of 1s, 2s, 4s, ... capped
	}{
		{"concurrency 429", reply{status: 429, rate: rate(0, 0, t0.Add(time.Second)), body: concurrency}, 0,
			[]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second}},
		{"429 without headers", reply{status: 429, body: concurrency}, 0,
			[]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second}},
		{"429 with a stale reset", reply{status: 429, rate: rate(50, 0, t0.Add(-time.Minute)), body: concurrency}, 0,
			[]time.Duration{6 * time.Second, 6 * time.Second, 6 * time.Second, 6 * time.Second, 12 * time.Second}}, // never faster than the fallback pace
		{"capped", reply{status: 503, body: `{"errorCode":"E0000009","errorSummary":"Internal Server Error"}`}, 2 * time.Second,
			[]time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond, 1500 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			script := []reply{tt.fail, tt.fail, tt.fail, tt.fail, tt.fail, {body: "[]", rate: rate(1200, 1199, t0.Add(time.Hour))}}
			f := newFakeOkta(t, clk, script...)
			c, _ := testClient(t, f.srv, clk, func(cfg *Config) { cfg.MaxBackoff = tt.maxBackoff })
			page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
			require.NoError(t, err)
			assert.Equal(t, 6, page.Attempts)
			assert.Equal(t, tt.want, clk.Sleeps())
			assert.Equal(t, int64(5), c.Stats().Retries)
		})
	}
}

func TestFetchRetriesTransientFailures(t *testing.T) {
	clk := &fakeClock{now: t0}
	ok := rate(1200, 1199, t0.Add(time.Minute))
	f := newFakeOkta(t, clk,
		// First, on a fresh connection: net/http retries a GET by itself only on a reused one.
		reply{hijack: true},
		reply{status: 500, rate: ok, body: `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorLink":"E0000009","errorId":"oae500x","errorCauses":[]}`},
		reply{status: 502, body: "<html><body>Bad Gateway</body></html>"},
		reply{rate: ok, body: `[{"uuid":"a","published":"2024-05-01T11:00:00.000Z"},{"uuid":"b","publ`},
		reply{rate: ok, body: `<html>maintenance</html>`},
		reply{rate: ok, body: events(3, 0), links: []string{`</api/v1/logs?after=3>; rel="next"`}},
	)
	c, logs := testClient(t, f.srv, clk, nil)
	page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 3}))
	require.NoError(t, err)
	assert.Len(t, page.Events, 3)
	assert.Equal(t, 6, page.Attempts)
	assert.Equal(t, f.srv.URL+"/api/v1/logs?after=3", page.Next, "a relative link is resolved on the org")
	reqs := f.requests()
	require.Len(t, reqs, 6)
	for _, r := range reqs {
		assert.Equal(t, "/api/v1/logs?sortOrder=ASCENDING&limit=3", r.URL.RequestURI())
	}
	assert.Equal(t, []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 6 * time.Second, 12 * time.Second}, clk.Sleeps())
	st := c.Stats()
	assert.Equal(t, Stats{Requests: 6, Retries: 5, Throttled: 23250 * time.Millisecond, LastRate: page.Rate}, st)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Len(t, lines, 5)
	for i, want := range []string{
		`attempt=1 status=0 errorId="" wait=750ms`,
		`attempt=2 status=500 errorId=oae500x wait=1.5s`,
		`attempt=3 status=502 errorId="" wait=3s`,
		`attempt=4 status=200 errorId="" wait=6s`,
		`attempt=5 status=200 errorId="" wait=12s`,
	} {
		assert.Contains(t, lines[i], "level=WARN msg=\"oktainput retry\" "+want)
	}
	assert.Contains(t, lines[0], "EOF")
	assert.Contains(t, lines[2], "Bad Gateway")
	assert.Contains(t, lines[3], "unexpected EOF")
	assert.Contains(t, lines[4], "invalid character")
	assert.NotContains(t, logs.String(), testToken)
}

func TestFetchRetriesTimeouts(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk, reply{body: events(1, 0), rate: rate(50, 49, t0.Add(time.Minute))})
	calls := 0
	timeouts := []error{
		os.ErrDeadlineExceeded, // what a read deadline gives
		&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET},
		context.DeadlineExceeded, // the per-attempt timeout, while the caller's ctx lives on
	}
	base := f.srv.Client().Transport
	c, logs := testClient(t, f.srv, clk, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: NewSSWSTransport(testToken, roundTripFunc(func(r *http.Request) (*http.Response, error) {
			calls++
			if calls <= len(timeouts) {
				return nil, timeouts[calls-1]
			}
			return base.RoundTrip(r)
		}))}
	})
	page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.NoError(t, err)
	assert.Equal(t, 4, page.Attempts)
	assert.Equal(t, []time.Duration{750 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second}, clk.Sleeps())
	assert.Equal(t, 3, strings.Count(logs.String(), "status=0"))
	assert.Contains(t, logs.String(), "connection reset by peer")
}

func TestFetchErrorsNotRetried(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		want   []string
	}{
		{"401", 401, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeAbC123","errorCauses":[]}`,
			[]string{"okta: 401 E0000011 Invalid token provided (errorId oaeAbC123)", "[GET /api/v1/logs?sortOrder=ASCENDING&limit=1]", "revoked", "create a new API token in Okta Admin > Security > API > Tokens"}},
		{"403", 403, `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorId":"oae403","errorCauses":[]}`,
			[]string{"okta: 403 E0000006 You do not have permission to perform the requested action (errorId oae403)", "lacks permission to read the System Log", "okta.logs.read"}},
		{"400 with causes", 400, `{"errorCode":"E0000031","errorSummary":"Invalid search criteria.","errorId":"oae400","errorCauses":[{"errorSummary":"Invalid filter 'eventType eq'"}]}`,
			[]string{"okta: 400 E0000031 Invalid search criteria. (errorId oae400): Invalid filter 'eventType eq'"}},
		{"404 not json", 404, "<html>\n<head><title>404 Not Found</title></head>\n\n<body>nope</body></html>",
			[]string{"okta: 404 body: <html> <head><title>404 Not Found</title></head> <body>nope</body></html>", "check the org URL"}},
		{"400 empty", 400, "", []string{"okta: 400 [GET"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &fakeClock{now: t0}
			f := newFakeOkta(t, clk, reply{status: tt.status, body: tt.body, rate: rate(50, 49, t0.Add(time.Minute))})
			c, logs := testClient(t, f.srv, clk, nil)
			_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tt.status, apiErr.StatusCode)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, err.Error(), "SSWS")
			assert.Len(t, f.requests(), 1, "not retried")
			assert.Empty(t, clk.Sleeps())
			assert.Empty(t, logs.String())
		})
	}
}

func TestFetchRefusesOtherHosts(t *testing.T) {
	clk := &fakeClock{now: t0}
	ok := rate(50, 49, t0.Add(time.Minute))
	tests := []struct {
		name  string
		links []string
		want  string
	}{
		{"next to another host", []string{`<https://evil.example.com/api/v1/logs?after=1>; rel="next"`}, "next link: URL is not on the Okta org: refusing https://evil.example.com"},
		{"next over http", []string{`<http://{host}/api/v1/logs?after=1>; rel="next"`}, "next link: URL is not on the Okta org: refusing http://"},
		{"self to another port", []string{`<https://127.0.0.1:1/api/v1/logs>; rel="self"`}, "self link: URL is not on the Okta org"},
		{"next with credentials", []string{`<https://user:pw@{host}/api/v1/logs>; rel="next"`}, "next link: URL is not on the Okta org"},
		{"scheme-relative", []string{`<//evil.example.com/x>; rel="next"`}, "refusing https://evil.example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeOkta(t, clk)
			host := strings.TrimPrefix(f.srv.URL, "https://")
			var links []string
			for _, l := range tt.links {
				links = append(links, strings.ReplaceAll(l, "{host}", host))
			}
			f.script = []reply{{rate: ok, body: "[]", links: links}}
			c, _ := testClient(t, f.srv, clk, nil)
			_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
			require.ErrorIs(t, err, ErrForeignURL)
			assert.Contains(t, err.Error(), tt.want)
			assert.Len(t, f.requests(), 1, "not retried")
		})
	}

	f := newFakeOkta(t, clk)
	c, _ := testClient(t, f.srv, clk, nil)
	for _, u := range []string{"https://evil.example.com/api/v1/logs", "http://" + strings.TrimPrefix(f.srv.URL, "https://") + "/api/v1/logs", "/api/v1/logs"} {
		_, err := c.Fetch(context.Background(), u)
		require.ErrorIs(t, err, ErrForeignURL, u)
	}
	_, err := c.Fetch(context.Background(), "")
	require.ErrorContains(t, err, "okta: no URL to fetch")
	assert.Empty(t, f.requests(), "no request leaves for a URL off the org")
}

func TestFetchRefusesCrossHostRedirect(t *testing.T) {
	var evilReqs int
	var evilAuth string
	evil := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		evilReqs++
		evilAuth = r.Header.Get("Authorization")
		_, _ = io.WriteString(w, "[]")
	}))
	defer evil.Close()
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk,
		reply{status: 302, header: map[string]string{"Location": evil.URL + "/steal"}},
	)
	c, _ := testClient(t, f.srv, clk, nil)
	_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	evilURL, _ := url.Parse(evil.URL)
	require.ErrorIs(t, err, sameorigin.ErrRedirect)
	assert.Contains(t, err.Error(), sameorigin.Of(evilURL), "the error names the target")
	assert.NotContains(t, err.Error(), testToken)
	assert.Zero(t, evilReqs, "the token never reaches another host")
	assert.Empty(t, evilAuth)
	assert.Len(t, f.requests(), 1)

	// A redirect on the same host is followed.
	f.script = []reply{
		{status: 302, header: map[string]string{"Location": "/api/v1/logs?moved=1"}},
		{body: events(1, 0), rate: rate(50, 48, t0.Add(time.Minute))},
	}
	page, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.NoError(t, err)
	assert.Len(t, page.Events, 1)
}

func TestFetchStopsWhenContextEnds(t *testing.T) {
	clk := &fakeClock{now: t0}
	var script []reply
	for range 10 {
		script = append(script, reply{status: 503, body: `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorId":"oaeDown"}`})
	}
	f := newFakeOkta(t, clk, script...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clk.cancel, clk.cancelAfter = cancel, 3
	c, _ := testClient(t, f.srv, clk, nil)
	_, err := c.Fetch(ctx, c.PollURL(Query{Limit: 1}))
	require.ErrorIs(t, err, context.Canceled)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "the last error is kept")
	assert.Equal(t, "oaeDown", apiErr.ID)
	assert.Contains(t, err.Error(), "stopped after 3 attempts")
	assert.Len(t, f.requests(), 3)

	_, err = c.Fetch(ctx, c.PollURL(Query{Limit: 1}))
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, f.requests(), 3, "no request once ctx has ended")
}

func TestFetchBadEventNotRetried(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk, reply{rate: rate(50, 49, t0.Add(time.Minute)), body: `[{"uuid":"a","published":"2024-05-01T11:00:00Z"},{"published":"2024-05-01T11:00:00Z"}]`})
	c, _ := testClient(t, f.srv, clk, nil)
	_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 2}))
	var ee *EventError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 1, ee.Index)
	assert.Contains(t, err.Error(), "okta: GET /api/v1/logs?sortOrder=ASCENDING&limit=2: event 1 of the page")
	assert.Len(t, f.requests(), 1)
}

func TestStatsConcurrentUse(t *testing.T) {
	clk := &fakeClock{now: t0}
	var script []reply
	for range 20 {
		script = append(script, reply{body: "[]", rate: rate(1000, 999, t0.Add(time.Minute))})
	}
	f := newFakeOkta(t, clk, script...)
	c, _ := testClient(t, f.srv, clk, nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
				_ = c.Stats()
			}
		}
	})
	for range 20 {
		_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
		require.NoError(t, err)
	}
	close(stop)
	wg.Wait()
	assert.Equal(t, int64(20), c.Stats().Requests)
}

func TestTokenNeverPrinted(t *testing.T) {
	tr := NewSSWSTransport(testToken, http.DefaultTransport)
	hc := &http.Client{Transport: tr}
	c, err := New(Config{OrgURL: "https://acme.okta.com", HTTPClient: hc})
	require.NoError(t, err)
	cfg := Config{OrgURL: "https://acme.okta.com", HTTPClient: hc}
	for _, v := range []any{tr, hc, *hc, c, cfg, secret(testToken)} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x"} {
			out := fmt.Sprintf(verb, v)
			assert.NotContains(t, out, testToken, verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", testToken), verb)
		}
	}
	assert.Equal(t, "okta.SSWSTransport{token: [redacted]}", fmt.Sprint(tr))
}

func TestSSWSTransportClonesRequest(t *testing.T) {
	var got string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.Header.Get("Authorization")
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("[]")), Request: r}, nil
	})
	req, err := http.NewRequest(http.MethodGet, "https://acme.okta.com/api/v1/logs", nil)
	require.NoError(t, err)
	resp, err := NewSSWSTransport(testToken, base).RoundTrip(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, "SSWS "+testToken, got)
	assert.Empty(t, req.Header.Get("Authorization"), "the caller's request is not changed")
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewKeepsCallersClient(t *testing.T) {
	hc := &http.Client{Timeout: time.Second}
	_, err := New(Config{OrgURL: "https://acme.okta.com", HTTPClient: hc})
	require.NoError(t, err)
	assert.Nil(t, hc.CheckRedirect, "the caller's client is copied, not changed")
}

// A released page's memory is read into by the next fetch, and the new page's events are
// that page's bytes, whole; an unreleased page keeps its own memory.
func TestReleasedPageMemoryIsReused(t *testing.T) {
	clk := &fakeClock{now: t0}
	next := []string{`<{srv}/api/v1/logs?after=x>; rel="next"`}
	f := newFakeOkta(t, clk, reply{body: events(50, 0), links: next}, reply{body: events(50, 50), links: next},
		reply{body: events(50, 100), links: next})
	c, _ := testClient(t, f.srv, clk, nil)
	url := c.PollURL(Query{Since: t0.Add(-time.Hour), Limit: 50})
	first, err := c.Fetch(context.Background(), url)
	require.NoError(t, err)
	mem := unsafe.SliceData(first.Events[0].Raw)
	first.Release()
	assert.Nil(t, first.Events, "a released page has no events")

	second, err := c.Fetch(context.Background(), first.Next)
	require.NoError(t, err)
	assert.Same(t, mem, unsafe.SliceData(second.Events[0].Raw), "the second page is read into the first one's memory")
	assert.Equal(t, `{"uuid":"u50","published":"2024-05-01T11:00:50.000Z","eventType":"user.session.start"}`, string(second.Events[0].Raw))
	assert.Equal(t, "u99", second.Events[49].UUID)

	third, err := c.Fetch(context.Background(), second.Next) // second is not released
	require.NoError(t, err)
	assert.NotSame(t, mem, unsafe.SliceData(third.Events[0].Raw))
	assert.Equal(t, "u50", second.Events[0].UUID)
	assert.Equal(t, `{"uuid":"u99","published":"2024-05-01T11:00:39.000Z","eventType":"user.session.start"}`, string(second.Events[49].Raw))
	(*Page)(nil).Release() // a nil page or one from elsewhere is a no-op
	(&Page{}).Release()
}

package okta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pagedOkta serves pages by cursor: "?after=<i>" is page i, linking to page i+1; pages past
// the end are empty and link to themselves. bad makes the next answer for a page an invalid
// body, fail a 503. It tells seen about every request it answers.
type pagedOkta struct {
	srv   *httptest.Server
	pages []string
	mu    sync.Mutex
	reqs  []string
	bad   map[int]int // page -> invalid answers still to give
	fail  map[int]int // page -> 503 answers still to give
	seen  chan string
}

func newPagedOkta(t *testing.T, pages ...string) *pagedOkta {
	f := &pagedOkta{pages: pages, bad: map[int]int{}, fail: map[int]int{}, seen: make(chan string, 100)}
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *pagedOkta) url(i int) string { return fmt.Sprintf("%s/api/v1/logs?after=%d", f.srv.URL, i) }

func (f *pagedOkta) serve(w http.ResponseWriter, r *http.Request) {
	var i int
	fmt.Sscanf(r.URL.Query().Get("after"), "%d", &i)
	f.mu.Lock()
	f.reqs = append(f.reqs, r.URL.Query().Get("after"))
	bad, fail := f.bad[i] > 0, f.fail[i] > 0
	f.bad[i]--
	f.fail[i]--
	f.mu.Unlock()
	defer func() { f.seen <- r.URL.Query().Get("after") }()
	// A window with room and a reset long past: pacing asks for no wait.
	w.Header().Set("X-Rate-Limit-Limit", "1000")
	w.Header().Set("X-Rate-Limit-Remaining", "999")
	w.Header().Set("X-Rate-Limit-Reset", "1")
	if fail {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	body, next := "[]", f.url(i)
	if i < len(f.pages) {
		body, next = f.pages[i], f.url(i+1)
	}
	if bad {
		body = body[:len(body)-1] + `,{"uuid":}]`
	}
	w.Header().Set("Link", "<"+next+`>; rel="next"`)
	_, _ = io.WriteString(w, body)
}

func (f *pagedOkta) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

// waitSeen waits for the server to have answered a request for page after; the guard only
// turns a broken client into a failure instead of a hang.
func (f *pagedOkta) waitSeen(t *testing.T, after string) {
	t.Helper()
	for {
		select {
		case got := <-f.seen:
			if got == after {
				return
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("page %s was never requested", after)
		}
	}
}

// inFlight counts requests from RoundTrip until their body is closed, and keeps the most.
type inFlight struct {
	base     http.RoundTripper
	mu       sync.Mutex
	now, max int
}

func (c *inFlight) add(d int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now += d
	c.max = max(c.max, c.now)
}

func (c *inFlight) most() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.max
}

func (c *inFlight) RoundTrip(r *http.Request) (*http.Response, error) {
	c.add(1)
	resp, err := c.base.RoundTrip(r)
	if err != nil {
		c.add(-1)
		return nil, err
	}
	resp.Body = &countedBody{ReadCloser: resp.Body, done: func() { c.add(-1) }}
	return resp, nil
}

type countedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *countedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(b.done)
	return err
}

func aheadClient(t *testing.T, f *pagedOkta, clk Clock) (*Client, *inFlight, *bytes.Buffer) {
	t.Helper()
	counter := &inFlight{base: f.srv.Client().Transport}
	c, logs := testClient(t, f.srv, clk, func(cfg *Config) {
		cfg.HTTPClient = &http.Client{Transport: NewSSWSTransport(testToken, counter)}
	})
	return c, counter, logs
}

// FetchAhead sends the request for the next page before it returns the page in hand, the
// next FetchAhead takes that answer over instead of asking again, and only one request is
// ever in flight.
func TestFetchAheadRequestsTheNextPageEarly(t *testing.T) {
	f := newPagedOkta(t, events(3, 0), events(3, 3), events(2, 6))
	clk := &fakeClock{now: t0}
	c, counter, _ := aheadClient(t, f, clk)
	ctx := context.Background()

	var got []string
	url := f.url(0)
	for range 3 {
		page, err := c.FetchAhead(ctx, url)
		require.NoError(t, err)
		assert.Equal(t, 1, page.Attempts)
		for _, ev := range page.Events {
			got = append(got, ev.UUID)
		}
		url = page.Next
		// The next page's request goes out without the caller asking for it.
		f.waitSeen(t, strings.TrimPrefix(url, f.srv.URL+"/api/v1/logs?after="))
	}
	page, err := c.FetchAhead(ctx, url)
	require.NoError(t, err)
	assert.Empty(t, page.Events, "past the end: caught up")
	assert.Nil(t, c.ahead, "nothing is requested early after an empty page")

	assert.Equal(t, []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7"}, got)
	assert.Equal(t, []string{"0", "1", "2", "3"}, f.requests(), "each page requested once")
	assert.Equal(t, 1, counter.most(), "one request in flight at a time")
	assert.Equal(t, int64(4), c.Stats().Requests)
}

// A page that proves invalid once its next page was requested early: the early request is
// ended before the page is asked for again, and the page after it still arrives whole.
func TestFetchAheadInvalidPageEndsEarlyRequestBeforeRetrying(t *testing.T) {
	f := newPagedOkta(t, events(3, 0), events(3, 3))
	f.bad[0] = 1
	clk := &fakeClock{now: t0}
	c, counter, logs := aheadClient(t, f, clk)
	ctx := context.Background()

	first, err := c.FetchAhead(ctx, f.url(0))
	require.NoError(t, err)
	assert.Equal(t, 2, first.Attempts)
	assert.Equal(t, "u0", first.Events[0].UUID)
	second, err := c.FetchAhead(ctx, first.Next)
	require.NoError(t, err)
	assert.Equal(t, "u3", second.Events[0].UUID)
	assert.Len(t, second.Events, 3)
	c.StopAhead()

	assert.Equal(t, 1, counter.most(), "the retry waits until the early request has ended")
	assert.Equal(t, "0", f.requests()[0])
	assert.Equal(t, []time.Duration{750 * time.Millisecond}, clk.Sleeps(), "the invalid page is retried after a backoff")
	assert.Contains(t, logs.String(), "oktainput retry")
	assert.Equal(t, int64(1), c.Stats().Retries)
}

// An early request that fails counts as the first attempt at that page: the FetchAhead that
// takes it over backs off and asks again.
func TestFetchAheadEarlyFailureIsRetried(t *testing.T) {
	f := newPagedOkta(t, events(2, 0), events(2, 2))
	f.fail[1] = 1
	clk := &fakeClock{now: t0}
	c, counter, _ := aheadClient(t, f, clk)
	ctx := context.Background()

	first, err := c.FetchAhead(ctx, f.url(0))
	require.NoError(t, err)
	second, err := c.FetchAhead(ctx, first.Next)
	require.NoError(t, err)
	assert.Equal(t, 2, second.Attempts)
	assert.Equal(t, "u2", second.Events[0].UUID)
	c.StopAhead()
	assert.Equal(t, []string{"0", "1", "1"}, f.requests()[:3])
	assert.Equal(t, []time.Duration{750 * time.Millisecond}, clk.Sleeps())
	assert.Equal(t, 1, counter.most())
}

// Asking for another URL than the one requested early ends the early request first; so does
// StopAhead, which returns only once it has ended.
func TestFetchAheadOtherURLEndsEarlyRequest(t *testing.T) {
	f := newPagedOkta(t, events(2, 0), events(2, 2), events(2, 4))
	clk := &fakeClock{now: t0}
	c, counter, _ := aheadClient(t, f, clk)
	ctx := context.Background()

	_, err := c.FetchAhead(ctx, f.url(0))
	require.NoError(t, err)
	page, err := c.FetchAhead(ctx, f.url(2))
	require.NoError(t, err)
	assert.Equal(t, "u4", page.Events[0].UUID)
	require.NotNil(t, c.ahead, "page 3 is requested early")
	c.StopAhead()
	assert.Nil(t, c.ahead)
	assert.Equal(t, 1, counter.most())

	// An early request that ended with its context, not the caller's, is not an attempt.
	ectx, cancel := context.WithCancel(ctx)
	page, err = c.FetchAhead(ectx, f.url(0))
	require.NoError(t, err)
	cancel()
	page, err = c.FetchAhead(ctx, page.Next)
	require.NoError(t, err)
	assert.Equal(t, "u2", page.Events[0].UUID)
	assert.Equal(t, 1, page.Attempts)
	c.StopAhead()
}

// A stop while the early request is on its way: the FetchAhead that would take it over
// returns the context's error and sends nothing more.
func TestFetchAheadStops(t *testing.T) {
	f := newPagedOkta(t, events(2, 0), events(2, 2))
	clk := &fakeClock{now: t0}
	c, _, _ := aheadClient(t, f, clk)
	ctx, cancel := context.WithCancel(context.Background())
	page, err := c.FetchAhead(ctx, f.url(0))
	require.NoError(t, err)
	cancel()
	_, err = c.FetchAhead(ctx, page.Next)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "got %v", err)
	c.StopAhead()
	assert.LessOrEqual(t, len(f.requests()), 2)
}

func TestEmptyArray(t *testing.T) {
	for body, want := range map[string]bool{
		"[]": true, " [ ] \n": true, "[\n]": true,
		"": false, "[": false, "]": false, "[1]": false, `[{}]`: false, "{}": false, "[ x ]": false,
	} {
		assert.Equal(t, want, emptyArray([]byte(body)), "%q", body)
	}
}

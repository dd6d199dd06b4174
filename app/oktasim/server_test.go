package oktasim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "00test-token-value"

// fakeClock is a settable clock for rate-limit windows.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testNow is after every generated event, so the default since (7 days back) sees them all.
var testNow = DefaultStart.Add(25 * time.Hour)

func newTestServer(t *testing.T, opts Options, backlog [][]byte) (*Server, *httptest.Server, *fakeClock) {
	t.Helper()
	clock := &fakeClock{t: testNow}
	if opts.Token == "" {
		opts.Token = testToken
	}
	if opts.Now == nil {
		opts.Now = clock.Now
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 1 << 30
	}
	s, err := NewServer(opts, backlog)
	require.NoError(t, err)
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	return s, hs, clock
}

// response is what a test reads from one request.
type response struct {
	status int
	header http.Header
	body   []byte
	err    error // reading the body
}

func get(t *testing.T, url, token string) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "SSWS "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header, body, err}
}

var linkRE = regexp.MustCompile(`^<([^>]+)>; rel="(self|next)"$`)

// links returns the rel=self and rel=next URLs; each comes in its own Link header, as Okta sends them.
func links(t *testing.T, h http.Header) (self, next string) {
	t.Helper()
	for _, v := range h.Values("Link") {
		m := linkRE.FindStringSubmatch(v)
		require.NotNil(t, m, "Link header %q", v)
		if m[2] == "self" {
			self = m[1]
		} else {
			next = m[1]
		}
	}
	return self, next
}

func page(t *testing.T, r response) []json.RawMessage {
	t.Helper()
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var evs []json.RawMessage
	require.NoError(t, json.Unmarshal(r.body, &evs), "%s", r.body)
	return evs
}

// drain follows next links from first until an empty page, returning the events and the last next link.
func drain(t *testing.T, first string) ([]json.RawMessage, string) {
	t.Helper()
	var all []json.RawMessage
	url := first
	for range 100000 {
		r := get(t, url, testToken)
		evs := page(t, r)
		_, next := links(t, r.header)
		require.NotEmpty(t, next, "polling pages always carry a next link")
		if len(evs) == 0 {
			return all, next
		}
		all = append(all, evs...)
		url = next
	}
	t.Fatal("no end of pages")
	return nil, ""
}

func TestPagingDeliversTheBacklogOnceInOrder(t *testing.T) {
	backlog := Generate(GenOptions{Users: 40, Events: 307, Seed: 11})
	_, hs, _ := newTestServer(t, Options{}, backlog)
	for _, limit := range []int{1, 7, 100, 1000} {
		t.Run(strconv.Itoa(limit), func(t *testing.T) {
			got, _ := drain(t, hs.URL+"/api/v1/logs?since=2026-11-19T00:00:00Z&sortOrder=ASCENDING&limit="+strconv.Itoa(limit))
			require.Len(t, got, len(backlog))
			for i := range got {
				if !bytes.Equal(got[i], backlog[i]) {
					t.Fatalf("event %d differs:\n got %s\nwant %s", i, got[i], backlog[i])
				}
			}
		})
	}
}

func TestNewServerSortsTheBacklog(t *testing.T) {
	backlog := Generate(GenOptions{Events: 50, Seed: 2})
	reversed := make([][]byte, len(backlog))
	for i, e := range backlog {
		reversed[len(backlog)-1-i] = e
	}
	_, hs, _ := newTestServer(t, Options{}, reversed)
	got, _ := drain(t, hs.URL+"/api/v1/logs?limit=1000")
	require.Len(t, got, len(backlog))
	for i := range got {
		require.Equal(t, string(backlog[i]), string(got[i]))
	}
}

func TestPollingNextLinkThenAppendedEvents(t *testing.T) {
	all := Generate(GenOptions{Events: 30, Seed: 4})
	s, hs, _ := newTestServer(t, Options{}, all[:10])
	got, next := drain(t, hs.URL+"/api/v1/logs?since=2026-11-19T00:00:00.000Z&limit=4")
	require.Len(t, got, 10)

	// Caught up: the same next link keeps answering an empty page and itself as next.
	r := get(t, next, testToken)
	assert.Empty(t, page(t, r))
	self, again := links(t, r.header)
	assert.Equal(t, next, self)
	assert.Equal(t, next, again, "an empty page's next link points at the same position")

	require.NoError(t, s.Append(all[10:30]...))
	assert.Equal(t, 30, s.Len())
	more, _ := drain(t, next)
	require.Len(t, more, 20)
	for i := range more {
		assert.Equal(t, string(all[10+i]), string(more[i]))
	}

	// An event Okta persists late (published before the last one served) still arrives.
	late := bytes.Replace(all[0], []byte(member(all[0], `"uuid":`)), []byte("00000000-late-0000-0000-000000000000"), 1)
	_, next = drain(t, next)
	require.NoError(t, s.Append(late))
	got, _ = drain(t, next)
	require.Len(t, got, 1)
	assert.Equal(t, string(late), string(got[0]))
}

func TestSinceAndUntil(t *testing.T) {
	backlog := Generate(GenOptions{Events: 500, Seed: 5, Span: time.Hour})
	_, hs, _ := newTestServer(t, Options{}, backlog)
	mid := member(backlog[250], `"published":`)
	first := 250
	for first > 0 && member(backlog[first-1], `"published":`) == mid {
		first--
	}

	got, _ := drain(t, hs.URL+"/api/v1/logs?limit=1000&since="+mid)
	require.Len(t, got, len(backlog)-first)
	assert.Equal(t, string(backlog[first]), string(got[0]))

	// A bounded query (since and until) ends: its last page has no next link.
	url := hs.URL + "/api/v1/logs?limit=100&since=" + DefaultStart.Format(time.RFC3339) + "&until=" + mid
	var bounded []json.RawMessage
	for pages := 0; url != ""; pages++ {
		require.Less(t, pages, 10)
		r := get(t, url, testToken)
		bounded = append(bounded, page(t, r)...)
		_, url = links(t, r.header)
	}
	require.Len(t, bounded, first)
	assert.Equal(t, string(backlog[first-1]), string(bounded[first-1]))

	// Without since, a query starts 7 days back, as Okta's does.
	all, _ := drain(t, hs.URL+"/api/v1/logs?limit=1000")
	assert.Len(t, all, len(backlog))
}

func TestQueryValidation(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{}, Generate(GenOptions{Events: 150, Seed: 1}))
	tests := []struct {
		query  string
		status int
		events int
		field  string
	}{
		{"", 200, 100, ""},
		{"limit=1", 200, 1, ""},
		{"limit=1000", 200, 150, ""},
		{"limit=0", 400, 0, "limit"},
		{"limit=1001", 400, 0, "limit"},
		{"limit=-5", 400, 0, "limit"},
		{"limit=ten", 400, 0, "limit"},
		{"sortOrder=ASCENDING", 200, 100, ""},
		{"sortOrder=DESCENDING", 400, 0, "sortOrder"},
		{"since=yesterday", 400, 0, "since"},
		{"until=soon", 400, 0, "until"},
		{"after=1_1&since=2026-11-20T00:00:00Z", 400, 0, "after"},
		{"after=nonsense", 400, 0, "after"},
		{"after=0_99999", 400, 0, "after"},
		{"after=123_5", 400, 0, "after"}, // a cursor from another store
		{"filter=" + "eventType+eq+%22user.session.start%22", 400, 0, "filter"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := get(t, hs.URL+"/api/v1/logs?"+tt.query, testToken)
			require.Equal(t, tt.status, r.status, "%s", r.body)
			if tt.status == 200 {
				assert.Len(t, page(t, r), tt.events)
				return
			}
			var e oktaError
			require.NoError(t, json.Unmarshal(r.body, &e))
			assert.Equal(t, "E0000001", e.ErrorCode)
			assert.Equal(t, "Api validation failed: "+tt.field, e.ErrorSummary)
			require.Len(t, e.ErrorCauses, 1)
			assert.True(t, strings.HasPrefix(e.ErrorCauses[0].ErrorSummary, tt.field+": "))
		})
	}

	r := get(t, hs.URL+"/api/v1/users", testToken)
	assert.Equal(t, http.StatusNotFound, r.status)
	resp, err := http.Post(hs.URL+"/api/v1/logs", "application/json", nil)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

type oktaError struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
}

func decodeError(t *testing.T, r response) oktaError {
	t.Helper()
	var e oktaError
	require.NoError(t, json.Unmarshal(r.body, &e), "%s", r.body)
	require.NotNil(t, e.ErrorCauses, "errorCauses is an array")
	require.True(t, strings.HasPrefix(e.ErrorID, "oae"), e.ErrorID)
	assert.Equal(t, e.ErrorCode, e.ErrorLink)
	return e
}

func TestAuthentication(t *testing.T) {
	s, hs, _ := newTestServer(t, Options{}, Generate(GenOptions{Events: 5}))
	tests := []struct {
		name   string
		header string
		status int
	}{
		{"right token", "SSWS " + testToken, 200},
		{"no header", "", 401},
		{"bearer", "Bearer " + testToken, 401},
		{"wrong token", "SSWS 00wrong", 401},
		{"prefix of the token", "SSWS " + testToken[:5], 401},
		{"lower-case scheme", "ssws " + testToken, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, hs.URL+"/api/v1/logs", nil)
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			require.Equal(t, tt.status, resp.StatusCode)
			assert.NotEmpty(t, resp.Header.Get("X-Rate-Limit-Remaining"), "rate-limit headers on every response")
			if tt.status == 401 {
				e := decodeError(t, response{body: body})
				assert.Equal(t, "E0000011", e.ErrorCode)
				assert.Equal(t, "Invalid token provided", e.ErrorSummary)
				assert.NotContains(t, string(body), testToken)
			}
		})
	}

	s.SetToken("00rotated")
	assert.Equal(t, 401, get(t, hs.URL+"/api/v1/logs", testToken).status, "a revoked token is refused")
	assert.Equal(t, 200, get(t, hs.URL+"/api/v1/logs", "00rotated").status)
	assert.Equal(t, int64(len(tests)-1+1), s.Stats().Unauthorized)

	_, err := NewServer(Options{}, nil)
	assert.Error(t, err, "a server without a token")
}

func TestRateLimit(t *testing.T) {
	s, hs, clock := newTestServer(t, Options{RateLimit: 3, Window: time.Minute}, Generate(GenOptions{Events: 10}))
	clock.t = time.Date(2026, 11, 21, 10, 0, 15, 0, time.UTC)
	reset := strconv.FormatInt(time.Date(2026, 11, 21, 10, 1, 0, 0, time.UTC).Unix(), 10)
	url := hs.URL + "/api/v1/logs?limit=1"
	for i, want := range []string{"2", "1", "0"} {
		r := get(t, url, testToken)
		require.Equal(t, 200, r.status, "request %d", i+1)
		assert.Equal(t, "3", r.header.Get("X-Rate-Limit-Limit"))
		assert.Equal(t, want, r.header.Get("X-Rate-Limit-Remaining"))
		assert.Equal(t, reset, r.header.Get("X-Rate-Limit-Reset"))
	}
	r := get(t, url, testToken)
	require.Equal(t, http.StatusTooManyRequests, r.status)
	assert.Equal(t, "3", r.header.Get("X-Rate-Limit-Limit"))
	assert.Equal(t, "0", r.header.Get("X-Rate-Limit-Remaining"))
	assert.Equal(t, reset, r.header.Get("X-Rate-Limit-Reset"))
	assert.Equal(t, "E0000047", decodeError(t, r).ErrorCode)
	assert.Empty(t, r.header.Values("Link"), "a refused request carries no page")

	clock.Add(45 * time.Second) // 10:01:00, a new window
	r = get(t, url, testToken)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "2", r.header.Get("X-Rate-Limit-Remaining"))

	st := s.Stats()
	assert.Equal(t, Stats{Requests: 5, RateLimited: 1, Pages: 4, EventsServed: 4, MaxWindowRequests: 4}, st)
}

func TestFaults(t *testing.T) {
	backlog := Generate(GenOptions{Events: 20, Seed: 9})
	tests := []struct {
		kind  FaultKind
		check func(t *testing.T, r response)
	}{
		{FaultServerError, func(t *testing.T, r response) {
			require.Equal(t, 500, r.status)
			assert.Equal(t, "E0000009", decodeError(t, r).ErrorCode)
		}},
		{FaultUnavailable, func(t *testing.T, r response) {
			require.Equal(t, 503, r.status)
			assert.False(t, json.Valid(r.body))
		}},
		{FaultConcurrency, func(t *testing.T, r response) {
			require.Equal(t, 429, r.status)
			assert.Equal(t, "0", r.header.Get("X-Rate-Limit-Limit"))
			assert.Equal(t, "0", r.header.Get("X-Rate-Limit-Remaining"))
			assert.Equal(t, "E0000047", decodeError(t, r).ErrorCode)
		}},
		{FaultRevoked, func(t *testing.T, r response) {
			require.Equal(t, 401, r.status)
			assert.Equal(t, "E0000011", decodeError(t, r).ErrorCode)
		}},
		{FaultInvalidJSON, func(t *testing.T, r response) {
			require.Equal(t, 200, r.status)
			require.NoError(t, r.err)
			assert.False(t, json.Valid(r.body))
			assert.Equal(t, strconv.Itoa(len(r.body)), r.header.Get("Content-Length"))
		}},
		{FaultTruncate, func(t *testing.T, r response) {
			require.Equal(t, 200, r.status)
			require.ErrorIs(t, r.err, io.ErrUnexpectedEOF)
			assert.True(t, bytes.HasPrefix(r.body, []byte(`[{"actor":`)), "a valid prefix: %.40s", r.body)
			assert.False(t, json.Valid(r.body))
		}},
		{FaultSlow, func(t *testing.T, r response) {
			require.Equal(t, 200, r.status)
			assert.True(t, json.Valid(r.body))
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			var slept []time.Duration
			sleep := func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
			s, hs, _ := newTestServer(t, Options{Sleep: sleep, SlowDelay: 7 * time.Second}, backlog)
			url := hs.URL + "/api/v1/logs?limit=5&since=2026-11-19T00:00:00Z"
			first := get(t, url, testToken)
			_, next := links(t, first.header)

			s.InjectNext(tt.kind)
			tt.check(t, get(t, next, testToken))
			if tt.kind == FaultSlow {
				assert.Equal(t, []time.Duration{7 * time.Second}, slept)
			}

			// The fault delivered nothing: following the same link again gets the page.
			again := get(t, next, testToken)
			assert.Equal(t, string(backlog[5]), string(page(t, again)[0]))
			st := s.Stats()
			assert.Equal(t, int64(1), st.Faults)
			wantEvents := int64(10)
			if tt.kind == FaultSlow {
				wantEvents = 15 // a slow page is a page
			}
			assert.Equal(t, wantEvents, st.EventsServed)
		})
	}
}

func TestScheduledAndRandomFaults(t *testing.T) {
	backlog := Generate(GenOptions{Events: 5})
	faults, err := ParseFaults("503@2-3,500@5")
	require.NoError(t, err)
	_, hs, _ := newTestServer(t, Options{Faults: faults}, backlog)
	var statuses []int
	for range 6 {
		statuses = append(statuses, get(t, hs.URL+"/api/v1/logs", testToken).status)
	}
	assert.Equal(t, []int{200, 503, 503, 200, 500, 200}, statuses)

	run := func(seed uint64) []int {
		_, hs, _ := newTestServer(t, Options{Faults: []Fault{{Kind: FaultServerError, Probability: 0.3}}, FaultSeed: seed}, backlog)
		var failed []int
		for i := range 200 {
			if get(t, hs.URL+"/api/v1/logs", testToken).status == 500 {
				failed = append(failed, i)
			}
		}
		return failed
	}
	a := run(1)
	assert.InDelta(t, 60, len(a), 25, "about 30%% of 200 requests fail")
	assert.Equal(t, a, run(1), "the same seed fails the same requests")
}

func TestLiveAppendsOverTime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := NewServer(Options{Token: testToken}, nil)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- s.Live(ctx, 2*time.Second, NewStream(GenOptions{Seed: 3})) }()
		time.Sleep(21 * time.Second)
		synctest.Wait()
		assert.Equal(t, 10, s.Len())
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)

		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, "/api/v1/logs?limit=1000", nil)
		req.Header.Set("Authorization", "SSWS "+testToken)
		s.ServeHTTP(rec, req)
		var evs []json.RawMessage
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &evs))
		require.Len(t, evs, 10)
		// Published follows the (fake) clock: one event every two seconds.
		assert.Equal(t, time.Now().Add(-19*time.Second).UTC().Format(publishedLayout), member(evs[0], `"published":`))
	})
}

func TestAppendRejectsNonEvents(t *testing.T) {
	s, err := NewServer(Options{Token: testToken}, nil)
	require.NoError(t, err)
	for _, raw := range []string{`not json`, `{"uuid":"x"}`, `{"uuid":"x","published":"yesterday"}`, `{"published":"2026-11-20T00:00:00.000Z"}`} {
		err := s.Append([]byte(raw))
		assert.True(t, errors.Is(err, ErrEvent), "%s: %v", raw, err)
	}
	assert.Zero(t, s.Len())
	_, err = NewServer(Options{Token: testToken}, [][]byte{[]byte(`[]`)})
	assert.ErrorIs(t, err, ErrEvent)
}

func TestBaseURL(t *testing.T) {
	_, hs, _ := newTestServer(t, Options{BaseURL: "https://acme.okta.com/"}, Generate(GenOptions{Events: 3}))
	r := get(t, hs.URL+"/api/v1/logs?limit=2", testToken)
	self, next := links(t, r.header)
	assert.Equal(t, "https://acme.okta.com/api/v1/logs?limit=2", self)
	assert.Regexp(t, `^https://acme\.okta\.com/api/v1/logs\?limit=2&after=\d+_2&sortOrder=ASCENDING$`, next)
}

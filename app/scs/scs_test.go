package scs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/okta"
)

const (
	testToken  = "eyJSECRET.ACCESS.TOKEN"
	testTenant = "acme"
)

// wireEvent is an event as the ingest service reads it.
type wireEvent struct {
	Body       json.RawMessage `json:"body"`
	Host       string          `json:"host"`
	ID         string          `json:"id"`
	Source     string          `json:"source"`
	Sourcetype string          `json:"sourcetype"`
	Timestamp  int64           `json:"timestamp"`
}

// fakeIngest behaves like POST /<tenant>/ingest/v1beta2/events: bearer token, a JSON array
// of events, {"code","message"} replies, and its errors.
type fakeIngest struct {
	token    string
	mu       sync.Mutex
	posts    int
	batches  [][]wireEvent
	failNext []int
	hangUp   int
	okBody   string
}

func newFakeIngest(t *testing.T) (*fakeIngest, *httptest.Server) {
	f := &fakeIngest{token: testToken, okBody: `{"code":"SUCCESS","message":"Success"}`}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{tenant}/ingest/v1beta2/events", f.events)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func reply(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"code":%q,"message":%q}`, code, msg)
}

func (f *fakeIngest) events(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	if f.hangUp > 0 {
		f.hangUp--
		if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
			conn.Close()
		}
		return
	}
	if len(f.failNext) > 0 {
		st := f.failNext[0]
		f.failNext = f.failNext[1:]
		reply(w, st, fmt.Sprint(st), http.StatusText(st))
		return
	}
	if r.PathValue("tenant") != testTenant {
		reply(w, http.StatusNotFound, "404", "tenant not found")
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+f.token {
		reply(w, http.StatusUnauthorized, "401", "Error validating request")
		return
	}
	var evs []wireEvent
	if err := json.NewDecoder(r.Body).Decode(&evs); err != nil || len(evs) == 0 {
		reply(w, http.StatusBadRequest, "INVALID_DATA", "bad events")
		return
	}
	f.batches = append(f.batches, evs)
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, f.okBody)
}

func (f *fakeIngest) received() []wireEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []wireEvent
	for _, b := range f.batches {
		out = append(out, b...)
	}
	return out
}

type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	onSlp  func()
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.onSlp != nil {
		c.onSlp()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

func makeEvents(n int) []okta.Event {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	out := make([]okta.Event, n)
	for i := range out {
		pub := base.Add(time.Duration(i)*time.Second + 7*time.Millisecond)
		uuid := fmt.Sprintf("uuid-%04d", i)
		raw := fmt.Sprintf(`{"uuid":"%s","published":"%s","displayMessage":"caf\u00e9 <b> & \"q\"","n":1.50}`,
			uuid, pub.Format("2006-01-02T15:04:05.000Z"))
		out[i] = okta.Event{UUID: uuid, Published: pub, Raw: []byte(raw)}
	}
	return out
}

func newTestSink(t *testing.T, srvURL string, clock *fakeClock, mod func(*Config)) (*Sink, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg := Config{
		Tenant: testTenant, BaseURL: srvURL, Token: testToken, Source: "okta:im2", Host: "poller-1",
		Now: clock.Now, Sleep: clock.Sleep, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	return s, &logs
}

func TestWritePage(t *testing.T) {
	ev := makeEvents(1)[0] // all events are the same size
	one := eventOverhead + len("okta:im2") + len(DefaultSourcetype) + len("poller-1") + jsonSize(ev.Raw) + len(ev.UUID)
	tests := []struct {
		name        string
		events      int
		batchEvents int
		batchBytes  int
		failNext    []int
		hangUp      int
		okBody      string
		wantPosts   int
		wantBatches []int
		wantSleeps  int
	}{
		{name: "one batch", events: 10, wantPosts: 1, wantBatches: []int{10}},
		{name: "batches by count", events: 7, batchEvents: 3, wantPosts: 3, wantBatches: []int{3, 3, 1}},
		{name: "batches by bytes", events: 5, batchBytes: 3*one - 1, wantPosts: 3, wantBatches: []int{2, 2, 1}},
		{name: "count capped at the service's 500", events: 1200, batchEvents: 5000, wantPosts: 3, wantBatches: []int{500, 500, 200}},
		{name: "503 then success", events: 3, failNext: []int{503, 500}, wantPosts: 3, wantBatches: []int{3}, wantSleeps: 2},
		{name: "429 then success", events: 3, failNext: []int{429}, wantPosts: 2, wantBatches: []int{3}, wantSleeps: 1},
		{name: "connection cut then success", events: 3, hangUp: 1, wantPosts: 2, wantBatches: []int{3}, wantSleeps: 1},
		{name: "2xx with an unreadable body is accepted", events: 2, okBody: "OK", wantPosts: 1, wantBatches: []int{2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeIngest(t)
			f.failNext, f.hangUp = tt.failNext, tt.hangUp
			if tt.okBody != "" {
				f.okBody = tt.okBody
			}
			clock := &fakeClock{now: time.Unix(1714557600, 0)}
			s, logs := newTestSink(t, srv.URL, clock, func(c *Config) { c.BatchEvents, c.BatchBytes = tt.batchEvents, tt.batchBytes })
			evs := makeEvents(tt.events)

			require.NoError(t, s.WritePage(t.Context(), evs))

			assert.Equal(t, tt.wantPosts, f.posts)
			var sizes []int
			for _, b := range f.batches {
				sizes = append(sizes, len(b))
			}
			assert.Equal(t, tt.wantBatches, sizes)
			assert.Len(t, clock.sleeps, tt.wantSleeps)
			got := f.received()
			require.Len(t, got, len(evs))
			for i, e := range got {
				assert.JSONEq(t, string(evs[i].Raw), string(e.Body), "event %d is the same JSON value", i)
				assert.Equal(t, evs[i].UUID, e.ID)
				assert.Equal(t, evs[i].Published.UnixMilli(), e.Timestamp)
				assert.Equal(t, "OktaIM2:log", e.Sourcetype)
				assert.Equal(t, "okta:im2", e.Source)
				assert.Equal(t, "poller-1", e.Host)
			}
			assert.NotContains(t, logs.String(), testToken)
		})
	}
}

func TestFatal(t *testing.T) {
	tests := []struct {
		name       string
		token      string
		tenant     string
		failNext   []int
		wantStatus int
		want       string
	}{
		{name: "expired token", token: "eyJEXPIRED.TOKEN", tenant: testTenant, wantStatus: 401, want: "access token was rejected"},
		{name: "forbidden", token: testToken, tenant: testTenant, failNext: []int{403}, wantStatus: 403, want: `may not ingest into tenant "acme"`},
		{name: "unknown tenant", token: testToken, tenant: "nope", wantStatus: 404, want: `no ingest endpoint for tenant "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeIngest(t)
			f.failNext = tt.failNext
			clock := &fakeClock{now: time.Unix(1714557600, 0)}
			s, logs := newTestSink(t, srv.URL, clock, func(c *Config) { c.Token, c.Tenant = tt.token, tt.tenant })
			err := s.WritePage(t.Context(), makeEvents(3))
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantStatus, e.Status)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, 1, f.posts, "not retried")
			assert.Empty(t, clock.sleeps)
			assert.NotContains(t, err.Error(), tt.token)
			assert.NotContains(t, logs.String(), tt.token)
		})
	}
}

func TestGivesUp(t *testing.T) {
	f, srv := newFakeIngest(t)
	for range 500 {
		f.failNext = append(f.failNext, 503)
	}
	clock := &fakeClock{now: time.Unix(1714557600, 0)}
	s, _ := newTestSink(t, srv.URL, clock, func(c *Config) { c.RetryFor = time.Minute; c.MaxBackoff = 5 * time.Second })
	err := s.WritePage(t.Context(), makeEvents(1))
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 503, e.Status)
	assert.Contains(t, err.Error(), "gave up after retrying for 1m0s")
	for _, d := range clock.sleeps {
		assert.LessOrEqual(t, d, 5*time.Second)
	}
	assert.Empty(t, f.received())
}

func TestContextCancel(t *testing.T) {
	f, srv := newFakeIngest(t)
	f.failNext = []int{503, 503}
	ctx, cancel := context.WithCancel(t.Context())
	clock := &fakeClock{now: time.Unix(1714557600, 0), onSlp: cancel}
	s, _ := newTestSink(t, srv.URL, clock, nil)
	err := s.WritePage(ctx, makeEvents(1))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.posts)

	// A cancelled context also stops a request before it is sent: the SDK's requests get the
	// page's context through our transport.
	err = s.WritePage(ctx, makeEvents(1))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.posts)
}

func TestTokenSource(t *testing.T) {
	f, srv := newFakeIngest(t)
	calls := 0
	clock := &fakeClock{now: time.Unix(1714557600, 0)}
	s, _ := newTestSink(t, srv.URL, clock, func(c *Config) {
		c.Token = ""
		c.TokenSource = func() (string, error) { calls++; return testToken, nil }
	})
	require.NoError(t, s.WritePage(t.Context(), makeEvents(2)))
	require.NoError(t, s.WritePage(t.Context(), makeEvents(2)))
	assert.Len(t, f.received(), 4)
	assert.GreaterOrEqual(t, calls, 3, "asked at New and before each request")
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no tenant", Config{Token: "t"}, "tenant: empty"},
		{"no token", Config{Tenant: "a"}, "exactly one of a token and a token source"},
		{"two tokens", Config{Tenant: "a", Token: "t", TokenSource: func() (string, error) { return "", nil }}, "exactly one"},
		{"host and base url", Config{Tenant: "a", Token: "t", Hostname: "h", BaseURL: "https://x"}, "not both"},
		{"base url with path", Config{Tenant: "a", Token: "t", BaseURL: "https://x/api"}, "want https://host[:port]"},
		{"base url with password", Config{Tenant: "a", Token: "t", BaseURL: "https://u:hunter2@x"}, "want https://host[:port]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "hunter2")
		})
	}
}

func TestDefaultEndpoint(t *testing.T) {
	// No network: the transport records the URL the SDK built and answers itself.
	var got string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		got = r.URL.String()
		return &http.Response{StatusCode: 200, Body: io.NopCloser(bytes.NewReader([]byte(`{"code":"SUCCESS"}`))), Header: http.Header{}}, nil
	})
	s, err := New(Config{Tenant: "acme", Token: "t", HTTPClient: &http.Client{Transport: rt}})
	require.NoError(t, err)
	require.NoError(t, s.WritePage(t.Context(), makeEvents(1)))
	assert.Equal(t, "https://api.scp.splunk.com/acme/ingest/v1beta2/events", got)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

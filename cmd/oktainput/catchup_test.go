package main

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/oktasim"
	"github.com/oktasight/oktasight/app/poll"
)

// simClock is one simulated clock for the client, the poller and the simulated org: sleeps
// return at once and move time forward, so minutes of rate-limit windows run in milliseconds.
type simClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *simClock) Sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
	return nil
}

type countSink struct{ n int }

func (s *countSink) WritePage(_ context.Context, evs []okta.Event) error { s.n += len(evs); return nil }

// TestCatchUpUsesTheBudget reads a backlog against an org whose /api/v1/logs limit is 50
// requests a minute: with rate_limit_pct=50 the input may send 25 a minute, must never get a
// 429, and must use at least 95% of its share while it catches up.
func TestCatchUpUsesTheBudget(t *testing.T) {
	const limit, pct, pageSize, total = 50, 50, 100, 10_000
	clock := &simClock{now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	events := oktasim.Generate(oktasim.GenOptions{Users: 200, Events: total, Start: clock.now.Add(-24 * time.Hour), Span: 20 * time.Hour, Seed: 3})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	sim, err := oktasim.NewServer(oktasim.Options{Token: token, RateLimit: limit, Window: time.Minute, Now: clock.Now, BaseURL: "https://" + addr}, events)
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", clock.Now().Format(http.TimeFormat)) // the org's clock is the simulated one
		sim.ServeHTTP(w, r)
	}))
	hs.Listener.Close()
	hs.Listener = ln
	hs.Start()
	defer hs.Close()
	// CheckOrgURL wants https; the simulated org speaks http on loopback, so build the client
	// around a transport that rewrites the scheme.
	client, err := okta.New(okta.Config{
		OrgURL:       "https://" + hs.Listener.Addr().String(),
		HTTPClient:   &http.Client{Transport: okta.NewSSWSTransport(token, toHTTP{http.DefaultTransport})},
		RateLimitPct: pct,
		Clock:        clock,
	})
	require.NoError(t, err)
	sink := &countSink{}
	start := clock.Now()
	p := poll.New(poll.Config{
		Key: "k", OrgURL: client.OrgURL(), Since: start.Add(-25 * time.Hour), PageLimit: pageSize,
		PollInterval: 10 * time.Second, ExitWhenCaughtUp: true,
	}, client, &checkpoint.FileStore{Dir: t.TempDir()}, sink, nil, clock)
	require.NoError(t, p.Run(context.Background()))

	st := sim.Stats()
	elapsed := clock.Now().Sub(start)
	pages := float64(total)/pageSize + 1 // the last, empty page says "caught up"
	share := float64(limit*pct/100) * elapsed.Minutes()
	t.Logf("%d events in %d requests over %s simulated: %.1f%% of the %d-per-minute share; max %d requests in a window; %d 429s",
		sink.n, st.Requests, elapsed.Round(time.Second), 100*pages/share, limit*pct/100, st.MaxWindowRequests, st.RateLimited)
	assert.Equal(t, total, sink.n)
	assert.Zero(t, st.RateLimited, "never a 429")
	assert.LessOrEqual(t, st.MaxWindowRequests, limit*pct/100, "never more than the share in a window")
	assert.GreaterOrEqual(t, pages/share, 0.95, "the backlog is read at >= 95%% of the share")
}

type toHTTP struct{ base http.RoundTripper }

func (t toHTTP) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme = "http"
	return t.base.RoundTrip(r)
}

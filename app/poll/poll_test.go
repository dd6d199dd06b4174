package poll

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/splunklog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func ev(i int) okta.Event {
	id := fmt.Sprintf("uuid-%04d", i)
	return okta.Event{UUID: id, Published: t0.Add(time.Duration(i) * time.Second), Raw: []byte(`{"uuid":"` + id + `"}`)}
}

// fakeOkta serves pages by URL: page i lives at "u<i>" and points to "u<i+1>"; past the end,
// an empty page points to itself. Fail makes the call for a URL fail once.
type fakeOkta struct {
	mu       sync.Mutex
	pages    [][]okta.Event
	fetched  []string
	fail     map[string]error
	onFetch  func(url string)
	pollURLs []okta.Query
}

func (f *fakeOkta) PollURL(q okta.Query) string {
	f.pollURLs = append(f.pollURLs, q)
	return "u0"
}

// StopAhead has nothing to stop: fakeOkta requests nothing early.
func (f *fakeOkta) StopAhead() {}

func (f *fakeOkta) FetchAhead(ctx context.Context, url string) (*okta.Page, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err // like the real client: no request once the input stops
	}
	f.fetched = append(f.fetched, url)
	if f.onFetch != nil {
		f.onFetch(url)
	}
	if err := f.fail[url]; err != nil {
		delete(f.fail, url)
		return nil, err
	}
	var i int
	fmt.Sscanf(url, "u%d", &i)
	if i >= len(f.pages) {
		return &okta.Page{Next: url}, nil
	}
	return &okta.Page{Events: f.pages[i], Next: fmt.Sprintf("u%d", i+1)}, nil
}

func (f *fakeOkta) Stats() okta.Stats { return okta.Stats{} }

type memStore struct {
	mu    sync.Mutex
	cps   map[string]checkpoint.Checkpoint
	saves int
	err   error
}

func (m *memStore) Load(_ context.Context, key string) (*checkpoint.Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cp, ok := m.cps[key]
	if !ok {
		return nil, checkpoint.ErrNotFound
	}
	return &cp, nil
}

func (m *memStore) Save(_ context.Context, key string, cp *checkpoint.Checkpoint) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	if m.cps == nil {
		m.cps = map[string]checkpoint.Checkpoint{}
	}
	c := *cp
	c.Seen = append([]string(nil), cp.Seen...)
	m.cps[key] = c
	m.saves++
	return nil
}

// recSink records delivered events and, as a check of the ordering rule, what the checkpoint
// said when each page was written.
type recSink struct {
	got      []string
	store    *memStore
	cpAtPage []string
	err      error
}

func (s *recSink) WritePage(_ context.Context, events []okta.Event) error {
	if s.err != nil {
		return s.err
	}
	if s.store != nil {
		cp, _ := s.store.Load(context.Background(), "k")
		next := ""
		if cp != nil {
			next = cp.NextURL
		}
		s.cpAtPage = append(s.cpAtPage, next)
	}
	for _, e := range events {
		s.got = append(s.got, e.UUID)
	}
	return nil
}

type fakeClock struct {
	now    time.Time
	sleeps int
	stopAt int
	cancel context.CancelFunc
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.sleeps++
	c.now = c.now.Add(d)
	if c.sleeps >= c.stopAt && c.cancel != nil {
		c.cancel()
		return context.Canceled
	}
	return ctx.Err()
}

func pages(sizes ...int) [][]okta.Event {
	var out [][]okta.Event
	n := 0
	for _, s := range sizes {
		var p []okta.Event
		for j := 0; j < s; j++ {
			p = append(p, ev(n))
			n++
		}
		out = append(out, p)
	}
	return out
}

func ids(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("uuid-%04d", i))
	}
	return out
}

func cfg() Config {
	return Config{Key: "k", OrgURL: "https://acme.okta.com", Since: t0, PageLimit: 3, PollInterval: 10 * time.Second, ExitWhenCaughtUp: true}
}

func TestRunDeliversEveryPageThenCheckpoints(t *testing.T) {
	f := &fakeOkta{pages: pages(3, 3, 2)}
	store := &memStore{}
	sink := &recSink{store: store}
	err := New(cfg(), f, store, sink, nil, &fakeClock{now: t0}).Run(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ids(0, 8), sink.got)
	assert.Equal(t, []string{"u0", "u1", "u2", "u3"}, f.fetched)
	// When page i is written, the checkpoint still points at page i: it moves only after.
	assert.Equal(t, []string{"", "u1", "u2"}, sink.cpAtPage)
	cp := store.cps["k"]
	assert.Equal(t, "u3", cp.NextURL)
	assert.Equal(t, "uuid-0007", cp.LastUUID)
	assert.EqualValues(t, 8, cp.Events)
	assert.Equal(t, checkpoint.Version, cp.Version)
	require.Len(t, f.pollURLs, 1)
	assert.Equal(t, 3, f.pollURLs[0].Limit)
}

func TestRunResumesAndSkipsSeen(t *testing.T) {
	f := &fakeOkta{pages: pages(3, 3, 2)}
	store := &memStore{}
	require.NoError(t, New(cfg(), f, store, &recSink{}, nil, &fakeClock{now: t0}).Run(context.Background()))

	// A crash after page u1 was written but before its checkpoint: the checkpoint says u1 and
	// its seen set holds page u0 only. The restart fetches u1 again and delivers it once more
	// (at most one page repeats); a re-served page u0 would be skipped.
	cp := store.cps["k"]
	cp.NextURL = "u0"
	cp.Seen = ids(0, 3)
	store.cps["k"] = cp
	f2 := &fakeOkta{pages: f.pages}
	sink := &recSink{}
	require.NoError(t, New(cfg(), f2, store, sink, nil, &fakeClock{now: t0}).Run(context.Background()))
	assert.Equal(t, ids(3, 8), sink.got, "page u0 was already delivered and must be skipped")
	assert.Empty(t, f2.pollURLs, "a resume must not start a new query")
}

func TestRunNewCheckpointWhenOrgOrStartChanges(t *testing.T) {
	for _, change := range []func(*Config){
		func(c *Config) { c.OrgURL = "https://other.okta.com" },
		func(c *Config) { c.StartDate = "-30d" },
	} {
		store := &memStore{cps: map[string]checkpoint.Checkpoint{"k": {Version: 1, OrgURL: "https://acme.okta.com", NextURL: "u2", Seen: ids(0, 6)}}}
		c := cfg()
		change(&c)
		var logs bytes.Buffer
		f := &fakeOkta{pages: pages(3, 3, 2)}
		sink := &recSink{}
		require.NoError(t, New(c, f, store, sink, slog.New(splunklog.New(&logs, nil)), &fakeClock{now: t0}).Run(context.Background()))
		assert.Equal(t, ids(0, 8), sink.got)
		assert.Contains(t, logs.String(), "starting a new checkpoint")
	}
}

func TestRunFilterChangeRestartsFromLastDelivered(t *testing.T) {
	last := t0.Add(5 * time.Second)
	store := &memStore{cps: map[string]checkpoint.Checkpoint{"k": {Version: 1, OrgURL: "https://acme.okta.com",
		NextURL: "old", LastPublished: last.Format(time.RFC3339Nano), Seen: ids(0, 6)}}}
	c := cfg()
	c.Filter = `eventType eq "user.session.start"`
	f := &fakeOkta{pages: pages(3, 3, 2)}
	sink := &recSink{}
	require.NoError(t, New(c, f, store, sink, nil, &fakeClock{now: t0}).Run(context.Background()))
	require.Len(t, f.pollURLs, 1)
	assert.True(t, f.pollURLs[0].Since.Equal(last))
	assert.Equal(t, c.Filter, f.pollURLs[0].Filter)
	assert.Equal(t, ids(6, 8), sink.got, "events before the boundary were delivered under the old filter")
}

func TestRunCorruptCheckpointStops(t *testing.T) {
	corrupt := &corruptStore{}
	sink := &recSink{}
	err := New(cfg(), &fakeOkta{pages: pages(3)}, corrupt, sink, nil, &fakeClock{now: t0}).Run(context.Background())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checkpoint")
	assert.Empty(t, sink.got)
}

type corruptStore struct{ memStore }

func (c *corruptStore) Load(context.Context, string) (*checkpoint.Checkpoint, error) {
	return nil, &checkpoint.CorruptError{Path: "/x/k.json", Err: errors.New("invalid character")}
}

func TestRunSinkFailureKeepsCheckpoint(t *testing.T) {
	store := &memStore{}
	err := New(cfg(), &fakeOkta{pages: pages(3, 3)}, store, &recSink{err: errors.New("broken pipe")}, nil, &fakeClock{now: t0}).Run(context.Background())
	require.ErrorContains(t, err, "broken pipe")
	assert.Zero(t, store.saves, "nothing was delivered, so nothing may be saved")
}

func TestRunSaveFailureStops(t *testing.T) {
	store := &memStore{err: errors.New("disk full")}
	err := New(cfg(), &fakeOkta{pages: pages(3, 3)}, store, &recSink{}, nil, &fakeClock{now: t0}).Run(context.Background())
	require.ErrorContains(t, err, "disk full")
}

func TestRunFetchErrorStops(t *testing.T) {
	f := &fakeOkta{pages: pages(3, 3), fail: map[string]error{"u1": &okta.APIError{StatusCode: 401, Code: "E0000011", Summary: "Invalid token provided"}}}
	sink := &recSink{}
	store := &memStore{}
	err := New(cfg(), f, store, sink, nil, &fakeClock{now: t0}).Run(context.Background())
	var apiErr *okta.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, ids(0, 3), sink.got)
	assert.Equal(t, "u1", store.cps["k"].NextURL)
}

func TestRunPollsUntilStopped(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOkta{pages: pages(2)}
	clock := &fakeClock{now: t0, stopAt: 3, cancel: cancel}
	c := cfg()
	c.ExitWhenCaughtUp = false
	var logs bytes.Buffer
	sink := &recSink{}
	require.NoError(t, New(c, f, &memStore{}, sink, slog.New(splunklog.New(&logs, nil)), clock).Run(ctx))
	assert.Equal(t, 3, clock.sleeps)
	assert.Equal(t, []string{"u0", "u1", "u1", "u1"}, f.fetched, "an empty page is retried at the same next link")
	assert.Equal(t, ids(0, 2), sink.got)
	assert.Contains(t, logs.String(), "INFO oktainput stats stanza=k org=acme.okta.com events=2 pages=2 duplicates_skipped=0 lag_seconds=")
	assert.Contains(t, logs.String(), "caught_up=true")
}

func TestRunStopFinishesPageInHand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOkta{pages: pages(3, 3, 3)}
	// The stop arrives while page u1 is being fetched: the page is still written and saved.
	f.onFetch = func(url string) {
		if url == "u1" {
			cancel()
		}
	}
	store := &memStore{}
	sink := &recSink{}
	c := cfg()
	c.ExitWhenCaughtUp = false
	require.NoError(t, New(c, f, store, sink, nil, &fakeClock{now: t0}).Run(ctx))
	assert.Equal(t, ids(0, 6), sink.got)
	assert.Equal(t, "u2", store.cps["k"].NextURL)
	assert.Equal(t, []string{"u0", "u1"}, f.fetched)
}

func TestRunSkipsDuplicatesInsideLaterPages(t *testing.T) {
	p := pages(3, 3)
	p[1] = append([]okta.Event{ev(2)}, p[1]...) // Okta serves an event again on the next page
	sink := &recSink{}
	require.NoError(t, New(cfg(), &fakeOkta{pages: p}, &memStore{}, sink, nil, &fakeClock{now: t0}).Run(context.Background()))
	assert.Equal(t, ids(0, 6), sink.got)
}

// The next page is requested while the one in hand is written, and its result is used only
// after that page is saved; a fetch error on it stops the input with the page before it
// delivered and saved.
func TestRunFetchesAheadWhileWriting(t *testing.T) {
	f := &fakeOkta{pages: pages(2, 2, 2), fail: map[string]error{"u2": errors.New("okta: 401 E0000011 Invalid token provided")}}
	requested := make(chan struct{})
	f.onFetch = func(url string) {
		if url == "u1" {
			close(requested)
		}
	}
	store := &memStore{}
	sink := &blockingSink{recSink: recSink{store: store}, until: map[string]chan struct{}{"uuid-0000": requested}}
	err := New(cfg(), f, store, sink, nil, &fakeClock{now: t0}).Run(context.Background())
	require.ErrorContains(t, err, "E0000011")
	assert.Equal(t, ids(0, 4), sink.got, "pages u0 and u1 are delivered")
	assert.Equal(t, []string{"", "u1"}, sink.cpAtPage, "each page is written after the previous one is saved")
	assert.Equal(t, "u2", store.cps["k"].NextURL, "the failed page is where the input resumes")
	assert.Equal(t, []string{"u0", "u1", "u2"}, f.fetched)
}

// blockingSink holds the page starting with a given uuid until a channel closes, so a test
// can see what the poller does meanwhile; it gives up after a long guard so a broken poller
// fails the test instead of hanging it.
type blockingSink struct {
	recSink
	until map[string]chan struct{}
}

func (s *blockingSink) WritePage(ctx context.Context, events []okta.Event) error {
	if ch := s.until[events[0].UUID]; ch != nil {
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			return errors.New("the next page was not requested while this one was written")
		}
	}
	return s.recSink.WritePage(ctx, events)
}

// A stop that arrives while the next page is fetched ahead, during the write of the page
// before it: that page is in hand too, so it is written and saved, and nothing more is asked.
func TestRunStopFinishesPageFetchedAhead(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeOkta{pages: pages(3, 3, 3)}
	fetchedAhead := make(chan struct{})
	f.onFetch = func(url string) {
		if url == "u1" {
			cancel()
			close(fetchedAhead)
		}
	}
	store := &memStore{}
	sink := &blockingSink{recSink: recSink{store: store}, until: map[string]chan struct{}{"uuid-0000": fetchedAhead}}
	c := cfg()
	c.ExitWhenCaughtUp = false
	require.NoError(t, New(c, f, store, sink, nil, &fakeClock{now: t0}).Run(ctx))
	assert.Equal(t, ids(0, 6), sink.got)
	assert.Equal(t, "u2", store.cps["k"].NextURL)
	assert.Equal(t, []string{"u0", "u1"}, f.fetched)
}

// stuckSink stands for a sink that cannot deliver (an unreachable HEC retrying): WritePage
// signals that it started, then returns only when its context ends, or after release when
// release is set.
type stuckSink struct {
	started chan struct{}
	once    sync.Once
	release chan struct{}
	got     []string
}

func (s *stuckSink) WritePage(ctx context.Context, events []okta.Event) error {
	s.once.Do(func() { close(s.started) })
	select {
	case <-ctx.Done():
		return fmt.Errorf("hec: connection refused (stopped: %w)", ctx.Err())
	case <-s.release:
	}
	for _, e := range events {
		s.got = append(s.got, e.UUID)
	}
	return nil
}

func TestRunStopGivesUpAStuckWriteAfterTheGrace(t *testing.T) {
	tests := []struct {
		name      string
		grace     time.Duration
		release   bool // the sink delivers once the stop has arrived
		wantGot   []string
		wantSaved bool
	}{
		{name: "a sink that cannot deliver is given up, unsaved", grace: -1, wantGot: nil, wantSaved: false},
		{name: "a sink that delivers within the grace finishes the page", grace: time.Hour, release: true, wantGot: ids(0, 3), wantSaved: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			sink := &stuckSink{started: make(chan struct{}), release: make(chan struct{})}
			go func() {
				<-sink.started
				cancel() // SIGTERM while the page is being written
				if tt.release {
					close(sink.release)
				}
			}()
			store := &memStore{}
			c := cfg()
			c.ExitWhenCaughtUp = false
			c.StopGrace = tt.grace
			var logs bytes.Buffer
			err := New(c, &fakeOkta{pages: pages(3)}, store, sink, slog.New(splunklog.New(&logs, nil)), &fakeClock{now: t0}).Run(ctx)
			require.NoError(t, err, "a stop is not an error")
			assert.Equal(t, tt.wantGot, sink.got)
			if tt.wantSaved {
				assert.Equal(t, "u1", store.cps["k"].NextURL)
				assert.NotContains(t, logs.String(), "gave up")
			} else {
				assert.Zero(t, store.saves, "a page given up must not move the checkpoint")
				assert.Contains(t, logs.String(), "WARN oktainput stop: gave up writing the page in hand")
				assert.Contains(t, logs.String(), "events=3")
			}
		})
	}
}

func TestNewDefaultsTheStopGrace(t *testing.T) {
	assert.Equal(t, DefaultStopGrace, New(cfg(), nil, nil, nil, nil, nil).cfg.StopGrace)
	c := cfg()
	c.StopGrace = -1
	assert.Equal(t, time.Duration(-1), New(c, nil, nil, nil, nil, nil).cfg.StopGrace, "a negative grace is kept: no grace")
}

// statsLines returns the stats lines of a log.
func statsLines(logs string) []string {
	var out []string
	for _, l := range strings.Split(logs, "\n") {
		if strings.HasPrefix(l, "INFO oktainput stats ") {
			out = append(out, l)
		}
	}
	return out
}

// TestRunEndsWithAStatsLine ends Run in each way it can end and checks its last stats line:
// the dashboards read each input's latest line, so an input that stops without catching up
// must say caught_up=false (with its real lag), and one that caught up must not repeat itself.
func TestRunEndsWithAStatsLine(t *testing.T) {
	now := t0.Add(time.Hour)
	unauthorized := &okta.APIError{StatusCode: 401, Code: "E0000011", Summary: "Invalid token provided"}
	tests := []struct {
		name  string
		setup func(f *fakeOkta, store *memStore, sink *recSink, cancel context.CancelFunc) (checkpoint.Store, *Config)
		err   string // "" = Run returns nil
		last  string // what the last stats line holds
		lines int    // stats lines in all
	}{
		{"an Okta error after a page", func(f *fakeOkta, _ *memStore, _ *recSink, _ context.CancelFunc) (checkpoint.Store, *Config) {
			f.fail = map[string]error{"u1": unauthorized}
			return nil, nil
		}, "E0000011", "events=3 pages=1 duplicates_skipped=0 lag_seconds=3598.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"an Okta error on the first request", func(f *fakeOkta, _ *memStore, _ *recSink, _ context.CancelFunc) (checkpoint.Store, *Config) {
			f.fail = map[string]error{"u0": unauthorized}
			return nil, nil
		}, "E0000011", "events=0 pages=0 duplicates_skipped=0 lag_seconds=3600.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"a sink that fails", func(_ *fakeOkta, _ *memStore, sink *recSink, _ context.CancelFunc) (checkpoint.Store, *Config) {
			sink.err = errors.New("broken pipe")
			return nil, nil
		}, "broken pipe", "events=0 pages=0 duplicates_skipped=0 lag_seconds=3600.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"a checkpoint that cannot be saved", func(_ *fakeOkta, store *memStore, _ *recSink, _ context.CancelFunc) (checkpoint.Store, *Config) {
			store.err = errors.New("disk full")
			return nil, nil
		}, "disk full", "events=3 pages=1 duplicates_skipped=0 lag_seconds=3598.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"a checkpoint that cannot be read: no lag is known", func(*fakeOkta, *memStore, *recSink, context.CancelFunc) (checkpoint.Store, *Config) {
			return &corruptStore{}, nil
		}, "checkpoint", "events=0 pages=0 duplicates_skipped=0 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"a resumed input stuck on its first request: lag from the checkpoint", func(f *fakeOkta, store *memStore, _ *recSink, _ context.CancelFunc) (checkpoint.Store, *Config) {
			f.fail = map[string]error{"u5": unauthorized}
			store.cps = map[string]checkpoint.Checkpoint{"k": {Version: checkpoint.Version, Stanza: "k", OrgURL: "https://acme.okta.com",
				NextURL: "u5", LastPublished: t0.Add(20 * time.Minute).Format(time.RFC3339Nano)}}
			return nil, nil
		}, "E0000011", "events=0 pages=0 duplicates_skipped=0 lag_seconds=2400.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"a stop while a request is out", func(f *fakeOkta, _ *memStore, _ *recSink, cancel context.CancelFunc) (checkpoint.Store, *Config) {
			f.onFetch = func(url string) {
				if url == "u1" {
					cancel()
					f.fail = map[string]error{"u1": context.Canceled}
				}
			}
			return nil, nil
		}, "", "events=3 pages=1 duplicates_skipped=0 lag_seconds=3598.000 retries=0 throttled_seconds=0.000 caught_up=false", 1},
		{"caught up (scheduled run): one line, not repeated", func(*fakeOkta, *memStore, *recSink, context.CancelFunc) (checkpoint.Store, *Config) {
			return nil, nil
		}, "", "events=6 pages=3 duplicates_skipped=0 lag_seconds=3595.000 retries=0 throttled_seconds=0.000 caught_up=true", 1},
		{"a stop while caught up and waiting: the caught-up line stands", func(*fakeOkta, *memStore, *recSink, context.CancelFunc) (checkpoint.Store, *Config) {
			c := cfg()
			c.ExitWhenCaughtUp = false
			return nil, &c
		}, "", "events=6 pages=3 duplicates_skipped=0 lag_seconds=3595.000 retries=0 throttled_seconds=0.000 caught_up=true", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			f := &fakeOkta{pages: pages(3, 3)}
			store := &memStore{}
			sink := &recSink{}
			clock := &fakeClock{now: now, stopAt: 1, cancel: cancel}
			st, c := tt.setup(f, store, sink, cancel)
			if st == nil {
				st = store
			}
			if c == nil {
				c2 := cfg()
				c = &c2
			}
			var logs bytes.Buffer
			err := New(*c, f, st, sink, slog.New(splunklog.New(&logs, nil)), clock).Run(ctx)
			if tt.err == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tt.err)
			}
			lines := statsLines(logs.String())
			require.Len(t, lines, tt.lines, logs.String())
			assert.Equal(t, "INFO oktainput stats stanza=k org=acme.okta.com "+tt.last, lines[len(lines)-1])
		})
	}
}

package backfill

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/oktasim"
	"github.com/oktasight/oktasight/app/splunklog"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const testToken = "00sim-backfill-token-do-not-log"

var (
	day0    = oktasim.DefaultStart
	now     = day0.Add(10 * 24 * time.Hour)
	since   = day0.Add(3 * time.Hour)
	until   = day0.Add(21 * time.Hour)
	nowFunc = func() time.Time { return now }
)

// noWait is the client's clock: pacing and retry waits return at once.
type noWait struct{}

func (noWait) Now() time.Time                                   { return now }
func (noWait) Sleep(ctx context.Context, _ time.Duration) error { return ctx.Err() }

// simOrg is a simulated org serving a day of events, and what a test knows about them.
type simOrg struct {
	sim    *oktasim.Server
	client *okta.Client
	url    string
	pub    map[string]time.Time // published of every stored event, by uuid
	order  []string             // uuids in published order
}

func newSimOrg(t *testing.T, events int) *simOrg {
	t.Helper()
	backlog := oktasim.Generate(oktasim.GenOptions{Events: events, Users: 50, Seed: 7})
	sim, err := oktasim.NewServer(oktasim.Options{Token: testToken, RateLimit: 1 << 30}, backlog)
	require.NoError(t, err)
	hs := httptest.NewTLSServer(sim)
	t.Cleanup(hs.Close)
	pool := x509.NewCertPool()
	pool.AddCert(hs.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	client, err := okta.New(okta.Config{OrgURL: hs.URL, Clock: noWait{},
		HTTPClient: &http.Client{Transport: okta.NewSSWSTransport(testToken, tr)}})
	require.NoError(t, err)
	o := &simOrg{sim: sim, client: client, url: client.OrgURL(), pub: map[string]time.Time{}}
	for _, raw := range backlog {
		var h struct{ UUID, Published string }
		require.NoError(t, json.Unmarshal(raw, &h))
		p, err := okta.ParseTime(h.Published)
		require.NoError(t, err)
		o.pub[h.UUID] = p
		o.order = append(o.order, h.UUID)
	}
	return o
}

// want is the uuids published in [from, to), in Okta's order.
func (o *simOrg) want(from, to time.Time) []string {
	var out []string
	for _, u := range o.order {
		if p := o.pub[u]; !p.Before(from) && p.Before(to) {
			out = append(out, u)
		}
	}
	return out
}

func (o *simOrg) config() Config {
	return Config{Stanza: "acme", OrgURL: o.url, Since: since, Until: until, PageLimit: 100, Now: nowFunc}
}

// memSink keeps what was delivered; failAt makes its n-th WritePage call (from 1) fail, and
// before runs ahead of each call.
type memSink struct {
	mu      sync.Mutex
	calls   int
	failAt  int
	before  func(call int)
	written []okta.Event
}

var errSink = errors.New("splunkd pipe closed")

func (s *memSink) WritePage(_ context.Context, events []okta.Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.before != nil {
		s.before(s.calls)
	}
	if s.calls == s.failAt {
		return errSink
	}
	s.written = append(s.written, events...)
	return nil
}

func (s *memSink) uuids() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, ev := range s.written {
		out = append(out, ev.UUID)
	}
	return out
}

// indexExporter answers the export search from what the sink delivered, as splunkd would
// once the events are indexed.
type indexExporter struct {
	sink     *memSink
	extra    []string // uuids "indexed" by something else
	searches []string
	ranges   [][2]time.Time
	err      error
}

func (e *indexExporter) Export(_ context.Context, search string, earliest, latest time.Time, fn func(map[string]string) error) error {
	e.searches = append(e.searches, search)
	e.ranges = append(e.ranges, [2]time.Time{earliest, latest})
	if e.err != nil {
		return e.err
	}
	var rows []string
	if e.sink != nil {
		e.sink.mu.Lock()
		for _, ev := range e.sink.written {
			if !ev.Published.Before(earliest) && ev.Published.Before(latest) {
				rows = append(rows, ev.UUID)
			}
		}
		e.sink.mu.Unlock()
	}
	rows = append(rows, e.extra...)
	for _, u := range rows {
		if err := fn(map[string]string{"uuid": u}); err != nil {
			return err
		}
	}
	return fn(map[string]string{"count": "0"}) // a row without uuid is ignored
}

func logTo(buf *bytes.Buffer) *slog.Logger {
	return slog.New(splunklog.New(buf, slog.LevelDebug))
}

func summaryLine(t *testing.T, logs string) string {
	t.Helper()
	var found []string
	for line := range strings.Lines(logs) {
		if strings.HasPrefix(line, "INFO oktainput backfill stanza=") {
			found = append(found, strings.TrimSpace(line))
		}
	}
	require.Len(t, found, 1, "exactly one summary line in:\n%s", logs)
	return found[0]
}

func TestRunReadsTheRangeOnceThenIsDone(t *testing.T) {
	o := newSimOrg(t, 1500)
	want := o.want(since, until)
	require.Greater(t, len(want), 1000)
	store := &checkpoint.FileStore{Dir: t.TempDir()}
	sink := &memSink{}
	var logs bytes.Buffer

	res, err := Run(t.Context(), o.config(), o.client, sink, KnownNone{}, store, logTo(&logs))
	require.NoError(t, err)
	assert.Equal(t, want, sink.uuids(), "every event of the range, once, in order")
	pages := (len(want) + 99) / 100
	assert.Equal(t, Result{Pages: pages, Events: len(want), Written: len(want)}, res)
	assert.Equal(t, fmt.Sprintf("INFO oktainput backfill stanza=acme since=2026-11-20T03:00:00.000Z until=2026-11-20T21:00:00.000Z "+
		"pages=%d events=%d skipped_indexed=0 written=%d repeated=0 out_of_range=0 dedup=none indexed_uuids=-1 status=complete", pages, len(want), len(want)),
		summaryLine(t, logs.String()))
	assert.Contains(t, logs.String(), "WARN oktainput backfill without an index to compare with")

	cp, err := store.Load(t.Context(), Key("acme", since, until))
	require.NoError(t, err)
	assert.Empty(t, cp.NextURL, "a completed backfill has no next URL")
	assert.Equal(t, int64(len(want)), cp.Events)
	assert.Equal(t, want[len(want)-1], cp.LastUUID)
	assert.Equal(t, "2026-11-20T03:00:00.000Z/2026-11-20T21:00:00.000Z", cp.StartDate)

	done, err := Completed(t.Context(), o.config(), store)
	require.NoError(t, err)
	assert.True(t, done)
	redo := o.config()
	redo.Redo = true
	done, err = Completed(t.Context(), redo, store)
	require.NoError(t, err)
	assert.False(t, done, "a redo is never complete beforehand")

	// A second run reads nothing and writes nothing.
	requests := o.sim.Stats().Requests
	logs.Reset()
	res, err = Run(t.Context(), o.config(), o.client, sink, KnownNone{}, store, logTo(&logs))
	require.NoError(t, err)
	assert.Equal(t, Result{AlreadyDone: true}, res)
	assert.Equal(t, requests, o.sim.Stats().Requests)
	assert.Len(t, sink.uuids(), len(want))
	assert.Contains(t, summaryLine(t, logs.String()), "pages=0 events=0 skipped_indexed=0 written=0 repeated=0 out_of_range=0 dedup=none indexed_uuids=-1 status=already_done")
	assert.NotContains(t, logs.String(), testToken)
}

func TestRunSkipsWhatTheIndexHas(t *testing.T) {
	o := newSimOrg(t, 1000)
	want := o.want(since, until)
	indexed := map[string]bool{}
	ex := &indexExporter{extra: []string{"not-a-range-event"}}
	for i, u := range want {
		if i%3 == 0 || i == len(want)-1 {
			indexed[u] = true
			ex.extra = append(ex.extra, u, u) // preview and final rows repeat uuids
		}
	}
	known, err := KnownFromExport(t.Context(), ex, "okta", "", since, until)
	require.NoError(t, err)
	require.Equal(t, []string{`search index="okta" sourcetype="OktaIM2:log" | stats count by uuid | fields uuid`}, ex.searches)
	assert.Equal(t, [][2]time.Time{{since.Add(-time.Hour), until.Add(time.Hour)}}, ex.ranges)
	assert.Equal(t, len(indexed)+1, known.(*UUIDSet).Len())

	sink := &memSink{}
	var logs bytes.Buffer
	res, err := Run(t.Context(), o.config(), o.client, sink, known, &flakyStore{}, logTo(&logs))
	require.NoError(t, err)
	var rest []string
	for _, u := range want {
		if !indexed[u] {
			rest = append(rest, u)
		}
	}
	assert.Equal(t, rest, sink.uuids())
	assert.Equal(t, len(indexed), res.Skipped)
	assert.Equal(t, len(rest), res.Written)
	assert.Equal(t, len(want), res.Events)
	assert.Contains(t, summaryLine(t, logs.String()), fmt.Sprintf("skipped_indexed=%d written=%d", len(indexed), len(rest)))
	assert.Contains(t, summaryLine(t, logs.String()), fmt.Sprintf("dedup=index indexed_uuids=%d status=complete", len(indexed)+1))
	assert.NotContains(t, logs.String(), "WARN")
}

// TestResumeAfterFailure stops a backfill on its third page in several ways; the next run
// goes on from the checkpoint and the two runs together deliver the range exactly once.
func TestResumeAfterFailure(t *testing.T) {
	tests := []struct {
		name string
		// arm sets up the failure; it returns what the first run's error must wrap.
		arm func(o *simOrg, sink *memSink, store *flakyStore, cancel context.CancelFunc) error
		// reindex builds Known for the second run from what the first one delivered, as
		// the CLI does: the page in flight when a checkpoint save failed is then skipped.
		reindex bool
		resumed bool
	}{
		{name: "sink error on page 3", resumed: true, arm: func(_ *simOrg, sink *memSink, _ *flakyStore, _ context.CancelFunc) error {
			sink.failAt = 3
			return errSink
		}},
		{name: "okta 401 on page 3", resumed: true, arm: func(o *simOrg, sink *memSink, _ *flakyStore, _ context.CancelFunc) error {
			sink.before = func(call int) {
				if call == 2 {
					o.sim.InjectNext(oktasim.FaultRevoked)
				}
			}
			var apiErr *okta.APIError
			return errAs{&apiErr}
		}},
		{name: "stop during page 3", resumed: true, arm: func(_ *simOrg, sink *memSink, _ *flakyStore, cancel context.CancelFunc) error {
			sink.before = func(call int) {
				if call == 3 {
					cancel()
				}
			}
			return context.Canceled
		}},
		{name: "checkpoint save fails after page 3", resumed: true, reindex: true, arm: func(_ *simOrg, _ *memSink, store *flakyStore, _ context.CancelFunc) error {
			store.failAt = 3
			return errSave
		}},
		{name: "first checkpoint save fails", resumed: false, reindex: true, arm: func(_ *simOrg, _ *memSink, store *flakyStore, _ context.CancelFunc) error {
			store.failAt = 1
			return errSave
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := newSimOrg(t, 800)
			want := o.want(since, until)
			store := &flakyStore{}
			sink := &memSink{}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			wantErr := tt.arm(o, sink, store, cancel)

			res, err := Run(ctx, o.config(), o.client, sink, nil, store, nil)
			require.Error(t, err)
			done, cerr := Completed(t.Context(), o.config(), store)
			require.NoError(t, cerr)
			assert.False(t, done)
			if ea, ok := wantErr.(errAs); ok {
				assert.ErrorAs(t, err, ea.target)
			} else {
				assert.ErrorIs(t, err, wantErr)
			}
			assert.Less(t, res.Written, len(want))
			assert.NotContains(t, err.Error(), testToken)

			sink.failAt, sink.before, store.failAt = 0, nil, 0
			var known Known = KnownNone{}
			if tt.reindex {
				known, err = KnownFromExport(t.Context(), &indexExporter{sink: sink}, "okta", "", since, until)
				require.NoError(t, err)
			}
			res2, err := Run(t.Context(), o.config(), o.client, sink, known, store, nil)
			require.NoError(t, err)
			assert.Equal(t, tt.resumed, res2.Resumed)
			assert.Equal(t, want, sink.uuids(), "no duplicate, no gap")
			assert.Equal(t, len(want), res.Written+res2.Written)

			res3, err := Run(t.Context(), o.config(), o.client, sink, nil, store, nil)
			require.NoError(t, err)
			assert.True(t, res3.AlreadyDone)
		})
	}
}

// errAs asks a test for errors.As instead of errors.Is.
type errAs struct{ target any }

func (errAs) Error() string { return "errors.As" }

var errSave = errors.New("disk full")

// flakyStore is a checkpoint.Store in memory that keeps checkpoints as JSON, as a real store
// does, and fails its failAt-th Save (from 1).
type flakyStore struct {
	mu            sync.Mutex
	saved         map[string][]byte
	saves, failAt int
}

func (s *flakyStore) Load(_ context.Context, key string) (*checkpoint.Checkpoint, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	data, ok := s.saved[key]
	if !ok {
		return nil, checkpoint.ErrNotFound
	}
	var cp checkpoint.Checkpoint
	if err := json.Unmarshal(data, &cp); err != nil {
		return nil, err
	}
	return &cp, nil
}

func (s *flakyStore) Save(_ context.Context, key string, cp *checkpoint.Checkpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.saves++
	if s.saves == s.failAt {
		return errSave
	}
	data, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	if s.saved == nil {
		s.saved = map[string][]byte{}
	}
	s.saved[key] = data
	return nil
}

func TestRunStartsOverForAnotherOrg(t *testing.T) {
	o := newSimOrg(t, 300)
	want := o.want(since, until)
	store := &flakyStore{}
	_, err := Run(t.Context(), o.config(), o.client, &memSink{}, nil, store, nil)
	require.NoError(t, err)

	cfg := o.config()
	cfg.OrgURL = "https://other.okta.com"
	sink := &memSink{}
	var logs bytes.Buffer
	res, err := Run(t.Context(), cfg, o.client, sink, nil, store, logTo(&logs))
	require.NoError(t, err)
	assert.False(t, res.AlreadyDone)
	assert.Equal(t, want, sink.uuids())
	assert.Contains(t, logs.String(), "WARN oktainput backfill starting over")
}

func TestRedoReadsACompletedRangeAgain(t *testing.T) {
	o := newSimOrg(t, 300)
	want := o.want(since, until)
	store := &flakyStore{}
	sink := &memSink{}
	_, err := Run(t.Context(), o.config(), o.client, sink, nil, store, nil)
	require.NoError(t, err)

	known, err := KnownFromExport(t.Context(), &indexExporter{sink: sink}, "okta", "", since, until)
	require.NoError(t, err)
	cfg := o.config()
	cfg.Redo = true
	res, err := Run(t.Context(), cfg, o.client, sink, known, store, nil)
	require.NoError(t, err)
	assert.False(t, res.AlreadyDone)
	assert.Equal(t, len(want), res.Skipped, "everything is in the index already")
	assert.Zero(t, res.Written)
	assert.Equal(t, want, sink.uuids())
}

func TestValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		want   error
	}{
		{"until in the future", func(c *Config) { c.Until = now.Add(time.Hour) }, ErrNotSettled},
		{"until a minute ago", func(c *Config) { c.Since, c.Until = now.Add(-time.Hour), now.Add(-time.Minute) }, ErrNotSettled},
		{"since after until", func(c *Config) { c.Since, c.Until = until, since }, ErrRange},
		{"since equals until", func(c *Config) { c.Since = c.Until }, ErrRange},
		{"since beyond 90 days", func(c *Config) { c.Since = now.Add(-91 * 24 * time.Hour) }, ErrRetention},
		{"no since", func(c *Config) { c.Since = time.Time{} }, ErrConfig},
		{"no until", func(c *Config) { c.Until = time.Time{} }, ErrConfig},
		{"no stanza", func(c *Config) { c.Stanza = "" }, ErrConfig},
		{"page limit over 1000", func(c *Config) { c.PageLimit = 1001 }, ErrConfig},
		{"filter on two lines", func(c *Config) { c.Filter = "a eq \"b\"\nor c" }, ErrConfig},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Stanza: "acme", OrgURL: "https://acme.okta.com", Since: since, Until: until, Now: nowFunc}
			require.NoError(t, cfg.Validate(now))
			tt.change(&cfg)
			f := &scriptFetcher{}
			store := &flakyStore{}
			_, err := Run(t.Context(), cfg, f, &memSink{}, nil, store, nil)
			require.ErrorIs(t, err, tt.want)
			assert.ErrorIs(t, cfg.Validate(now), tt.want)
			assert.Empty(t, f.fetched, "nothing is requested")
			assert.Zero(t, store.saves, "nothing is saved")
		})
	}
}

func TestBoundaries(t *testing.T) {
	cfg := Config{Stanza: "acme", Since: now.Add(-Retention), Until: now.Add(-Settle)}
	assert.NoError(t, cfg.Validate(now), "exactly 90 days back and exactly 2 minutes ago are allowed")
	cfg.Until = cfg.Until.Add(time.Millisecond)
	assert.ErrorIs(t, cfg.Validate(now), ErrNotSettled)
	cfg.Until, cfg.Since = now.Add(-Settle), cfg.Since.Add(-time.Millisecond)
	assert.ErrorIs(t, cfg.Validate(now), ErrRetention)
}

func TestKey(t *testing.T) {
	got := Key("acme", time.Date(2026, 11, 20, 1, 2, 3, 4_567_000, time.FixedZone("CET", 3600)), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	assert.Equal(t, "backfill:acme:2026-11-20T00:02:03.004Z-2026-11-21T00:00:00.000Z", got)
}

// scriptFetcher serves scripted pages: page i lives at "p<i>".
type scriptFetcher struct {
	pages   []okta.Page
	fetched []string
	bounded []okta.Query
}

func (f *scriptFetcher) BoundedURL(q okta.Query) string {
	f.bounded = append(f.bounded, q)
	return "p0"
}

func (f *scriptFetcher) Fetch(_ context.Context, url string) (*okta.Page, error) {
	f.fetched = append(f.fetched, url)
	var i int
	if _, err := fmt.Sscanf(url, "p%d", &i); err != nil || i >= len(f.pages) {
		return nil, fmt.Errorf("no page %s", url)
	}
	p := f.pages[i]
	return &p, nil
}

func ev(uuid string, at time.Time) okta.Event {
	return okta.Event{UUID: uuid, Published: at, Raw: []byte(`{"uuid":"` + uuid + `"}`)}
}

func TestRunScripted(t *testing.T) {
	in := since.Add(time.Minute)
	tests := []struct {
		name    string
		pages   []okta.Page
		err     error
		written []string
		res     Result
	}{
		{
			name:    "events outside the range are dropped",
			pages:   []okta.Page{{Events: []okta.Event{ev("early", since.Add(-time.Millisecond)), ev("a", since), ev("b", in), ev("late", until)}}},
			written: []string{"a", "b"},
			res:     Result{Pages: 1, Events: 4, Written: 2, OutOfRange: 2},
		},
		{
			name: "an event served again on the next page is written once",
			pages: []okta.Page{
				{Events: []okta.Event{ev("a", in), ev("b", in)}, Next: "p1"},
				{Events: []okta.Event{ev("b", in), ev("c", in)}},
			},
			written: []string{"a", "b", "c"},
			res:     Result{Pages: 2, Events: 4, Written: 3, Repeated: 1},
		},
		{
			name:  "an empty range",
			pages: []okta.Page{{}},
			res:   Result{Pages: 1},
		},
		{
			name:    "a next link to the same page",
			pages:   []okta.Page{{Events: []okta.Event{ev("a", in)}, Next: "p1"}, {Events: []okta.Event{ev("b", in)}, Next: "p1"}},
			err:     errNoProgress,
			written: []string{"a"},
			res:     Result{Pages: 1, Events: 1, Written: 1},
		},
		{
			name:  "endless empty pages",
			pages: emptyChain(maxEmptyPages + 5),
			err:   errEmptyPages,
			res:   Result{Pages: maxEmptyPages + 1},
		},
		{
			name:    "a few empty pages, then the end",
			pages:   append(emptyChain(3), okta.Page{Events: []okta.Event{ev("a", in)}}),
			written: []string{"a"},
			res:     Result{Pages: 4, Events: 1, Written: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &scriptFetcher{pages: tt.pages}
			sink := &memSink{}
			cfg := Config{Stanza: "s", OrgURL: "https://acme.okta.com", Since: since, Until: until, Filter: `eventType sw "user."`, Now: nowFunc}
			res, err := Run(t.Context(), cfg, f, sink, nil, &flakyStore{}, nil)
			if tt.err != nil {
				assert.ErrorIs(t, err, tt.err)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tt.written, sink.uuids())
			assert.Equal(t, tt.res, res)
			require.Len(t, f.bounded, 1)
			assert.Equal(t, okta.Query{Since: since, Until: until, Limit: 1000, Filter: `eventType sw "user."`}, f.bounded[0])
		})
	}
}

// emptyChain is n empty pages, each pointing to the next.
func emptyChain(n int) []okta.Page {
	out := make([]okta.Page, n)
	for i := range out {
		out[i].Next = fmt.Sprintf("p%d", i+1)
	}
	return out
}

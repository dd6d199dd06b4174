// Package poll owns the input loop: fetch a page from Okta, write it, flush it, then save the
// checkpoint, in that order and no other, so a crash can at worst repeat the page in hand and
// never skip one.
package poll

import (
	"context"
	"errors"
	"fmt"
	clk "github.com/oktasight/oktasight/app/clock"
	"log/slog"
	"net/url"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/okta"
)

// Fetcher is what the loop needs from the Okta client.
type Fetcher interface {
	PollURL(q okta.Query) string
	// FetchAhead gets a page, as okta.Client's does: it may request the page's next link
	// before it returns, and a later FetchAhead of that URL takes the answer over.
	FetchAhead(ctx context.Context, url string) (*okta.Page, error)
	// StopAhead ends a request sent early that nobody will take.
	StopAhead()
	Stats() okta.Stats
}

// Sink takes one page of events in Okta's order and returns only once they are delivered
// (written and flushed to splunkd, or to the output file); only then is the checkpoint saved.
type Sink interface {
	WritePage(ctx context.Context, events []okta.Event) error
}

// Config is what one poller needs to know about its input.
type Config struct {
	Key          string // checkpoint key: the stanza name
	OrgURL       string
	StartDate    string    // as configured; part of the checkpoint's identity
	Since        time.Time // StartDate resolved
	Filter, Q    string
	PageLimit    int
	PollInterval time.Duration
	// ExitWhenCaughtUp ends Run after the first empty page (scheduled runs); otherwise the
	// poller sleeps PollInterval and asks for the same next link again, until ctx ends.
	ExitWhenCaughtUp bool
	// StatsEvery is how often a stats line is logged while catching up; the line is also
	// written at each catch-up. Default one minute. It is not an input setting: once caught up
	// the line comes every poll anyway; the dashboards chart 5-minute spans and the alerts look
	// back 15 to 30 minutes, so a shorter period only adds lines to _internal, and a longer one
	// would hide a long catch-up's lag from the lag alert.
	StatsEvery time.Duration
	// StopGrace is how long a stop lets the page in hand keep being written: a sink retrying an
	// unreachable HEC gives the page up then (unsaved, so it is read again at the next start)
	// instead of holding the stop for its whole retry budget. 0 means DefaultStopGrace; a
	// negative value gives the page up as soon as the stop arrives.
	StopGrace time.Duration
}

// DefaultStopGrace is Config.StopGrace when it is not set: well inside systemd's 90 s stop
// timeout, and long enough for a reachable sink to take a page of 1000 events.
const DefaultStopGrace = 30 * time.Second

// Clock is the poller's view of time, so tests control sleeps.
type Clock = clk.Clock

// Seen-set bounds: the uuids of the last pages, enough to recognise a page that is served
// again after a restart, small enough to keep the checkpoint a few tens of kilobytes.
const (
	seenPages = 2
	seenUUIDs = 2000
)

// Poller runs one input.
type Poller struct {
	cfg    Config
	client Fetcher
	store  checkpoint.Store
	sink   Sink
	log    *slog.Logger
	clock  Clock
}

// New returns a Poller; log and clock may be nil.
func New(cfg Config, client Fetcher, store checkpoint.Store, sink Sink, log *slog.Logger, clock Clock) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if clock == nil {
		clock = clk.Real{}
	}
	if cfg.StatsEvery <= 0 {
		cfg.StatsEvery = time.Minute
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = DefaultStopGrace
	}
	return &Poller{cfg: cfg, client: client, store: store, sink: sink, log: log, clock: clock}
}

// cycle counts what happened since the last stats line.
type cycle struct {
	events, pages, dups int
	lastPublished       time.Time
	started             time.Time
	base                okta.Stats
	// logged is set by a stats line and cleared when the next request starts: a run that ends
	// with it clear writes one more line, so the last line always says where the input stopped.
	logged bool
	// newest is the publication time of the newest event delivered, by this run or an earlier
	// one (the checkpoint), or the start of the query when none was; zero when unknown. It is
	// the lag of a line that delivered nothing and has not caught up: a stuck input.
	newest time.Time
}

// Run polls until ctx ends (returning nil: a stop is not an error), or, with ExitWhenCaughtUp,
// until Okta has nothing more. It returns an error when it cannot go on: a checkpoint that
// cannot be read or saved, a sink that fails, or an Okta error that retrying cannot fix.
func (p *Poller) Run(ctx context.Context) error {
	c := cycle{started: p.clock.Now(), base: p.client.Stats()}
	// Whatever ends the run (a stop while a request waits to be retried, an error that stops
	// the input, a checkpoint that cannot be read), its last stats line says so, with
	// caught_up=false: the ingest-health dashboard reads each input's latest line, and a stuck
	// input must not keep showing the healthy line it wrote before. A run that ends caught up
	// has just written that line and does not repeat it.
	defer func() {
		if !c.logged {
			p.logStats(&c, false)
		}
	}()
	cp, err := p.load(ctx)
	if err != nil {
		return err
	}
	c.newest = p.cfg.Since
	if t, err := time.Parse(time.RFC3339Nano, cp.LastPublished); err == nil {
		c.newest = t
	}
	seen := checkpoint.NewSeen(seenPages, seenUUIDs)
	seen.LoadList(cp.Seen)
	next := cp.NextURL
	if next == "" {
		next = p.client.PollURL(okta.Query{Since: p.cfg.Since, Limit: p.cfg.PageLimit, Filter: p.cfg.Filter, Q: p.cfg.Q})
	}
	// Writing and saving must finish once a page is in hand, even when a stop arrives:
	// SIGTERM means "finish the page, flush, save, exit". Only the write has a limit, the
	// stop's grace: a page given up is not saved, so nothing is lost.
	durable := context.WithoutCancel(ctx)
	wctx, endWrites := p.writeContext(ctx)
	defer endWrites()
	fresh := make([]okta.Event, 0, p.cfg.PageLimit)
	// While a page is written and its checkpoint saved, the next one is already being fetched:
	// still one request in flight, but Okta's response time overlaps our work instead of
	// adding to it. Nothing about the order changes: a prefetched page is written only after
	// the page before it is saved, and one in flight when Run returns is dropped unwritten.
	fctx, cancel := context.WithCancel(ctx)
	var ahead chan fetched
	defer func() {
		cancel()
		if ahead != nil {
			<-ahead
		}
		p.client.StopAhead()
	}()
	for {
		// A stop ends the loop, but a page already fetched ahead is in hand: it is finished
		// (written and saved) like the page before it, and nothing more is fetched.
		stopping := ctx.Err() != nil
		if stopping && ahead == nil {
			return nil
		}
		c.logged = false
		var page *okta.Page
		if ahead != nil {
			r := <-ahead
			ahead, page, err = nil, r.page, r.err
		} else {
			page, err = p.client.FetchAhead(fctx, next)
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("fetch %s: %w", redactURL(next), err)
		}
		if !stopping && len(page.Events) > 0 && page.Next != "" {
			ahead = p.prefetch(fctx, page.Next)
		}
		fresh = fresh[:0]
		for _, ev := range page.Events {
			if seen.Contains(ev.UUID, ev.Published) {
				c.dups++
				continue
			}
			fresh = append(fresh, ev)
		}
		if len(fresh) > 0 {
			if err := p.sink.WritePage(wctx, fresh); err != nil {
				if ctx.Err() != nil && wctx.Err() != nil {
					p.log.Warn("oktainput stop: gave up writing the page in hand after the stop's grace; it was not checkpointed and is read again at the next start (events the sink took already are sent again)",
						"stanza", p.cfg.Key, "events", len(fresh), "stop_grace", p.cfg.StopGrace.String(), "error", err.Error())
					return nil
				}
				return fmt.Errorf("write %d events: %w", len(fresh), err)
			}
			last := fresh[len(fresh)-1]
			cp.LastPublished = last.Published.UTC().Format(time.RFC3339Nano)
			cp.LastUUID = last.UUID
			cp.Events += int64(len(fresh))
			c.events += len(fresh)
			c.lastPublished = last.Published
			c.newest = last.Published
		}
		c.pages++
		seen.AddEvents(page.Events)
		if page.Next != next || len(page.Events) > 0 {
			cp.NextURL = page.Next
			cp.Seen = seen.List()
			cp.UpdatedAt = p.clock.Now().UTC()
			if err := p.store.Save(durable, p.cfg.Key, cp); err != nil {
				return fmt.Errorf("save checkpoint after %d delivered events: %w", len(fresh), err)
			}
		}
		next = page.Next
		empty := len(page.Events) == 0
		page.Release() // fresh, which points into it, is refilled before it is read again
		if empty {
			p.logStats(&c, true)
			if p.cfg.ExitWhenCaughtUp {
				return nil
			}
			if err := p.clock.Sleep(ctx, p.cfg.PollInterval); err != nil {
				return nil
			}
			continue
		}
		if p.clock.Now().Sub(c.started) >= p.cfg.StatsEvery {
			p.logStats(&c, false)
		}
	}
}

// writeContext returns the context pages are written under and its end: it outlives ctx by
// the stop's grace, so that a stop finishes the page in hand but does not wait on a sink
// that cannot deliver it.
func (p *Poller) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	grace := p.cfg.StopGrace
	stop := context.AfterFunc(ctx, func() {
		if grace > 0 {
			t := time.NewTimer(grace)
			defer t.Stop()
			select {
			case <-t.C:
			case <-wctx.Done(): // Run returned first
			}
		}
		cancel()
	})
	return wctx, func() {
		stop()
		cancel()
	}
}

// fetched is the outcome of a prefetch.
type fetched struct {
	page *okta.Page
	err  error
}

// prefetch fetches url in the background; the channel gets exactly one result.
func (p *Poller) prefetch(ctx context.Context, url string) chan fetched {
	ch := make(chan fetched, 1)
	go func() {
		page, err := p.client.FetchAhead(ctx, url)
		ch <- fetched{page, err}
	}()
	return ch
}

// load returns the stanza's checkpoint, a fresh one when there is none or when the input now
// reads another org or start date, and an error when the saved one cannot be read: replacing
// it silently could re-ingest or skip months of events.
func (p *Poller) load(ctx context.Context) (*checkpoint.Checkpoint, error) {
	fresh := &checkpoint.Checkpoint{
		Version: checkpoint.Version, Stanza: p.cfg.Key, OrgURL: p.cfg.OrgURL,
		StartDate: p.cfg.StartDate, Filter: p.cfg.Filter, Q: p.cfg.Q,
	}
	cp, err := p.store.Load(ctx, p.cfg.Key)
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		p.log.Info("oktainput starting", "stanza", p.cfg.Key, "from", p.cfg.Since.UTC().Format(time.RFC3339), "checkpoint", "none")
		return fresh, nil
	case err != nil:
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if cp.OrgURL != p.cfg.OrgURL || cp.StartDate != p.cfg.StartDate {
		p.log.Info("oktainput starting a new checkpoint: org_url or start_date changed", "stanza", p.cfg.Key,
			"old_org", cp.OrgURL, "new_org", p.cfg.OrgURL, "old_start_date", cp.StartDate, "new_start_date", p.cfg.StartDate,
			"from", p.cfg.Since.UTC().Format(time.RFC3339))
		return fresh, nil
	}
	if cp.Filter != p.cfg.Filter || cp.Q != p.cfg.Q {
		// The saved cursor carries the old filter. Start a new polling query from the last
		// delivered event; the seen set drops the events at that boundary that were delivered.
		since := p.cfg.Since
		if t, err := time.Parse(time.RFC3339Nano, cp.LastPublished); err == nil {
			since = t
		}
		p.log.Info("oktainput filter or q changed: new query from the last delivered event", "stanza", p.cfg.Key,
			"from", since.UTC().Format(time.RFC3339Nano))
		cp.Filter, cp.Q = p.cfg.Filter, p.cfg.Q
		cp.NextURL = p.client.PollURL(okta.Query{Since: since, Limit: p.cfg.PageLimit, Filter: p.cfg.Filter, Q: p.cfg.Q})
		return cp, nil
	}
	p.log.Info("oktainput resuming", "stanza", p.cfg.Key, "events_so_far", cp.Events, "last_published", cp.LastPublished)
	return cp, nil
}

// logStats writes the one health line per polling cycle that dashboards and alerts chart.
// A value it does not know is left out rather than written as 0, which the dashboards would
// read as a fact: the lag of an input whose checkpoint could not be read, the rate limit
// before Okta has sent its headers.
func (p *Poller) logStats(c *cycle, caughtUp bool) {
	now := p.clock.Now()
	st := p.client.Stats()
	attrs := []any{
		"stanza", p.cfg.Key,
		"org", host(p.cfg.OrgURL),
		"events", c.events,
		"pages", c.pages,
		"duplicates_skipped", c.dups,
	}
	switch {
	case !c.lastPublished.IsZero():
		attrs = append(attrs, "lag_seconds", max(now.Sub(c.lastPublished).Seconds(), 0))
	case caughtUp:
		attrs = append(attrs, "lag_seconds", 0.0)
	case !c.newest.IsZero():
		attrs = append(attrs, "lag_seconds", max(now.Sub(c.newest).Seconds(), 0))
	}
	if st.LastRate.Valid {
		attrs = append(attrs, "rate_limit_limit", st.LastRate.Limit, "rate_limit_remaining", st.LastRate.Remaining)
	}
	attrs = append(attrs,
		"retries", st.Retries-c.base.Retries,
		"throttled_seconds", (st.Throttled - c.base.Throttled).Seconds(),
		"caught_up", caughtUp,
	)
	p.log.Info("oktainput stats", attrs...)
	*c = cycle{started: now, base: st, logged: true, newest: c.newest}
}

func host(org string) string {
	u, err := url.Parse(org)
	if err != nil {
		return org
	}
	return u.Host
}

// redactURL keeps a URL's path and the cursor but drops anything that could be sensitive.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	return u.String()
}

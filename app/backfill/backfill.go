// Package backfill owns the reading of a closed range of the System Log: bounded requests
// (since and until) from Okta, every event not already in the index written once, progress
// saved after each page so a killed backfill resumes, and completion recorded so a second run
// does nothing.
package backfill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/poll"
)

// Limits on the range a backfill may read.
const (
	// Retention is how long Okta keeps System Log events: an older Since would silently read
	// less than asked.
	Retention = 90 * 24 * time.Hour
	// Settle is how far in the past Until must be. A bounded query filters on published, and
	// Okta may still be persisting events published in the last minute or so: a range that
	// ends closer to now could be read before all of its events exist, and be marked done.
	Settle = 2 * time.Minute
	// DefaultPageLimit is the events per request when Config.PageLimit is zero.
	DefaultPageLimit = okta.MaxLimit
	// maxEmptyPages bounds a run of empty pages that still carry a next link: a bounded query
	// has a finite number of pages, so an endless run is a server fault, not progress.
	maxEmptyPages = 50
	// Seen-set bounds, as the poller's: enough to recognise a page Okta serves again.
	seenPages = 2
	seenUUIDs = 2000
)

// Errors of Config.Validate, for errors.Is.
var (
	ErrRange      = errors.New("since must be before until")
	ErrNotSettled = errors.New("until is too recent")
	ErrRetention  = errors.New("since is beyond Okta's 90-day retention")
	ErrConfig     = errors.New("invalid backfill configuration")
)

// Errors of a bounded query that does not end.
var (
	errNoProgress = errors.New("okta returned a next link equal to the page just read")
	errEmptyPages = errors.New("too many empty pages with a next link in a bounded query")
)

// timeLayout is how times appear in keys, checkpoints and logs: UTC to the millisecond.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Values of the summary line's status and dedup fields.
const (
	summaryMessage = "oktainput backfill"
	statusDone     = "complete"
	statusAlready  = "already_done"
	statusFailed   = "failed"
	statusStopped  = "stopped"
	dedupIndex     = "index"
	dedupNone      = "none"
)

// Fetcher is what a backfill needs from the Okta client (*okta.Client has it).
type Fetcher interface {
	BoundedURL(q okta.Query) string
	Fetch(ctx context.Context, url string) (*okta.Page, error)
}

// Config is one backfill: which input, which org, and the range [Since, Until) of published.
type Config struct {
	Stanza       string    // input name; part of the checkpoint key
	OrgURL       string    // normalised org URL; part of the checkpoint's identity
	Since, Until time.Time // read events published in [Since, Until); kept to the millisecond
	PageLimit    int       // events per request, 1-1000; default 1000
	Filter, Q    string    // as the input's filter and q settings
	// Now is the clock that Until and Since are checked against; default time.Now.
	Now func() time.Time
	// Redo reads a range again even when an earlier run completed it (after Okta reported
	// delayed events, say); with Known from the index, what is already there is skipped.
	Redo bool
}

// Result counts what one Run did. Events = Written + Skipped + Repeated + OutOfRange.
type Result struct {
	Pages      int // pages read from Okta
	Events     int // events in those pages
	Skipped    int // already in the index (Known), not written
	Written    int // delivered to the sink
	Repeated   int // served again by Okta after a page this backfill already wrote
	OutOfRange int // published outside [Since, Until), which a bounded query should not return
	// AlreadyDone says the range was completed by an earlier run; nothing was read.
	AlreadyDone bool
	// Resumed says the run went on from the checkpoint of an earlier, interrupted run.
	Resumed bool
}

// Key is the checkpoint key of a backfill: "backfill:<stanza>:<since>-<until>", times in UTC
// to the millisecond, so the same range of the same input always finds its own progress.
func Key(stanza string, since, until time.Time) string {
	return "backfill:" + stanza + ":" + since.UTC().Format(timeLayout) + "-" + until.UTC().Format(timeLayout)
}

// interval is the range as an ISO 8601 interval, kept in the checkpoint's StartDate.
func interval(since, until time.Time) string {
	return since.UTC().Format(timeLayout) + "/" + until.UTC().Format(timeLayout)
}

// normalize keeps times in UTC to Okta's millisecond and fills defaults.
func (c Config) normalize() Config {
	c.Since = c.Since.UTC().Truncate(time.Millisecond)
	c.Until = c.Until.UTC().Truncate(time.Millisecond)
	if c.PageLimit == 0 {
		c.PageLimit = DefaultPageLimit
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Validate checks a backfill about to start at now; its errors name the setting and wrap
// ErrRange, ErrNotSettled, ErrRetention or ErrConfig.
func (c Config) Validate(now time.Time) error {
	c = c.normalize()
	errs := c.checkStatic()
	if !c.Until.IsZero() {
		if latest := now.Add(-Settle); c.Until.After(latest) {
			errs = append(errs, fmt.Errorf("until (%s): %w: it must be at least %s ago (no later than %s), because Okta may still be storing events of the last minute or so",
				c.Until.Format(timeLayout), ErrNotSettled, Settle, latest.UTC().Format(timeLayout)))
		}
	}
	if !c.Since.IsZero() {
		if oldest := now.Add(-Retention); c.Since.Before(oldest) {
			errs = append(errs, fmt.Errorf("since (%s): %w: the oldest event Okta still has is from %s",
				c.Since.Format(timeLayout), ErrRetention, oldest.UTC().Format(timeLayout)))
		}
	}
	return errors.Join(errs...)
}

// checkStatic checks what does not depend on the clock.
func (c Config) checkStatic() []error {
	var errs []error
	if c.Stanza == "" {
		errs = append(errs, fmt.Errorf("stanza: %w: is empty", ErrConfig))
	}
	if c.Since.IsZero() {
		errs = append(errs, fmt.Errorf("since: %w: is required", ErrConfig))
	}
	if c.Until.IsZero() {
		errs = append(errs, fmt.Errorf("until: %w: is required", ErrConfig))
	}
	if !c.Since.IsZero() && !c.Until.IsZero() && !c.Since.Before(c.Until) {
		errs = append(errs, fmt.Errorf("%w: since is %s, until is %s", ErrRange, c.Since.Format(timeLayout), c.Until.Format(timeLayout)))
	}
	q := okta.Query{Since: c.Since, Until: c.Until, Limit: c.PageLimit, Filter: c.Filter, Q: c.Q}
	if err := q.Validate(); err != nil && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%w: %w", ErrConfig, err))
	}
	return errs
}

// Run reads [cfg.Since, cfg.Until) with bounded requests, following next links until a page
// has none, and writes to sink every event that known does not hold. After each page it
// saves its checkpoint (Key), so a run that stops or fails is resumed by the next run with
// the same stanza and range; a completed range is recorded, and a later run returns at once
// with Result.AlreadyDone. known may be nil (nothing is skipped, as with KnownNone); log may
// be nil. Once it has found its checkpoint, it logs one INFO summary line whatever the
// outcome; a configuration or checkpoint error is only returned.
//
// A stop (ctx ending) returns an error wrapping ctx.Err(): the range is not complete.
func Run(ctx context.Context, cfg Config, client Fetcher, sink poll.Sink, known Known, store checkpoint.Store, log *slog.Logger) (Result, error) {
	cfg = cfg.normalize()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dedup := dedupIndex
	if _, none := known.(KnownNone); none || known == nil {
		known, dedup = KnownNone{}, dedupNone
	}
	var res Result
	summary := func(status string) {
		indexed := -1 // unknown
		if n, ok := known.(interface{ Len() int }); ok {
			indexed = n.Len()
		}
		log.Info(summaryMessage,
			"stanza", cfg.Stanza,
			"since", cfg.Since.Format(timeLayout),
			"until", cfg.Until.Format(timeLayout),
			"pages", res.Pages,
			"events", res.Events,
			"skipped_indexed", res.Skipped,
			"written", res.Written,
			"repeated", res.Repeated,
			"out_of_range", res.OutOfRange,
			"dedup", dedup,
			"indexed_uuids", indexed,
			"status", status,
		)
	}
	if errs := cfg.checkStatic(); len(errs) > 0 {
		return res, fmt.Errorf("backfill: %w", errors.Join(errs...))
	}
	key := Key(cfg.Stanza, cfg.Since, cfg.Until)
	cp, next, err := start(ctx, cfg, key, store, log)
	if err != nil {
		return res, err
	}
	if cp == nil {
		res.AlreadyDone = true
		summary(statusAlready)
		return res, nil
	}
	res.Resumed = next != ""
	if !res.Resumed {
		if err := cfg.Validate(cfg.Now()); err != nil {
			return res, fmt.Errorf("backfill: %w", err)
		}
		next = client.BoundedURL(okta.Query{Since: cfg.Since, Until: cfg.Until, Limit: cfg.PageLimit, Filter: cfg.Filter, Q: cfg.Q})
	}
	if dedup == dedupNone {
		log.Warn("oktainput backfill without an index to compare with: events already indexed will be written again",
			"stanza", cfg.Stanza)
	}

	err = read(ctx, cfg, key, cp, next, client, sink, known, store, &res)
	switch {
	case err == nil:
		summary(statusDone)
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		summary(statusStopped)
		err = fmt.Errorf("backfill %s stopped after %d pages; run it again to resume: %w", key, res.Pages, ctx.Err())
	default:
		summary(statusFailed)
	}
	return res, err
}

// start loads the backfill's checkpoint. It returns (nil, "", nil) when the range is already
// complete, the checkpoint and its next URL when resuming, and a fresh checkpoint with no URL
// for a new backfill. A checkpoint of the same key for another org, filter or q is replaced:
// its progress is not progress of this query.
func start(ctx context.Context, cfg Config, key string, store checkpoint.Store, log *slog.Logger) (*checkpoint.Checkpoint, string, error) {
	fresh := &checkpoint.Checkpoint{
		Version: checkpoint.Version, Stanza: key, OrgURL: cfg.OrgURL,
		StartDate: interval(cfg.Since, cfg.Until), Filter: cfg.Filter, Q: cfg.Q,
	}
	cp, err := store.Load(ctx, key)
	switch {
	case errors.Is(err, checkpoint.ErrNotFound):
		return fresh, "", nil
	case err != nil:
		return nil, "", fmt.Errorf("backfill %s: checkpoint: %w", key, err)
	}
	if cp.OrgURL != fresh.OrgURL || cp.StartDate != fresh.StartDate || cp.Filter != fresh.Filter || cp.Q != fresh.Q {
		log.Warn("oktainput backfill starting over: the saved progress is for another org, filter or q",
			"stanza", cfg.Stanza, "key", key, "old_org", cp.OrgURL, "old_filter", cp.Filter, "old_q", cp.Q)
		return fresh, "", nil
	}
	if cp.NextURL == "" {
		if cfg.Redo {
			log.Info("oktainput backfill reading a completed range again", "stanza", cfg.Stanza, "key", key)
			return fresh, "", nil
		}
		return nil, "", nil
	}
	log.Info("oktainput backfill resuming", "stanza", cfg.Stanza, "key", key,
		"written_so_far", cp.Events, "last_published", cp.LastPublished)
	if oldest := cfg.Now().Add(-Retention); cfg.Since.Before(oldest) {
		log.Warn("oktainput backfill resuming a range that now starts beyond Okta's 90-day retention: events older than that are gone",
			"stanza", cfg.Stanza, "since", cfg.Since.Format(timeLayout), "oldest", oldest.UTC().Format(timeLayout))
	}
	return cp, cp.NextURL, nil
}

// read fetches pages from next until one has no next link. Each page is filtered, written,
// and only then recorded in the checkpoint, so a stop at any point repeats at most the page
// in hand and never skips one.
func read(ctx context.Context, cfg Config, key string, cp *checkpoint.Checkpoint, next string,
	client Fetcher, sink poll.Sink, known Known, store checkpoint.Store, res *Result) error {
	seen := checkpoint.NewSeen(seenPages, seenUUIDs)
	seen.LoadList(cp.Seen)
	// A page in hand is written and saved even when a stop arrives: the stop is honoured
	// between pages.
	durable := context.WithoutCancel(ctx)
	fresh := make([]okta.Event, 0, cfg.PageLimit)
	empty := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := client.Fetch(ctx, next)
		if err != nil {
			return fmt.Errorf("backfill %s: fetch page %d: %w", key, res.Pages+1, err)
		}
		if page.Next != "" && page.Next == next {
			// Checked before writing: a page that would be served for ever must not be
			// written even once without its progress being saved.
			return fmt.Errorf("backfill %s: page %d: %w", key, res.Pages+1, errNoProgress)
		}
		res.Pages++
		res.Events += len(page.Events)
		fresh = fresh[:0]
		for _, ev := range page.Events {
			switch {
			case ev.Published.Before(cfg.Since) || !ev.Published.Before(cfg.Until):
				res.OutOfRange++
			case seen.Contains(ev.UUID, ev.Published):
				res.Repeated++
			case known.Has(ev.UUID):
				res.Skipped++
			default:
				fresh = append(fresh, ev)
			}
		}
		if len(fresh) > 0 {
			if err := sink.WritePage(durable, fresh); err != nil {
				return fmt.Errorf("backfill %s: write %d events of page %d: %w", key, len(fresh), res.Pages, err)
			}
			last := fresh[len(fresh)-1]
			cp.LastPublished = last.Published.UTC().Format(timeLayout)
			cp.LastUUID = last.UUID
			cp.Events += int64(len(fresh))
			res.Written += len(fresh)
		}
		if len(page.Events) > 0 {
			seen.AddEvents(page.Events)
			empty = 0
		} else if page.Next != "" {
			if empty++; empty > maxEmptyPages {
				return fmt.Errorf("backfill %s: %w (%d in a row)", key, errEmptyPages, empty)
			}
		}
		// An empty NextURL in a saved backfill checkpoint means the range is complete.
		cp.NextURL = page.Next
		cp.Seen = seen.List()
		if page.Next == "" {
			cp.Seen = nil
		}
		cp.UpdatedAt = cfg.Now().UTC()
		if err := store.Save(durable, key, cp); err != nil {
			return fmt.Errorf("backfill %s: save checkpoint after page %d: %w", key, res.Pages, err)
		}
		if page.Next == "" {
			return nil
		}
		next = page.Next
	}
}

// Completed reports whether an earlier run completed cfg's range (and Redo is not set), so a
// caller can skip building Known, an export search over the whole range, for nothing.
func Completed(ctx context.Context, cfg Config, store checkpoint.Store) (bool, error) {
	cfg = cfg.normalize()
	if errs := cfg.checkStatic(); len(errs) > 0 {
		return false, fmt.Errorf("backfill: %w", errors.Join(errs...))
	}
	cp, _, err := start(ctx, cfg, Key(cfg.Stanza, cfg.Since, cfg.Until), store, slog.New(slog.DiscardHandler))
	return cp == nil && err == nil, err
}

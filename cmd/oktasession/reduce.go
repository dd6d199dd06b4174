package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"

	"github.com/oktasight/oktasight/app/extsort"
	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// The reduce phase's memory: the events' records are kept up to reduceBudget bytes before they
// are sorted and written to a run file in the job's dispatch directory, and the sequences of
// the last reply up to replySpillAt bytes before they go to a file there. See
// docs/oktasession.md, "In a distributed deployment", for how the figures were chosen.
const (
	defaultReduceBudget = 8 << 20
	replySpillAt        = 1 << 20
)

// reduceBudget is defaultReduceBudget; tests lower it to make the reduce spill.
var reduceBudget = defaultReduceBudget

// reducer orders the reduce phase's input by time before the engine sees any of it. splunkd
// hands the search head the map outputs of all indexers in the order they arrive (whole chunks
// of one indexer, then another), so no order can be assumed: every event is kept as a record
// (session.Event.AppendRecord: its fields, length-prefixed), the records are sorted by time
// (then by their bytes, so that ties do not depend on arrival either), and the engine is fed
// once all input is in. The engine then sees one stream in time order, and its result is that
// of the single-phase command on sorted input, whatever the interleaving.
//
// The record is binary rather than the compact CSV row the map phase wrote: it needs no quoting
// going in and no CSV reader and extractor coming back, which were two thirds of the sort's
// cost (the reduce on the realistic stream, callgrind: 2 297 M -> 1 505 M instructions per
// 100 000 events). The map phase's rows become records without an Event in between, most of
// them straight from their CSV lines (command.sequenceRows: 1 489 M -> 1 300 M).
type reducer struct {
	dir    string // where spill files go: the job's dispatch directory
	sorter *extsort.Sorter
	rec    []byte
	reply  *os.File // the last reply's spilled rows
	// removed says reply was unlinked while open.
	removed bool
	err     error // the first error of a callback that cannot return one
}

func newReducer(dispatchDir string) *reducer {
	dir := dispatchDir
	if dir == "" {
		dir = os.TempDir() // a getinfo-only run, or a test without one
	}
	return &reducer{
		dir:    dir,
		sorter: extsort.New(extsort.Options{Dir: dir, Prefix: "oktasession-sort-", Budget: reduceBudget}),
	}
}

// add keeps an event as its record, keyed by its time.
func (r *reducer) add(ev *session.Event) error {
	r.rec = ev.AppendRecord(r.rec[:0])
	return r.addRecord(ev.Time, r.rec)
}

// addRecord keeps an event's record (session.Event.AppendRecord's), keyed by its time t.
func (r *reducer) addRecord(t int64, rec []byte) error {
	if err := r.sorter.Add(t, rec); err != nil {
		return fmt.Errorf("keeping events in time order in %s: %w", r.dir, err)
	}
	return nil
}

// finish feeds the engine every record in time order and closes it.
func (r *reducer) finish(ctx context.Context, eng *session.Engine) error {
	var ev session.Event
	err := r.sorter.Each(ctx, func(t int64, rec []byte) error {
		ev.Time = t
		if ev.ReadRecord(rec) != nil {
			return errors.New("oktasession: internal error: a record kept for sorting does not read back as an event")
		}
		eng.Add(&ev)
		return nil
	})
	if err != nil {
		return fmt.Errorf("reading back the events kept in time order: %w", err)
	}
	// The run files can go now; the reply's file stays until the reply is written.
	if err := r.sorter.Close(); err != nil {
		return err
	}
	eng.Close()
	return r.err
}

// spillReply moves the reply's rows to a file in the dispatch directory once they pass
// replySpillAt bytes: the reduce writes every sequence into its last reply.
func (r *reducer) spillReply(w *scp.RowWriter) {
	if w.Buffered() < replySpillAt || r.err != nil {
		return
	}
	if r.reply == nil {
		f, err := os.CreateTemp(r.dir, "oktasession-reply-*")
		if err != nil {
			r.err = fmt.Errorf("oktasession: making room for the sequences in %s: %w", r.dir, err)
			return
		}
		r.reply = f
		// Unlinked while open where the system allows it, so not even a killed process leaves it.
		r.removed = runtime.GOOS != "windows" && os.Remove(f.Name()) == nil
	}
	if err := w.Spill(r.reply); err != nil {
		r.err = fmt.Errorf("oktasession: writing the sequences to %s: %w", r.dir, err)
	}
}

// stats describes the sort for the inspector.
func (r *reducer) stats() extsort.Stats { return r.sorter.Stats() }

// close removes what the reducer put on disk; it runs on every way out of the command.
func (r *reducer) close() {
	_ = r.sorter.Close()
	if r.reply != nil {
		_ = r.reply.Close()
		if !r.removed {
			_ = os.Remove(r.reply.Name())
		}
		r.reply = nil
	}
}

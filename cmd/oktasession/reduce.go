package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"unsafe"

	"github.com/oktasight/oktasight/app/extsort"
	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// The reduce phase's memory: compact records are kept up to reduceBudget bytes before they
// are sorted and written to a run file in the job's dispatch directory, and the sequences of
// the last reply up to replySpillAt bytes before they go to a file there. See
// docs/oktasession.md, "In a distributed deployment", for how the figures were chosen.
const (
	defaultReduceBudget = 8 << 20
	replySpillAt        = 1 << 20
	readBackBatch       = 256 << 10 // bytes of records parsed at once when they are read back
)

// reduceBudget is defaultReduceBudget; tests lower it to make the reduce spill.
var reduceBudget = defaultReduceBudget

// reducer orders the reduce phase's input by time before the engine sees any of it. splunkd
// hands the search head the map outputs of all indexers in the order they arrive (whole chunks
// of one indexer, then another), so no order can be assumed: every event is kept as its
// compact record, in the map phase's own columns, the records are sorted by time (then by
// their bytes, so that ties do not depend on arrival either), and the engine is fed once all
// input is in. The engine then sees one stream in time order, and its result is that of the
// single-phase command on sorted input, whatever the interleaving.
type reducer struct {
	dir     string // where spill files go: the job's dispatch directory
	sorter  *extsort.Sorter
	rec     record   // an Event as a compact record
	fields  []string // the record's fields: the map phase's
	header  []byte   // the records' header row, the batch's first line
	timeBuf []byte
	batch   []byte // records read back, as a CSV body
	rr      scp.RowReader
	reply   *os.File // the last reply's spilled rows
	removed bool     // reply was unlinked while open
	err     error    // the first error of a callback that cannot return one
}

func newReducer(dispatchDir string) *reducer {
	dir := dispatchDir
	if dir == "" {
		dir = os.TempDir() // a getinfo-only run, or a test without one
	}
	return &reducer{
		dir:    dir,
		sorter: extsort.New(extsort.Options{Dir: dir, Prefix: "oktasession-sort-", Budget: reduceBudget}),
		fields: append([]string{"_time"}, session.CompactFields...),
	}
}

// add keeps an event as its compact record, keyed by its time.
func (r *reducer) add(ev *session.Event) error {
	if r.header == nil {
		for _, name := range r.fields {
			r.header = append(scp.AppendCell(r.header, name), ',')
		}
		r.header = append(r.header[:len(r.header)-1], '\r', '\n')
	}
	r.rec = r.rec[:0]
	r.timeBuf = formatMillis(r.timeBuf[:0], ev.Time)
	r.rec.ValueBytes(r.timeBuf)
	r.timeBuf = ev.WriteCompact(&r.rec, r.timeBuf)
	if err := r.sorter.Add(ev.Time, r.rec[:len(r.rec)-1]); err != nil { // the record without its last comma
		return fmt.Errorf("keeping events in time order in %s: %w", r.dir, err)
	}
	return nil
}

// record is a compact record as a CSV row of plain cells, each followed by a comma: the cells
// an scp.RowWriter writes, quoted alike, without their empty __mv_ twins, which the reduce
// would otherwise write, sort and read back for nothing (the reduce: 2,343 M -> 2,305 M
// instructions per 100 000 events, callgrind, realistic stream; 2.5 MB less to sort). Records order as the
// RowWriter's did (by time, then bytes): up to their first difference both spell the same
// cells and commas, and there both compare the same two bytes, a cell's or its comma.
type record []byte

func (w *record) Value(v string) { *w = append(scp.AppendCell(*w, v), ',') }

func (w *record) ValueBytes(v []byte) { w.Value(unsafe.String(unsafe.SliceData(v), len(v))) }

// Values writes a multivalue as its plain cell: the values one per line.
func (w *record) Values(vs []string) { w.Value(strings.Join(vs, "\n")) }

// finish feeds the engine every record in time order and closes it.
func (r *reducer) finish(ctx context.Context, eng *session.Engine) error {
	x := newExtractor()
	var ev session.Event
	feed := func() error {
		if err := r.rr.Reset(r.batch); err != nil {
			return err
		}
		x.bind(&r.rr)
		for r.rr.Next() {
			if x.event(&ev) != rowEvent {
				return errors.New("oktasession: internal error: a record kept for sorting does not read back as an event")
			}
			eng.Add(&ev)
		}
		r.batch = r.batch[:len(r.header)]
		return r.rr.Err()
	}
	r.batch = append(r.batch[:0], r.header...)
	err := r.sorter.Each(ctx, func(_ int64, rec []byte) error {
		r.batch = append(append(r.batch, rec...), '\r', '\n')
		if len(r.batch) < readBackBatch {
			return nil
		}
		return feed()
	})
	if err == nil && len(r.batch) > len(r.header) {
		err = feed()
	}
	if err != nil {
		return fmt.Errorf("reading back the events kept in time order: %w", err)
	}
	r.batch = nil
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

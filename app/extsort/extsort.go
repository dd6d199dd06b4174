// Package extsort sorts records by an int64 key within a memory budget: records beyond the
// budget are sorted and written to run files on disk, which are merged as the records are
// read back, as Splunk's own sort does in the search's dispatch directory.
//
// Records are opaque bytes, ordered by key and then by their bytes, so the order of equal
// keys does not depend on the order the records were added in. Run files carry a checksum per
// block: a damaged file gives ErrCorrupt, never wrong records. Close removes every file on
// every path; on systems that allow it a run file is unlinked as soon as it is created, so
// not even a killed process leaves one behind.
package extsort

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
)

// Defaults of Options' zero fields, and the largest record.
const (
	DefaultBudget = 16 << 20
	DefaultFanIn  = 64
	DefaultPrefix = "extsort-"
	MaxRecord     = 16 << 20
)

// entrySize is the memory an entry takes in the index.
const entrySize = 16

// removeOpen says whether a run file can be unlinked while it is open (not on Windows);
// tests turn it off to check that Close removes the files itself.
var removeOpen = runtime.GOOS != "windows"

// Options configure a Sorter.
type Options struct {
	Dir    string // where run files go; os.TempDir() when empty
	Prefix string // run file names start with it; DefaultPrefix when empty
	Budget int    // bytes of records and index kept in memory before a spill; DefaultBudget when <= 0
	FanIn  int    // the most runs merged at once; DefaultFanIn when < 2
}

// Stats says what a Sorter did.
type Stats struct {
	Records int64 // records added
	Runs    int   // run files written, merges included
	Spilled int64 // bytes written to run files
}

// Sorter sorts records within a memory budget. Add records, call Each once to read them in
// order, and Close to free what it holds, also after an error. A Sorter is not safe for
// concurrent use.
type Sorter struct {
	o        Options
	slabSize int
	slabs    [][]byte // record bytes, each a uvarint length then the record; slabs[:cur+1] in use
	cur      int
	slabMem  int // bytes of all slabs
	ents     []entry
	runs     []*run
	blk      []byte // a writer's block buffer, reused
	stats    Stats
	done     bool
	err      error // sticky: a write failed
}

// entry is a record in memory: its key and where its bytes are.
type entry struct {
	key  int64
	slab uint32
	off  uint32
}

// New returns a Sorter; it touches the disk only when the records outgrow the budget.
func New(o Options) *Sorter {
	if o.Dir == "" {
		o.Dir = os.TempDir()
	}
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Budget <= 0 {
		o.Budget = DefaultBudget
	}
	if o.FanIn < 2 {
		o.FanIn = DefaultFanIn
	}
	// Eight slabs or more to a budget, so that the last, partly filled one wastes little.
	return &Sorter{o: o, slabSize: min(max(o.Budget/8, 4<<10), 1<<20)}
}

// Stats returns what the Sorter did so far.
func (s *Sorter) Stats() Stats { return s.stats }

// Add copies a record in. It writes a run file when the budget is full.
func (s *Sorter) Add(key int64, rec []byte) error {
	if s.err != nil {
		return s.err
	}
	if s.done {
		return errors.New("extsort: Add after Each")
	}
	if len(rec) > MaxRecord {
		return fmt.Errorf("extsort: a record of %d bytes, the most is %d", len(rec), MaxRecord)
	}
	need := uvarintLen(uint64(len(rec))) + len(rec)
	if len(s.ents) == cap(s.ents) && len(s.ents) > 0 && s.slabMem+2*cap(s.ents)*entrySize > s.o.Budget {
		if err := s.spill(); err != nil {
			return err
		}
	}
	slab, err := s.room(need)
	if err != nil {
		return err
	}
	b := s.slabs[slab]
	s.ents = append(s.ents, entry{key: key, slab: uint32(slab), off: uint32(len(b))})
	b = binary.AppendUvarint(b, uint64(len(rec)))
	s.slabs[slab] = append(b, rec...)
	s.stats.Records++
	return nil
}

// room returns a slab with need bytes free, spilling when the budget allows no more slabs.
// slabs[:cur+1] hold records; the slabs after cur are empty ones kept from before a spill.
func (s *Sorter) room(need int) (int, error) {
	for {
		if s.cur < len(s.slabs) && cap(s.slabs[s.cur])-len(s.slabs[s.cur]) >= need {
			return s.cur, nil
		}
		if need <= s.slabSize && s.cur+1 < len(s.slabs) {
			s.cur++
			continue
		}
		size := max(s.slabSize, need)
		if len(s.ents) == 0 || s.slabMem+size+cap(s.ents)*entrySize <= s.o.Budget {
			at := min(s.cur+1, len(s.slabs))
			s.slabs = slices.Insert(s.slabs, at, make([]byte, 0, size))
			s.slabMem += size
			s.cur = at
			return s.cur, nil
		}
		if err := s.spill(); err != nil {
			return 0, err
		}
	}
}

// record returns an entry's bytes.
func (s *Sorter) record(e entry) []byte {
	b := s.slabs[e.slab][e.off:]
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)]
}

func (s *Sorter) compare(a, b entry) int {
	if c := cmp.Compare(a.key, b.key); c != 0 {
		return c
	}
	return bytes.Compare(s.record(a), s.record(b))
}

// spill writes the records in memory as a run file, then merges runs that have piled up.
func (s *Sorter) spill() error {
	slices.SortFunc(s.ents, s.compare)
	r, w, err := s.newRun(0)
	if err != nil {
		return err
	}
	for _, e := range s.ents {
		if err = w.add(e.key, s.record(e)); err != nil {
			break
		}
	}
	if err == nil {
		err = w.finish()
	}
	r.size, r.count = w.off, w.count
	s.stats.Spilled += w.off
	s.runs = append(s.runs, r)
	if err != nil {
		return s.fail(err)
	}
	s.ents = s.ents[:0]
	// Keep the slabs for the next records; one that grew for a large record goes.
	kept := s.slabs[:0]
	s.slabMem = 0
	for _, b := range s.slabs {
		if cap(b) == s.slabSize {
			kept = append(kept, b[:0])
			s.slabMem += cap(b)
		}
	}
	clear(s.slabs[len(kept):])
	s.slabs, s.cur = kept, 0
	return s.compact()
}

// compact merges the last FanIn runs into one whenever they are of one level, so that runs
// pile up as digits of a number in base FanIn: each record is written once per level, and
// fewer than FanIn runs of each level are open at a time.
func (s *Sorter) compact() error {
	for n := len(s.runs); n >= s.o.FanIn; n = len(s.runs) {
		tail := s.runs[n-s.o.FanIn:]
		if tail[0].level != tail[len(tail)-1].level {
			return nil
		}
		if err := s.mergeTail(s.o.FanIn); err != nil {
			return err
		}
	}
	return nil
}

// mergeTail merges the last k runs into one.
func (s *Sorter) mergeTail(k int) error {
	n := len(s.runs)
	tail := s.runs[n-k:]
	level := 0
	srcs := make([]source, 0, k)
	for _, r := range tail {
		level = max(level, r.level+1)
		rr, err := openRun(r.f, r.size, r.name, nil)
		if err != nil {
			return s.fail(err)
		}
		srcs = append(srcs, rr)
	}
	out, w, err := s.newRun(level)
	if err != nil {
		return err
	}
	err = merge(context.Background(), srcs, w.add)
	if err == nil {
		err = w.finish()
	}
	out.size, out.count = w.off, w.count
	s.stats.Spilled += w.off
	for _, r := range tail {
		if cerr := r.close(); cerr != nil && err == nil {
			err = cerr
		}
	}
	s.runs = append(s.runs[:n-k], out)
	if err != nil {
		return s.fail(err)
	}
	return nil
}

// newRun creates a run file and its writer.
func (s *Sorter) newRun(level int) (*run, *runWriter, error) {
	f, err := os.CreateTemp(s.o.Dir, s.o.Prefix+"*.run")
	if err != nil {
		return nil, nil, s.fail(fmt.Errorf("extsort: creating a run file: %w", err))
	}
	r := &run{f: f, name: f.Name(), level: level}
	if removeOpen && os.Remove(r.name) == nil {
		r.removed = true
	}
	s.stats.Runs++
	w, err := newRunWriter(f, r.name, s.blk)
	s.blk = w.blk
	if err != nil {
		s.runs = append(s.runs, r) // for Close
		return nil, nil, s.fail(err)
	}
	return r, w, nil
}

func (s *Sorter) fail(err error) error {
	if s.err == nil {
		s.err = err
	}
	return s.err
}

// Each calls fn for every record in order: by key, then by bytes. rec is valid only during
// the call. It stops at fn's first error, at a damaged run file, or when ctx is done. Each
// runs once; Close the Sorter afterwards.
func (s *Sorter) Each(ctx context.Context, fn func(key int64, rec []byte) error) error {
	if s.err != nil {
		return s.err
	}
	if s.done {
		return errors.New("extsort: Each called twice")
	}
	s.done = true
	// The records in memory are one more source: keep the runs below FanIn.
	for len(s.runs) > s.o.FanIn-1 {
		if err := s.mergeTail(min(s.o.FanIn, len(s.runs)-s.o.FanIn+2)); err != nil {
			return err
		}
	}
	slices.SortFunc(s.ents, s.compare)
	srcs := []source{&memSource{s: s, i: -1}}
	for _, r := range s.runs {
		rr, err := openRun(r.f, r.size, r.name, nil)
		if err != nil {
			return err
		}
		srcs = append(srcs, rr)
	}
	return merge(ctx, srcs, fn)
}

// Close removes the run files and lets the records go. It can be called more than once.
func (s *Sorter) Close() error {
	var errs []error
	for _, r := range s.runs {
		if err := r.close(); err != nil && !errors.Is(err, os.ErrClosed) {
			errs = append(errs, fmt.Errorf("extsort: removing %s: %w", r.name, err))
		}
	}
	s.runs, s.slabs, s.ents, s.blk, s.slabMem = nil, nil, nil, nil, 0
	s.done = true
	if s.err == nil {
		s.err = errors.New("extsort: Sorter closed")
	}
	return errors.Join(errs...)
}

// memSource serves the sorted records in memory to merge.
type memSource struct {
	s *Sorter
	i int
}

func (m *memSource) next() (bool, error) {
	m.i++
	return m.i < len(m.s.ents), nil
}

func (m *memSource) head() (int64, []byte) {
	e := m.s.ents[m.i]
	return e.key, m.s.record(e)
}

func (r *runReader) head() (int64, []byte) { return r.key, r.rec }

// source is a sorted series of records.
type source interface {
	next() (bool, error) // moves to the next record; false at the end
	head() (int64, []byte)
}

// merge calls fn for the records of srcs in order.
func merge(ctx context.Context, srcs []source, fn func(int64, []byte) error) error {
	h := heap{}
	for _, src := range srcs {
		ok, err := src.next()
		if err != nil {
			return err
		}
		if ok {
			h.push(src)
		}
	}
	for n := 0; len(h.items) > 0; n++ {
		if n&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("extsort: stopped: %w", err)
			}
		}
		top := h.items[0]
		if err := fn(top.key, top.rec); err != nil {
			return err
		}
		ok, err := top.src.next()
		if err != nil {
			return err
		}
		if ok {
			top.key, top.rec = top.src.head()
			h.fix()
		} else {
			h.pop()
		}
	}
	return nil
}

// heap is a min-heap of sources by their head record.
type heap struct{ items []*cursor }

type cursor struct {
	src source
	key int64
	rec []byte
}

func (c *cursor) less(d *cursor) bool {
	if c.key != d.key {
		return c.key < d.key
	}
	return bytes.Compare(c.rec, d.rec) < 0
}

func (h *heap) push(src source) {
	k, r := src.head()
	h.items = append(h.items, &cursor{src: src, key: k, rec: r})
	for i := len(h.items) - 1; i > 0; {
		p := (i - 1) / 2
		if !h.items[i].less(h.items[p]) {
			break
		}
		h.items[i], h.items[p] = h.items[p], h.items[i]
		i = p
	}
}

func (h *heap) pop() {
	n := len(h.items) - 1
	h.items[0] = h.items[n]
	h.items[n] = nil
	h.items = h.items[:n]
	h.fix()
}

// fix moves the top down to its place.
func (h *heap) fix() {
	items := h.items
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(items) {
			return
		}
		m := l
		if r := l + 1; r < len(items) && items[r].less(items[l]) {
			m = r
		}
		if !items[m].less(items[i]) {
			return
		}
		items[i], items[m] = items[m], items[i]
		i = m
	}
}

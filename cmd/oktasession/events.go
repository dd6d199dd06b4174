package main

import (
	"slices"
	"strconv"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// heldRows keeps mode=events rows until they can go out: when the engine assigns them to a
// sequence, or at the end for rows it never will. Rows are kept as their CSV line with the
// header of their chunk, because splunkd may change the columns from one chunk to the next.
type heldRows struct {
	headers []*rowHeader
	rows    map[int64]*heldRow
	ready   []*heldRow
	next    int64
	fields  []string       // union of every chunk's fields, in order of first appearance
	known   map[string]int // field name → position in fields
	rr      scp.RowReader
	buf     []byte
}

type rowHeader struct {
	line  []byte
	names []string
}

type heldRow struct {
	hdr    *rowHeader
	line   []byte
	ref    int64
	a      session.Assignment
	placed bool
}

func newHeldRows() *heldRows {
	return &heldRows{rows: make(map[int64]*heldRow), known: make(map[string]int), next: 1}
}

// header registers the current chunk's header, reusing the previous one when it is the same.
func (h *heldRows) header(r *scp.RowReader) *rowHeader {
	if n := len(h.headers); n > 0 && string(h.headers[n-1].line) == string(r.Header()) {
		return h.headers[n-1]
	}
	hd := &rowHeader{line: append([]byte(nil), r.Header()...)}
	for i := range r.NumFields() {
		name := r.FieldName(i)
		hd.names = append(hd.names, name)
		if _, ok := h.known[name]; !ok && !slices.Contains(session.EventFields, name) {
			h.known[name] = len(h.fields)
			h.fields = append(h.fields, name)
		}
	}
	h.headers = append(h.headers, hd)
	return hd
}

// add keeps a copy of a row and returns its reference.
func (h *heldRows) add(hdr *rowHeader, line []byte) int64 {
	ref := h.next
	h.next++
	h.rows[ref] = &heldRow{hdr: hdr, line: append([]byte(nil), line...), ref: ref}
	return ref
}

// assign is the engine's callback: the row joined a sequence and can go out.
func (h *heldRows) assign(ref int64, a session.Assignment) {
	if row, ok := h.rows[ref]; ok {
		row.a, row.placed = a, true
		h.release(ref)
	}
}

// release queues a row for the current reply.
func (h *heldRows) release(ref int64) {
	if row, ok := h.rows[ref]; ok {
		delete(h.rows, ref)
		h.ready = append(h.ready, row)
	}
}

// releaseAll queues every row still held, in input order: the engine has finished.
func (h *heldRows) releaseAll() {
	refs := make([]int64, 0, len(h.rows))
	for ref := range h.rows {
		refs = append(refs, ref)
	}
	slices.Sort(refs)
	for _, ref := range refs {
		h.release(ref)
	}
}

// flush writes the queued rows into the reply: every field seen so far, then the sequence
// fields (empty for a row in no sequence).
func (h *heldRows) flush(w *scp.RowWriter) error {
	if len(h.ready) == 0 {
		return nil
	}
	if err := w.SetFields(append(slices.Clone(h.fields), session.EventFields...)...); err != nil {
		return err
	}
	// Rows go out in input order within a reply.
	slices.SortFunc(h.ready, func(a, b *heldRow) int { return int(a.ref - b.ref) })
	pos := make([]int, len(h.fields))
	for _, row := range h.ready {
		h.buf = append(append(append(h.buf[:0], row.hdr.line...), '\n'), row.line...)
		if err := h.rr.Reset(h.buf); err != nil {
			return err
		}
		if !h.rr.Next() {
			return h.rr.Err()
		}
		for i, name := range h.fields {
			pos[i] = h.rr.Index(name)
		}
		for _, p := range pos {
			if p < 0 {
				w.Value("")
				continue
			}
			w.Cell(h.rr.Value(p), h.rr.MV(p))
		}
		if row.placed {
			w.Value(row.a.SeqID)
			w.Value(row.a.Flow.String())
			w.Value(strconv.Itoa(row.a.Step))
			w.Value(row.a.Status)
		} else {
			for range session.EventFields {
				w.Value("")
			}
		}
		if err := w.EndRow(); err != nil {
			return err
		}
	}
	clear(h.ready)
	h.ready = h.ready[:0]
	return nil
}

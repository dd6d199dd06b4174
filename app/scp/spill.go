package scp

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// spillFile is where a RowWriter's spilled rows go: written in order, read back once.
type spillFile interface {
	io.Writer
	io.ReaderAt
}

// Spill moves the rows written so far out of memory, appending them to f, so that a reply
// larger than memory can be built: a reporting command that can write nothing before
// splunkd's last request puts all its output in that one reply. Serve sends the header, the
// spilled rows and the rows written since as one body. f must stay open until the reply is
// written, and every Spill of a reply must go to the same f; the caller removes it.
func (w *RowWriter) Spill(f spillFile) error {
	if w.spill != nil && w.spill != f {
		return errors.New("scp: Spill to a second file in one reply")
	}
	rows := w.body[w.head:w.rowStart]
	if len(rows) == 0 && len(w.blocks) == 0 {
		return nil
	}
	for _, b := range w.blocks {
		if _, err := f.Write(b[w.head:]); err != nil {
			return fmt.Errorf("scp: spilling reply rows: %w", err)
		}
	}
	if _, err := f.Write(rows); err != nil {
		return fmt.Errorf("scp: spilling reply rows: %w", err)
	}
	w.spill = f
	w.spilled += int64(w.blocked + len(rows))
	w.releaseBlocks()
	// Keep the cells of a row begun but not ended.
	n := copy(w.body[w.head:], w.body[w.rowStart:])
	w.body = w.body[:w.head+n]
	w.rowStart = w.head
	return nil
}

// Buffered returns how many bytes of rows the writer holds in memory.
func (w *RowWriter) Buffered() int { return w.blocked + w.rowStart - w.head }

// writeReply writes a reply chunk with the writer's body, its spilled rows and its blocks
// included, in the order they were written.
func (w *ChunkWriter) writeReply(meta []byte, rw *RowWriter) error {
	if rw.spilled == 0 && len(rw.blocks) == 0 {
		return w.WriteChunk(meta, rw.Body())
	}
	body := rw.body[:rw.rowStart] // rows were written: the header is there
	w.hdr = append(w.hdr[:0], headerPrefix...)
	w.hdr = strconv.AppendInt(w.hdr, int64(len(meta)), 10)
	w.hdr = append(w.hdr, ',')
	w.hdr = strconv.AppendInt(w.hdr, int64(len(body)+rw.blocked)+rw.spilled, 10)
	w.hdr = append(w.hdr, '\n')
	for _, b := range [][]byte{w.hdr, meta, body[:rw.head]} {
		if _, err := w.bw.Write(b); err != nil {
			return fmt.Errorf("scp: writing chunk: %w", err)
		}
	}
	if rw.spilled > 0 {
		if _, err := io.CopyN(w.bw, io.NewSectionReader(rw.spill, 0, rw.spilled), rw.spilled); err != nil {
			return fmt.Errorf("scp: writing spilled reply rows: %w", err)
		}
	}
	for _, b := range rw.blocks {
		if _, err := w.bw.Write(b[rw.head:]); err != nil {
			return fmt.Errorf("scp: writing chunk: %w", err)
		}
	}
	if _, err := w.bw.Write(body[rw.head:]); err != nil {
		return fmt.Errorf("scp: writing chunk: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("scp: flushing chunk: %w", err)
	}
	return nil
}

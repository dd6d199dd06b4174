package extsort

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// ErrCorrupt marks a run file that is not what the Sorter wrote: truncated, changed on disk,
// or not a run file at all. No record of a block is returned before its checksum is checked,
// so a damaged file gives this error, never wrong records.
var ErrCorrupt = errors.New("extsort: damaged run file")

// A run file is the sorted records of one spill:
//
//	magic "EXSRUN1\n"
//	blocks: u32 payload length (1..maxBlock), u32 checksum, the payload: records, each a
//	        varint key, a uvarint length and the record's bytes
//	end:    u32 0, u32 checksum, u64 count of records
//
// all little-endian, and nothing after the end. A record never spans blocks. The checksum is
// CRC-32C of the block's offset in the file and its payload (the count, for the end), so a
// block that moved, or one missing before it, fails its check as a changed one does.
const (
	magic     = "EXSRUN1\n"
	blockSize = 64 << 10 // a block's payload, unless one record needs more
	maxBlock  = MaxRecord + 2*binary.MaxVarintLen64
	blockHead = 8
	endSize   = blockHead + 8
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// checksum is a block's checksum: CRC-32C of its offset, then its payload.
func checksum(off int64, payload []byte) uint32 {
	var o [8]byte
	binary.LittleEndian.PutUint64(o[:], uint64(off))
	return crc32.Update(crc32.Checksum(o[:], castagnoli), castagnoli, payload)
}

// runWriter writes one run file block by block.
type runWriter struct {
	w     io.Writer
	name  string
	blk   []byte // block head space, then the payload being built
	off   int64  // bytes written
	count uint64
}

func newRunWriter(w io.Writer, name string, buf []byte) (*runWriter, error) {
	rw := &runWriter{w: w, name: name, blk: append(buf[:0], make([]byte, blockHead)...)}
	return rw, rw.write([]byte(magic))
}

func (w *runWriter) write(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err != nil {
		return fmt.Errorf("extsort: writing %s: %w", w.name, err)
	}
	return nil
}

// add appends a record; records must come in order.
func (w *runWriter) add(key int64, rec []byte) error {
	need := varintLen(key) + uvarintLen(uint64(len(rec))) + len(rec)
	if len(w.blk) > blockHead && len(w.blk)-blockHead+need > blockSize {
		if err := w.flush(); err != nil {
			return err
		}
	}
	w.blk = binary.AppendVarint(w.blk, key)
	w.blk = binary.AppendUvarint(w.blk, uint64(len(rec)))
	w.blk = append(w.blk, rec...)
	w.count++
	return nil
}

func (w *runWriter) flush() error {
	payload := w.blk[blockHead:]
	binary.LittleEndian.PutUint32(w.blk[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(w.blk[4:], checksum(w.off, payload))
	err := w.write(w.blk)
	w.blk = w.blk[:blockHead]
	return err
}

// finish writes the last block and the end.
func (w *runWriter) finish() error {
	if len(w.blk) > blockHead {
		if err := w.flush(); err != nil {
			return err
		}
	}
	var end [endSize]byte
	binary.LittleEndian.PutUint64(end[blockHead:], w.count)
	binary.LittleEndian.PutUint32(end[4:], checksum(w.off, end[blockHead:]))
	return w.write(end[:])
}

// runReader reads a run file back, checking each block before it returns a record of it.
type runReader struct {
	ra      io.ReaderAt
	size    int64
	name    string
	off     int64 // of the next block head
	blk     []byte
	pos     int
	count   uint64
	key     int64
	rec     []byte
	prev    []byte // the record before, to check the order
	prevKey int64
	end     bool
}

// openRun starts reading a run of size bytes; buf is reused as its block buffer.
func openRun(ra io.ReaderAt, size int64, name string, buf []byte) (*runReader, error) {
	r := &runReader{ra: ra, size: size, name: name, blk: buf[:0]}
	var m [len(magic)]byte
	if err := r.readAt(m[:], 0, "its start"); err != nil {
		return nil, err
	}
	if string(m[:]) != magic {
		return nil, r.corrupt(0, "it does not start as a run file does")
	}
	r.off = int64(len(magic))
	return r, nil
}

func (r *runReader) corrupt(off int64, what string) error {
	return fmt.Errorf("%w %s at byte %d: %s (was it changed or cut short on disk, or is the disk failing?)", ErrCorrupt, r.name, off, what)
}

// readAt reads exactly len(b) bytes at off, or says which part of the file is missing.
func (r *runReader) readAt(b []byte, off int64, what string) error {
	if off+int64(len(b)) > r.size {
		return r.corrupt(off, "the file ends inside "+what)
	}
	n, err := r.ra.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		return r.corrupt(off+int64(n), "the file ends inside "+what)
	}
	return fmt.Errorf("extsort: reading %s at byte %d: %w", r.name, off+int64(n), err)
}

// next moves to the next record, false at the end of the run.
func (r *runReader) next() (bool, error) {
	for r.pos >= len(r.blk) {
		if r.end {
			return false, nil
		}
		if err := r.readBlock(); err != nil {
			return false, err
		}
	}
	at := r.off - int64(len(r.blk)) + int64(r.pos) // for errors: where the record starts
	b := r.blk[r.pos:]
	key, n := binary.Varint(b)
	if n <= 0 {
		return false, r.corrupt(at, "a record's key is not a varint")
	}
	l, m := binary.Uvarint(b[n:])
	if m <= 0 || l > uint64(len(b)-n-m) {
		return false, r.corrupt(at, "a record runs past the end of its block")
	}
	rec := b[n+m : n+m+int(l)]
	if r.count > 0 && (key < r.prevKey || key == r.prevKey && bytes.Compare(rec, r.prev) < 0) {
		return false, r.corrupt(at, "records out of order")
	}
	r.pos += n + m + int(l)
	r.key, r.rec, r.prevKey, r.prev = key, rec, key, append(r.prev[:0], rec...)
	r.count++
	return true, nil
}

// readBlock reads and checks the next block, or the end.
func (r *runReader) readBlock() error {
	var head [blockHead]byte
	if err := r.readAt(head[:], r.off, "a block's head (the file has no end mark)"); err != nil {
		return err
	}
	n := binary.LittleEndian.Uint32(head[0:])
	sum := binary.LittleEndian.Uint32(head[4:])
	if n == 0 {
		var c [8]byte
		if err := r.readAt(c[:], r.off+blockHead, "its end mark"); err != nil {
			return err
		}
		switch {
		case checksum(r.off, c[:]) != sum:
			return r.corrupt(r.off, "the end mark's checksum does not match")
		case binary.LittleEndian.Uint64(c[:]) != r.count:
			return r.corrupt(r.off, fmt.Sprintf("the end mark counts %d records, the blocks hold %d", binary.LittleEndian.Uint64(c[:]), r.count))
		case r.off+endSize != r.size:
			return r.corrupt(r.off+endSize, "data after the end mark")
		}
		r.end, r.blk, r.pos = true, r.blk[:0], 0
		return nil
	}
	if n > maxBlock {
		return r.corrupt(r.off, fmt.Sprintf("a block of %d bytes, more than a writer makes", n))
	}
	if cap(r.blk) < int(n) {
		r.blk = make([]byte, n, max(int(n), blockSize))
	}
	r.blk = r.blk[:n]
	if err := r.readAt(r.blk, r.off+blockHead, "a block"); err != nil {
		return err
	}
	if checksum(r.off, r.blk) != sum {
		return r.corrupt(r.off, "a block's checksum does not match")
	}
	r.off += blockHead + int64(n)
	r.pos = 0
	return nil
}

// run is a run file of the Sorter.
type run struct {
	f       *os.File
	name    string
	size    int64
	count   uint64
	level   int  // 0 for a spill, one more than its inputs' for a merge
	removed bool // unlinked while still open (not on Windows), so nothing is left to remove
}

// close closes the file and removes it if it is still there.
func (r *run) close() error {
	err := r.f.Close()
	if !r.removed {
		if rerr := os.Remove(r.name); rerr != nil && !errors.Is(rerr, os.ErrNotExist) && err == nil {
			err = rerr
		}
		r.removed = true
	}
	return err
}

func varintLen(v int64) int {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return uvarintLen(u)
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

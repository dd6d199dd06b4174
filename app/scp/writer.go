package scp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unsafe"
)

// ErrNoFields means a row was written before SetFields.
var ErrNoFields = errors.New("scp: row written before SetFields")

// RowWriter builds the CSV body of one reply: a header row with each field followed by its
// __mv_ twin (as splunklib writes them), then rows of cells in field order. Rows are staged so
// that a row with the wrong number of cells is dropped whole and the body stays valid.
type RowWriter struct {
	body     []byte
	fields   []string
	rowStart int
	cells    int
	rows     int
	msgs     []Message
	mv       []byte
	err      error
	shared   *[sharedSets]sharedSet // SharedValues' cells, made on first use

	millis     int64    // the last epoch milliseconds Decimal wrote (0: none)
	millisCell [16]byte // and its cell

	head    int       // the header's length
	spill   spillFile // where Spill moved rows to (see spill.go)
	spilled int64     // bytes of rows in spill

	// Rows written before body's, in full blocks (see EndRow): each block holds its rows
	// after head bytes, the first block's being the header and the others' unused.
	blocks  [][]byte
	blocked int      // bytes of rows in blocks
	spare   [][]byte // emptied blocks of earlier replies, for the next ones
}

// A reply's rows are kept in blocks of blockSize bytes rather than in one body that grows by
// reallocation: a map reply of 50 000 rows is 20 MB, and growing it 1.25-fold at a time
// allocated some 100 MB and copied 80 MB for each first such reply, with the page faults of
// fresh memory, and held the old body and the new one at once. EndRow moves on to a new
// block once its rows (the header aside) pass blockFill, so that a row of up to
// blockSize-blockFill bytes less the header's never makes a block grow, and a row never
// straddles two blocks. 2 MiB is more than a reply that the reduce spills at 1 MiB
// (cmd/oktasession) holds: with 1 MiB blocks, two of them took turns there, 1.5 MB more RSS
// and 500 more page faults on the realistic stream.
const (
	blockSize = 2 << 20
	blockFill = blockSize - 64<<10
)

// sharedSets is how many pairs of lists SharedValues remembers: a flow's step lists are a few
// dozen. Two lists to a set, so that two frequent lists whose hashes meet do not push each
// other out on every row: with one list to a slot, which lists met depended on where the
// linker put the strings. On the fields-only stream one build wrote 76 lists anew, another
// of the same code 2,935 of some 41,000, which cost it 13M instructions.
const sharedSets = 128

// sharedSet is a set of SharedValues' cells, and which of them was used last.
type sharedSet struct {
	ways [2]sharedCell
	last int
}

// sharedCell is a list SharedValues wrote and its encoding, both columns and their commas.
type sharedCell struct {
	list []string // the strings themselves, held so that their addresses stay theirs
	cell []byte
}

// Reset empties the writer for the next reply, keeping its buffers.
func (w *RowWriter) Reset() {
	w.body, w.fields, w.rowStart, w.cells, w.rows, w.msgs, w.err = w.body[:0], w.fields[:0], 0, 0, 0, w.msgs[:0], nil
	w.head, w.spill, w.spilled = 0, nil, 0
	w.releaseBlocks()
}

// releaseBlocks keeps the blocks for reuse and forgets their rows.
func (w *RowWriter) releaseBlocks() {
	for _, b := range w.blocks {
		if cap(b) >= blockSize {
			w.spare = append(w.spare, b[:0])
		}
	}
	clear(w.blocks)
	w.blocks, w.blocked = w.blocks[:0], 0
}

// nextBlock sets the body's rows aside in blocks and continues in a spare or new block, with
// the header copied to its start so that the body keeps its layout. EndRow calls it between
// rows.
func (w *RowWriter) nextBlock() {
	w.blocks = append(w.blocks, w.body[:w.rowStart])
	w.blocked += w.rowStart - w.head
	var b []byte
	if n := len(w.spare); n > 0 {
		b, w.spare[n-1], w.spare = w.spare[n-1], nil, w.spare[:n-1]
	} else {
		b = make([]byte, 0, blockSize)
	}
	w.body = append(b, w.body[:w.head]...)
	w.rowStart = w.head
}

// SetFields declares the reply's fields; it must come before the first row. Declaring the same
// fields again is allowed, other fields once rows are written are not.
func (w *RowWriter) SetFields(names ...string) error {
	if len(w.fields) > 0 {
		if slices.Equal(w.fields, names) {
			return nil
		}
		if w.rows > 0 || w.cells > 0 {
			return fmt.Errorf("scp: SetFields %v after rows with fields %v", names, w.fields)
		}
	}
	if len(names) == 0 {
		return errors.New("scp: SetFields with no fields")
	}
	if len(w.fields) == 0 && w.cells > 0 {
		w.err = ErrNoFields // the row begun before SetFields, whose cells go with the old body
	}
	w.fields = append(w.fields[:0], names...)
	w.body = w.body[:0]
	for i, name := range names {
		if i > 0 {
			w.body = append(w.body, ',')
		}
		w.body = appendCell(w.body, name)
		w.body = append(w.body, ',')
		w.body = appendCell(w.body, mvPrefix+name)
	}
	w.body = append(w.body, '\r', '\n')
	w.rowStart, w.head = len(w.body), len(w.body)
	return nil
}

// Fields returns the declared fields.
func (w *RowWriter) Fields() []string { return w.fields }

// Value writes a single-valued cell; "" writes an empty one. Every cell is written with the
// comma that follows it, so a cell costs no test for being the first; EndRow turns the row's
// last comma into the line end. A cell before SetFields is written too, and EndRow drops its
// row: no cell method tests for the fields.
//
// The common cell needs no quotes and is a few words long: it is copied a word at a time,
// its tail as a last word overlapping the one before, while the bytes below '-' (which
// include every byte that needs quoting) are gathered in one mask; only a cell with such a
// byte (a space, say), a long one, or one that needs the body to grow goes the general way.
// Against a separate appendValue that looked up every such byte as it came, through a slice
// with bounds checks, and a test for the fields in every cell: Value 138M -> 89M
// instructions on the fields-only stream.
func (w *RowWriter) Value(v string) {
	w.cells++
	if v == "" {
		// A third of a sequence's cells: their comma and their empty twin's.
		w.body = append(w.body, ',', ',')
		return
	}
	n, o := len(v), len(w.body)
	if n > maxFastValue || cap(w.body)-o < valueRoom {
		w.valueSlow(v)
		return
	}
	// The cell is written through an array indexed by uint8, which needs no bounds checks.
	b := (*[valueRoom]byte)(w.body[o : o+valueRoom])
	src := unsafe.Slice(unsafe.StringData(v), n) // read only
	var m uint64
	switch {
	case n >= 8:
		for i := 0; i < n-8; i += 8 {
			x := binary.LittleEndian.Uint64(src[i:])
			m |= below(x, '-')
			binary.LittleEndian.PutUint64(b[uint8(i):], x)
		}
		x := binary.LittleEndian.Uint64(src[n-8:])
		m |= below(x, '-')
		binary.LittleEndian.PutUint64(b[uint8(n-8):], x)
	case n >= 4:
		lo, hi := binary.LittleEndian.Uint32(src), binary.LittleEndian.Uint32(src[n-4:])
		m = below(uint64(lo)|uint64(hi)<<32, '-')
		binary.LittleEndian.PutUint32(b[:], lo)
		binary.LittleEndian.PutUint32(b[uint8(n-4):], hi)
	default:
		for i, c := range src {
			if c < '-' {
				m = 1
			}
			b[uint8(i)] = c
		}
	}
	if m != 0 {
		w.valueSlow(v)
		return
	}
	b[uint8(n)], b[uint8(n+1)] = ',', ','
	w.body = w.body[:o+n+2]
}

// maxFastValue is the longest cell Value copies itself; valueRoom is the spare capacity it
// wants for that, enough for a word written at any uint8 index.
const (
	maxFastValue = 240
	valueRoom    = 256 + 8
)

// valueSlow is Value's general path, for a cell that may need quotes, a long one, or a body
// that must grow.
func (w *RowWriter) valueSlow(v string) {
	w.body = append(appendCell(w.body, v), ',', ',')
}

// Decimal writes the number v/10^scale as a cell, with exactly scale digits after the point
// (none and no point when scale is 0; scale is at most 18): 1717200000123 at scale 3 is
// 1717200000.123, 5 is 0.005. Digits need no quoting, so they go straight into the body's
// spare capacity, without the scan Value makes: the length is known from the digit count,
// and the digits are written from the last one back, two per division by 100 (as strconv
// does), with fast paths for a single digit and for epoch milliseconds. Against one digit
// per division through a stack array and a copy, on the fields-only stream (8 numbers a
// sequence, 4 of them times): Decimal 120M -> 35M instructions, the command 1,585M ->
// 1,511M (GC off).
func (w *RowWriter) Decimal(v int64, scale int) {
	w.cells++
	o := len(w.body)
	if cap(w.body)-o < decimalRoom {
		w.body = slices.Grow(w.body, decimalRoom)
	}
	switch {
	case scale == 3 && v >= 1e12 && v < 1e13:
		// Epoch milliseconds from 2001 to 2286, half of a sequence's numbers: a fixed layout.
		// A sequence's _time and start are the same: the second is copied (1,449M -> 1,439M
		// instructions for the command on the fields-only stream, with putMillis writing
		// into the body's array).
		b := (*[16]byte)(w.body[o : o+16])
		if v == w.millis {
			*b = w.millisCell
		} else {
			putMillis(b, uint64(v))
			w.millis, w.millisCell = v, *b
		}
		w.body = w.body[:o+16]
		return
	case scale <= 0 && uint64(v) < 10:
		// Most counts.
		w.body = append(w.body, byte('0'+v), ',', ',')
		return
	}
	scale = min(max(scale, 0), 18)
	u := uint64(v)
	size := 2 // the cell's comma and its empty twin's
	if v < 0 {
		u = -u
		size++
	}
	if n := decimalDigits(u); scale == 0 {
		size += n
	} else {
		size += max(n, scale+1) + 1 // at least "0." before the scale digits
	}
	// The cell is written through an array of 256 bytes indexed by uint8, which needs no
	// bounds checks: they were a third of the instructions (size is at most 24).
	b := (*[decimalRoom]byte)(w.body[o : o+decimalRoom])
	w.body = w.body[:o+size]
	i := uint8(size - 2)
	b[i], b[i+1] = ',', ','
	for k := scale; k >= 2; k -= 2 {
		q := u / 100
		i -= 2
		p := digitPairs[uint8(u-q*100)]
		b[i], b[i+1] = byte(p), byte(p>>8)
		u = q
	}
	if scale&1 != 0 {
		q := u / 10
		i--
		b[i] = byte('0' + u - q*10)
		u = q
	}
	if scale > 0 {
		i--
		b[i] = '.'
	}
	for u >= 100 {
		q := u / 100
		i -= 2
		p := digitPairs[uint8(u-q*100)]
		b[i], b[i+1] = byte(p), byte(p>>8)
		u = q
	}
	if u >= 10 {
		i -= 2
		p := digitPairs[uint8(u)]
		b[i], b[i+1] = byte(p), byte(p>>8)
	} else {
		i--
		b[i] = byte('0' + u)
	}
	if v < 0 {
		b[0] = '-'
	}
}

// decimalRoom is the spare capacity Decimal makes sure of, more than a cell's 24 bytes at
// most (a sign, 20 digits, a point, the commas) so that the cell can be written through an
// array indexed by uint8.
const decimalRoom = 256

// digitPairs holds the two digits of 0 to 99 as little-endian pairs ("00" to "99"),
// padded to 256 entries for the same reason.
var digitPairs = func() (t [256]uint16) {
	for i := range 100 {
		t[i] = uint16('0'+i/10) | uint16('0'+i%10)<<8
	}
	return t
}()

// putMillis writes epoch milliseconds of 13 digits as a cell: 10 digits, the point, 3 digits
// and the commas, at fixed places, two digits at a time.
func putMillis(b *[16]byte, u uint64) {
	s := u / 1000
	ms := u - s*1000
	h := ms / 100
	b[11] = byte('0' + h)
	binary.LittleEndian.PutUint16(b[12:], digitPairs[uint8(ms-h*100)])
	b[10] = '.'
	b[14], b[15] = ',', ','
	// Unrolled: the loop's own counting was a fifth of the instructions.
	q := s / 100
	binary.LittleEndian.PutUint16(b[8:], digitPairs[uint8(s-q*100)])
	s, q = q, q/100
	binary.LittleEndian.PutUint16(b[6:], digitPairs[uint8(s-q*100)])
	s, q = q, q/100
	binary.LittleEndian.PutUint16(b[4:], digitPairs[uint8(s-q*100)])
	s, q = q, q/100
	binary.LittleEndian.PutUint16(b[2:], digitPairs[uint8(s-q*100)])
	binary.LittleEndian.PutUint16(b[0:], digitPairs[uint8(q)]) // q < 100: s had 10 digits
}

// pow10 holds 10^0 to 10^19, all the powers of ten a uint64 holds.
var pow10 = [20]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// decimalDigits returns how many decimal digits u has (1 for 0): log10 from the bit length
// (1233/4096 is just above log10(2)), corrected by one comparison.
func decimalDigits(u uint64) int {
	u |= 1 // 0 has a digit too; the bit changes no other count, as 10^t is even for t > 0
	t := bits.Len64(u) * 1233 >> 12
	if u >= pow10[t] {
		t++
	}
	return t
}

// ValueBytes is Value for bytes.
func (w *RowWriter) ValueBytes(v []byte) { w.Value(bstr(v)) }

// Values writes a cell of any number of values: none is empty, one is a plain value, more are
// joined by newlines in the plain column and encoded in the __mv_ column.
func (w *RowWriter) Values(vs []string) {
	switch len(vs) {
	case 0:
		// Half of a sequence's lists (user agents, reasons, uuids of the fields-only stream).
		w.cells++
		w.body = append(w.body, ',', ',')
	case 1:
		w.Value(vs[0])
	default:
		w.cells++
		if !anyEscape(vs) {
			// The common case (step names, uuids): nothing to double in either column.
			w.body = append(w.body, '"')
			for i, v := range vs {
				if i > 0 {
					w.body = append(w.body, '\n')
				}
				w.body = append(w.body, v...)
			}
			w.body = append(w.body, '"', ',')
			for i, v := range vs {
				if i > 0 {
					w.body = append(w.body, ';')
				}
				w.body = append(append(append(w.body, '$'), v...), '$')
			}
			w.body = append(w.body, ',')
			return
		}
		w.body = append(w.body, '"')
		for i, v := range vs {
			if i > 0 {
				w.body = append(w.body, '\n')
			}
			w.body = appendEscaped(w.body, v)
		}
		w.body = append(w.body, '"', ',')
		w.mv = AppendMV(w.mv[:0], vs)
		w.body = append(appendCell(w.body, bstr(w.mv)), ',')
	}
}

// SharedValues is Values for lists that recur from row to row, such as the step names of a
// sequence: the writer remembers the encoded cells of recent lists and copies a whole cell
// when the same strings come again. A list is recognised by the address and length of each
// string (strings never change, and the writer holds the ones it remembers), so lists of
// constants are found at little cost; lists of strings made for one row would only fill the
// slots and keep those strings alive.
func (w *RowWriter) SharedValues(vs []string) {
	if len(vs) < 2 || len(w.fields) == 0 {
		w.Values(vs)
		return
	}
	h := uint64(len(vs))
	for _, v := range vs {
		h = (h ^ uint64(uintptr(unsafe.Pointer(unsafe.StringData(v))))) * 0x9e3779b97f4a7c15
		h = (h ^ uint64(len(v))) * 0x9e3779b97f4a7c15
	}
	if w.shared == nil {
		w.shared = new([sharedSets]sharedSet)
	}
	set := &w.shared[h>>57%sharedSets]
	for i := range set.ways {
		if c := &set.ways[i]; sameStrings(c.list, vs) {
			set.last = i
			w.cells++
			w.body = append(w.body, c.cell...)
			return
		}
	}
	// The cell used less recently makes way.
	set.last ^= 1
	c := &set.ways[set.last]
	start := len(w.body)
	w.Values(vs)
	c.list = append(c.list[:0], vs...)
	c.cell = append(c.cell[:0], w.body[start:]...)
}

// sameStrings reports whether a and b hold the very same strings: same addresses, same lengths.
func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if unsafe.StringData(a[i]) != unsafe.StringData(b[i]) || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

// anyEscape reports whether a value of vs needs escaping in the plain or the __mv_ column.
func anyEscape(vs []string) bool {
	for _, v := range vs {
		if hasAny(v, &needsEscape) {
			return true
		}
	}
	return false
}

// Cell writes a cell from its two columns as a RowReader returns them (Value and MV), to pass
// an input field through unchanged.
func (w *RowWriter) Cell(plain, mv []byte) {
	w.cells++
	w.body = append(appendCell(w.body, bstr(plain)), ',')
	w.body = append(appendCell(w.body, bstr(mv)), ',')
}

// EndRow finishes the row. A row with a cell count other than the field count is dropped and
// reported.
func (w *RowWriter) EndRow() error {
	err := w.err
	if err == nil && len(w.fields) == 0 {
		err = ErrNoFields
	}
	if err == nil && w.cells != len(w.fields) {
		err = fmt.Errorf("scp: row with %d cells for %d fields: %w", w.cells, len(w.fields), ErrFieldCount)
	}
	w.cells, w.err = 0, nil
	if err != nil {
		w.body = w.body[:w.rowStart]
		return err
	}
	// The row has at least one cell (SetFields refuses none): its last byte is a comma.
	w.body[len(w.body)-1] = '\r'
	w.body = append(w.body, '\n')
	w.rowStart = len(w.body)
	w.rows++
	if w.rowStart-w.head >= blockFill {
		w.nextBlock()
	}
	return nil
}

// WriteRow writes a whole row, one []string of values per field.
func (w *RowWriter) WriteRow(values [][]string) error {
	for _, v := range values {
		w.Values(v)
	}
	return w.EndRow()
}

// Rows returns how many rows the body holds.
func (w *RowWriter) Rows() int { return w.rows }

// Body returns the CSV written so far (but for rows moved out by Spill), empty when no row was
// written. It is a copy when the rows fill more than one block.
func (w *RowWriter) Body() []byte {
	if w.rows == 0 {
		return nil
	}
	if len(w.blocks) == 0 {
		return w.body[:w.rowStart]
	}
	b := make([]byte, 0, w.rowStart+w.blocked)
	b = append(b, w.body[:w.head]...)
	for _, blk := range w.blocks {
		b = append(b, blk[w.head:]...)
	}
	return append(b, w.body[w.head:w.rowStart]...)
}

// Message adds a message for the search's inspector (and the UI banner for WARN and ERROR)
// to this reply.
func (w *RowWriter) Message(level Level, text string) {
	w.msgs = append(w.msgs, Message{Level: level, Text: text})
}

// needsQuote marks the bytes that make Python's QUOTE_MINIMAL quote a cell.
var needsQuote = [256]bool{'"': true, ',': true, '\n': true, '\r': true}

// needsEscape marks the bytes that a multivalue cell's columns escape: needsQuote's and the
// __mv_ encoding's '$'.
var needsEscape = [256]bool{'"': true, ',': true, '\n': true, '\r': true, '$': true}

// AppendCell appends s to dst as a CSV cell, quoted as Value quotes it: for records kept
// outside a reply (the reduce's sort) in the same bytes, without the __mv_ twins.
func AppendCell(dst []byte, s string) []byte { return appendCell(dst, s) }

// appendCell appends v CSV-quoted when it holds a quote, comma, CR or LF, as Python's
// QUOTE_MINIMAL does.
func appendCell(dst []byte, s string) []byte {
	if !quotable(s) {
		return append(dst, s...)
	}
	return appendQuoted(dst, s)
}

// appendQuoted appends s in quotes, its quotes doubled.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s)
	return append(dst, '"')
}

// quotable reports whether s holds a byte that makes Python's QUOTE_MINIMAL quote a cell. A
// long cell is searched for each such byte with IndexByte's vector instructions rather than
// word by word (user agents, whose spaces and brackets made hasAny stop at most words; hasAny
// took 350 instructions a user agent): callgrind, realistic stream, the map 3,380 M ->
// 3,345 M; the reduce, whose records go through AppendCell, 2,298 M -> 2,274 M.
func quotable(s string) bool {
	if len(s) < 32 {
		return hasAny(s, &needsQuote)
	}
	return strings.IndexByte(s, ',') >= 0 || strings.IndexByte(s, '"') >= 0 ||
		strings.IndexByte(s, '\n') >= 0 || strings.IndexByte(s, '\r') >= 0
}

// hasAny reports whether s holds a byte of set, whose bytes must all be below '-': s is
// tested a word at a time for bytes below '-' and only those (spaces, '$', brackets) are
// looked up; a tail shorter than a word is tested as the last word of s, overlapping the one
// before.
func hasAny(s string, set *[256]bool) bool {
	n := len(s)
	b := unsafe.Slice(unsafe.StringData(s), n) // read only
	if n < 8 {
		if n < 4 {
			for i := range n {
				if set[b[i]] {
					return true
				}
			}
			return false
		}
		// Two halves that overlap when n < 8 make one word.
		x := uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint32(b[n-4:]))<<32
		for m := below(x, '-'); m != 0; m &= m - 1 {
			if k := bits.TrailingZeros64(m) >> 3; (k < 4 && set[b[k]]) || (k >= 4 && set[b[n-8+k]]) {
				return true
			}
		}
		return false
	}
	for i := 0; ; i += 8 {
		if i+8 > n {
			i = n - 8
		}
		for m := below(binary.LittleEndian.Uint64(b[i:]), '-'); m != 0; m &= m - 1 {
			if set[b[i+bits.TrailingZeros64(m)>>3]] {
				return true
			}
		}
		if i+8 == n {
			return false
		}
	}
}

// appendEscaped appends v with every quote doubled.
func appendEscaped(dst []byte, s string) []byte {
	for {
		j := strings.IndexByte(s, '"')
		if j < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:j+1]...)
		dst = append(dst, '"')
		s = s[j+1:]
	}
}

// bstr views b as a string without copying; the result must not outlive b's bytes.
func bstr(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

package scp

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strings"
)

// Errors a ParseError unwraps to.
var (
	ErrFieldCount = errors.New("wrong number of fields")
	ErrQuote      = errors.New(`extraneous or missing " in quoted field`)
	ErrMultivalue = errors.New("malformed multivalue ($value$;$value$)")
)

// ParseError is a CSV or multivalue error in a chunk body. Row 0 is the header row; Column is
// 1-based, 0 when unknown.
type ParseError struct {
	Row    int
	Column int
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column > 0 {
		return fmt.Sprintf("scp: csv row %d, column %d: %v", e.Row, e.Column, e.Err)
	}
	return fmt.Sprintf("scp: csv row %d: %v", e.Row, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// mvPrefix marks the column that carries a field's values in Splunk's multivalue encoding.
const mvPrefix = "__mv_"

// field is one Splunk field of a body: its plain column and its __mv_ twin (-1 when absent).
type field struct {
	name      string
	plain, mv int
}

// RowReader reads the CSV body of an execute chunk without building a map per row: look a
// field up once with Index, then read each row's cells by index. Values point into the body
// or into the reader's scratch space and are valid until the next call to Next or Reset.
//
// A body comes whole (Reset) or as a stream (ResetReader): then the reader holds a window of
// it, at least one row, refilled as rows are read, so memory does not grow with the body.
type RowReader struct {
	body    []byte // the whole body, or the window of the stream in hand
	pos     int
	row     int
	fields  []field
	index   map[string]int
	cells   [][]byte
	ncols   int
	header  []byte
	line    []byte
	scratch []byte // unescaped quoted cells of the current row
	mvBuf   []byte // unescaped multivalue items
	err     error
	slow    bool // always parse byte by byte (tests compare the two parsers)

	// Streaming (ResetReader).
	src    io.Reader // nil once the body is all in hand
	win    []byte    // the window's buffer, kept from body to body
	short  bool      // the last parse failed for want of bytes (a quote not closed yet)
	window int       // the smallest window, streamWindow when 0 (tests make it tiny)

	// The column whose cells are returned verbatim (Verbatim), -1 for none, and its scanner.
	vcol  int
	vscan CellScanner
}

// A CellScanner reads a quoted cell in place for a RowReader: given the bytes in hand and
// the index of the cell's opening quote, it returns the index just past the cell's closing
// quote (the first quote inside that is not doubled), or -1 to let the reader find it. It
// may keep what it read: a command that parses a cell (JSON in _raw) can do it while the end
// is looked for, instead of in a second pass.
type CellScanner interface {
	ScanCell(b []byte, open int) int
}

// Verbatim makes the reader return the cells of column col (as Columns returns it) exactly
// as the body holds them: a quoted cell with its quotes, quotes inside still doubled; a bare
// cell as it is. sc, when not nil, finds the end of the quoted ones. It lasts until the next
// Reset, so a caller sets it after reading a chunk's header.
func (r *RowReader) Verbatim(col int, sc CellScanner) {
	r.vcol, r.vscan = col, sc
}

// Reset starts reading body, consuming its header row. An empty body has no fields and no rows.
func (r *RowReader) Reset(body []byte) error {
	r.src = nil
	return r.reset(body)
}

// streamWindow is the smallest window ResetReader reads a stream into: big enough for a
// hundred 2 KB events, small enough to stay in the processor's second-level cache while its
// rows are parsed. A row longer than the window doubles it.
const streamWindow = 256 << 10

// ResetReader starts reading a body from src, consuming its header row; size is the length
// the body should have (0 when unknown), used only to keep the window of a small body small.
// Rows are read from src as they are needed; a read error (a body cut short) stops Next and
// is returned by Err.
func (r *RowReader) ResetReader(src io.Reader, size int) error {
	want := r.minWindow()
	if size > 0 && size < want {
		want = size + 1 // +1: reading EOF needs no second window
	}
	if cap(r.win) < want {
		r.win = make([]byte, 0, want)
	}
	r.src = src
	return r.reset(r.win[:0])
}

func (r *RowReader) minWindow() int {
	if r.window > 0 {
		return r.window
	}
	return streamWindow
}

func (r *RowReader) reset(body []byte) error {
	r.vcol, r.vscan = -1, nil
	r.body, r.pos, r.row, r.err, r.ncols, r.header = body, 0, -1, nil, 0, r.header[:0]
	r.fields = r.fields[:0]
	if r.index == nil {
		r.index = make(map[string]int)
	}
	clear(r.index)
	if !r.record() {
		return r.err // nil for an empty body or one of blank lines only
	}
	for col, c := range r.cells {
		name, isMV := string(c), false
		if base, ok := bytes.CutPrefix(c, []byte(mvPrefix)); ok {
			name, isMV = string(base), true
		}
		i, ok := r.index[name]
		if !ok {
			i = len(r.fields)
			r.index[name] = i
			r.fields = append(r.fields, field{name: name, plain: -1, mv: -1})
		}
		if isMV {
			r.fields[i].mv = col
		} else if r.fields[i].plain < 0 {
			r.fields[i].plain = col
		}
	}
	r.ncols = len(r.cells)
	r.header = append(r.header, r.line...) // a copy: a stream's window moves
	return nil
}

// Drain reads what is left of a streamed body, so that the stream is at the next chunk, and
// returns the error that stopped the rows, if any: a command may stop reading rows early.
func (r *RowReader) Drain() error {
	if r.err == nil && r.src != nil {
		_, err := io.Copy(io.Discard, r.src)
		r.src = nil
		r.err = err
	}
	return r.err
}

// NumFields returns how many fields the body has.
func (r *RowReader) NumFields() int { return len(r.fields) }

// NumColumns returns how many columns the header has, __mv_ ones included.
func (r *RowReader) NumColumns() int { return r.ncols }

// FieldName returns the name of field i.
func (r *RowReader) FieldName(i int) string { return r.fields[i].name }

// Index returns the index of a field, -1 when the body does not have it.
func (r *RowReader) Index(name string) int {
	if i, ok := r.index[name]; ok {
		return i
	}
	return -1
}

// Next advances to the next row, false at the end of the body or on an error (see Err).
func (r *RowReader) Next() bool {
	if r.err != nil || len(r.fields) == 0 {
		return false
	}
	if !r.record() {
		return false
	}
	if len(r.cells) != r.ncols {
		r.err = &ParseError{Row: r.row, Err: fmt.Errorf("%w: %d, header has %d", ErrFieldCount, len(r.cells), r.ncols)}
		return false
	}
	return true
}

// Err returns the error that stopped Next, nil at a clean end.
func (r *RowReader) Err() error { return r.err }

// Row returns the 1-based number of the current row.
func (r *RowReader) Row() int { return r.row }

// Header returns the header row as it appears in the body, without its line end.
func (r *RowReader) Header() []byte { return r.header }

// Line returns the current row as it appears in the body, without its line end.
func (r *RowReader) Line() []byte { return r.line }

// Value returns field i's plain cell: the value, or the values joined by newlines for a
// multivalue. It is empty when the field is absent from the row.
func (r *RowReader) Value(i int) []byte {
	if c := r.fields[i].plain; c >= 0 {
		return r.cells[c]
	}
	return nil
}

// MV returns field i's __mv_ cell as sent (`$a$;$b$`), empty for a single value.
func (r *RowReader) MV(i int) []byte {
	if c := r.fields[i].mv; c >= 0 {
		return r.cells[c]
	}
	return nil
}

// Columns returns the columns of field i's plain cell and of its __mv_ cell, -1 for a cell
// the body lacks. With Cell they let a caller that reads the same fields of every row look
// the columns up once per body.
func (r *RowReader) Columns(i int) (plain, mv int) {
	return r.fields[i].plain, r.fields[i].mv
}

// Cell returns the current row's cell in column c (a column Columns returned), unescaped.
func (r *RowReader) Cell(c int) []byte { return r.cells[c] }

// Cells returns the current row's cells, unescaped, indexed by the columns Columns returns;
// there are as many as the header has columns. The slice is the reader's: read it, do not
// keep it past Next.
func (r *RowReader) Cells() [][]byte { return r.cells }

// Values appends field i's values to dst: the decoded __mv_ cell when it is non-empty (as
// splunklib reads it), else the plain cell, else nothing.
func (r *RowReader) Values(i int, dst [][]byte) ([][]byte, error) {
	if mv := r.MV(i); len(mv) > 0 {
		start := len(r.mvBuf)
		out, buf, err := DecodeMV(dst, r.mvBuf, mv)
		r.mvBuf = buf
		if err != nil {
			r.mvBuf = r.mvBuf[:start]
			return dst, &ParseError{Row: r.row, Column: r.fields[i].mv + 1, Err: err}
		}
		return out, nil
	}
	if v := r.Value(i); len(v) > 0 {
		return append(dst, v), nil
	}
	return dst, nil
}

// record reads one CSV record into r.cells, skipping blank lines; false at the end or on error.
// From a stream, a record is taken only once its line end (or the body's end) is in hand:
// one that runs past the window is parsed again after a refill.
func (r *RowReader) record() bool {
	for {
		b := r.body
		r.pos = skipBlank(b, r.pos)
		if r.src != nil && (r.pos >= len(b) || (r.pos == len(b)-1 && b[r.pos] == '\r')) {
			if !r.refill() {
				return false
			}
			continue
		}
		if r.pos >= len(b) {
			return false
		}
		start, row := r.pos, r.row
		r.scratch, r.mvBuf, r.short = r.scratch[:0], r.mvBuf[:0], false
		ok := (!r.slow && r.fastRecord(start)) || r.parseRecord(start)
		if r.src == nil || (ok && b[r.pos-1] == '\n') || (!ok && !r.short) {
			return ok
		}
		// The record may go on past the window: read more, then parse it again.
		r.pos, r.row, r.err = start, row, nil
		if !r.refill() {
			return false
		}
	}
}

// skipBlank returns the index of the first byte from b[i] on that does not start a blank line
// (LF or CRLF), which readers skip between rows.
func skipBlank(b []byte, i int) int {
	for i < len(b) && (b[i] == '\n' || (b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n')) {
		i++
	}
	return i
}

// bareCellEnd returns the index of the ',', LF, CR or quote that ends the bare cell at b[i],
// len(b) when none does. All four are below '-': a word is tested once, and its few other low
// bytes (spaces, '$', brackets) looked up. Words are read as b[j:j+8:j+8], whose constant
// length lets the compiler drop the bounds checks of the load (fastRecord: 18M fewer
// instructions on 200 000 rows of the fields-only stream, here and for its empty cells).
func bareCellEnd(b []byte, i int) int {
	j := i
	for ; j+8 <= len(b); j += 8 {
		for m := below(binary.LittleEndian.Uint64(b[j:j+8:j+8]), '-'); m != 0; m &= m - 1 {
			if k := j + bits.TrailingZeros64(m)>>3; bareEnd[b[k]] {
				return k
			}
		}
	}
	for j < len(b) && !bareEnd[b[j]] {
		j++
	}
	return j
}

// refill moves the unread part of the window to its start and reads the stream after it
// until the window is full or the stream ends (r.src is then nil), doubling the window when
// the unread part takes half of it or more. It returns false when the stream failed (r.err).
func (r *RowReader) refill() bool {
	keep := len(r.body) - r.pos
	buf := r.win
	if keep >= cap(buf)/2 {
		buf = make([]byte, 0, max(2*cap(buf), r.minWindow()))
	}
	buf = buf[:keep]
	copy(buf, r.body[r.pos:])
	r.win = buf
	for len(buf) < cap(buf) {
		k, err := r.src.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+k]
		if err == io.EOF {
			r.src = nil
			break
		}
		if err != nil {
			r.src, r.err = nil, err
			break
		}
	}
	r.body, r.pos = buf, 0
	return r.err == nil
}

// parseRecord reads the record at body[start], not a blank line, byte by byte into r.cells.
func (r *RowReader) parseRecord(start int) bool {
	b := r.body
	r.cells, r.scratch = r.cells[:0], r.scratch[:0]
	i := start
	for {
		if i < len(b) && b[i] == '"' {
			// Quoted cell: "" inside stands for ".
			j := i + 1
			cellStart := j
			esc := false
			for {
				k := bytes.IndexByte(b[j:], '"')
				if k < 0 {
					r.err = &ParseError{Row: r.row + 1, Column: len(r.cells) + 1, Err: ErrQuote}
					r.short = true
					return false
				}
				j += k
				if j+1 < len(b) && b[j+1] == '"' {
					esc = true
					j += 2
					continue
				}
				break
			}
			cell := b[cellStart:j]
			if len(r.cells) == r.vcol {
				cell, esc = b[cellStart-1:j+1:j+1], false
			}
			if esc {
				s := len(r.scratch)
				for len(cell) > 0 {
					k := bytes.Index(cell, []byte(`""`))
					if k < 0 {
						r.scratch = append(r.scratch, cell...)
						break
					}
					r.scratch = append(r.scratch, cell[:k+1]...)
					cell = cell[k+2:]
				}
				cell = r.scratch[s:len(r.scratch):len(r.scratch)]
			}
			r.cells = append(r.cells, cell)
			i = j + 1
			if i < len(b) && b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				i++
			}
			if i < len(b) && b[i] != ',' && b[i] != '\n' {
				r.err = &ParseError{Row: r.row + 1, Column: len(r.cells), Err: ErrQuote}
				r.short = i == len(b)-1 // a CR whose LF may not be in hand yet
				return false
			}
		} else {
			// Bare cell: up to the next comma or line end; a quote inside is kept as is.
			j := i
			for j < len(b) && b[j] != ',' && b[j] != '\n' {
				j++
			}
			end := j
			if j < len(b) && b[j] == '\n' && end > i && b[end-1] == '\r' {
				end--
			}
			r.cells = append(r.cells, b[i:end:end])
			i = j
		}
		if i >= len(b) || b[i] == '\n' {
			end := i
			if end > start && b[end-1] == '\r' {
				end--
			}
			r.line = b[start:end]
			r.pos = min(i+1, len(b))
			r.row++
			return true
		}
		i++ // the comma
	}
}

// fastRecord reads the common record a cell at a time and each cell a word at a time: bare
// cells without quotes or stray CRs, quoted cells, LF or CRLF line ends. Anything else
// (stray CRs, malformed quoting, an unterminated quote) makes it return false with nothing
// consumed, and record's byte-by-byte parse reads the row and reports its errors. It keeps
// few variables live so that they stay in registers.
func (r *RowReader) fastRecord(start int) bool {
	b := r.body
	cells := r.cells[:0]
	i := start
	for {
		for i < len(b) && b[i] == ',' {
			// An empty cell: Splunk's rows end in runs of them (the unused __mv_ twins),
			// taken eight at a time where they can be (fastRecord: 12M fewer instructions
			// on 200 000 rows of the fields-only stream, 60 a row).
			if i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:i+8:i+8]) == one*',' {
				e := b[i:i:i]
				cells = append(cells, e, e, e, e, e, e, e, e)
				i += 8
				continue
			}
			cells = append(cells, b[i:i:i])
			i++
			if i < len(b) && b[i] == '\n' {
				// The row ends in an empty cell, as most of Splunk's do (the __mv_ twins
				// come last): no trip through the bare-cell scan for it (fastRecord: 9M
				// fewer instructions on 200 000 rows of the fields-only stream).
				r.cells, r.line, r.pos = append(cells, b[i:i:i]), b[start:i], i+1
				r.row++
				return true
			}
		}
		j := i
		if i < len(b) && b[i] == '"' {
			// Quoted: up to the next quote, which must close the cell.
			k := bytes.IndexByte(b[i+1:], '"')
			if k < 0 {
				return false
			}
			j = i + 1 + k
			if len(cells) == r.vcol {
				// The verbatim column (JSON in _raw): as it is, read by its scanner.
				if j = r.verbatimEnd(i); j < 0 {
					return false
				}
				cells = append(cells, b[i:j:j])
			} else if j+1 < len(b) && b[j+1] == '"' {
				// Doubled quotes (JSON in _raw): unescaped into the scratch space.
				var cell []byte
				if cell, j = r.escapedCell(i); j < 0 {
					return false
				}
				cells = append(cells, cell)
			} else {
				cells = append(cells, b[i+1:j:j])
				j++
			}
		} else {
			j = bareCellEnd(b, i)
			cells = append(cells, b[i:j:j])
		}
		// j is just past the cell.
		if j >= len(b) {
			r.cells, r.line, r.pos = cells, b[start:], len(b)
			r.row++
			return true
		}
		switch b[j] {
		case ',':
			i = j + 1
			continue
		case '\n':
			r.cells, r.line, r.pos = cells, b[start:j], j+1
		case '\r':
			if j+1 >= len(b) || b[j+1] != '\n' {
				return false // a CR inside a cell
			}
			r.cells, r.line, r.pos = cells, b[start:j], j+2
		default:
			return false // text after a closing quote, a quote in a bare cell
		}
		r.row++
		return true
	}
}

// escapedCell reads the quoted cell that starts at body[i] and holds doubled quotes,
// unescaped into r.scratch as record does. It returns the cell and the index just past its
// closing quote, -1 when the quote is never closed.
func (r *RowReader) escapedCell(i int) ([]byte, int) {
	b := r.body
	s := len(r.scratch)
	seg := i + 1 // start of the text not yet copied
	for j := seg; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return nil, -1
		}
		j += k
		if j+1 < len(b) && b[j+1] == '"' {
			r.scratch = append(r.scratch, b[seg:j+1]...) // the text and one quote
			seg, j = j+2, j+2
			continue
		}
		r.scratch = append(r.scratch, b[seg:j]...)
		return r.scratch[s:len(r.scratch):len(r.scratch)], j + 1
	}
}

// verbatimEnd returns the index just past the quoted cell at body[i] in the verbatim column,
// -1 when its closing quote is not in hand.
func (r *RowReader) verbatimEnd(i int) int {
	if r.vscan != nil {
		if j := r.vscan.ScanCell(r.body, i); j > i {
			return j
		}
	}
	b := r.body
	for j := i + 1; ; {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return -1
		}
		j += k + 1
		if j < len(b) && b[j] == '"' {
			j++
			continue
		}
		return j
	}
}

// bareEnd marks the bytes that end or complicate a bare cell.
var bareEnd = [256]bool{',': true, '\n': true, '\r': true, '"': true}

// Word-at-a-time byte classes (SWAR): below returns a word whose byte i has its high bit set
// exactly when byte i of x is below n (n <= 0x80); no carry crosses bytes, so every set bit
// is exact, not only the lowest.
const (
	lo7 = 0x7f7f7f7f7f7f7f7f
	hi1 = 0x8080808080808080
	one = 0x0101010101010101
)

func below(x uint64, n byte) uint64 {
	return ^(((x & lo7) + one*uint64(0x80-n)) | x) & hi1
}

// equal marks the bytes of x equal to c, exactly as below does.
func equal(x uint64, c byte) uint64 {
	y := x ^ (one * uint64(c))
	return ^(((y & lo7) + lo7) | y) & hi1
}

// DecodeMV appends the values of a __mv_ cell (`$a$;$b$`, `$` doubled inside) to dst,
// unescaping into buf when an item has `$$`. It returns the grown dst and buf.
func DecodeMV(dst [][]byte, buf, cell []byte) ([][]byte, []byte, error) {
	i := 0
	for {
		if i >= len(cell) || cell[i] != '$' {
			return dst, buf, ErrMultivalue
		}
		i++
		start := i
		esc := false
		for {
			k := bytes.IndexByte(cell[i:], '$')
			if k < 0 {
				return dst, buf, ErrMultivalue
			}
			i += k
			if i+1 < len(cell) && cell[i+1] == '$' {
				esc = true
				i += 2
				continue
			}
			break
		}
		item := cell[start:i:i]
		if esc {
			s := len(buf)
			buf = append(buf, item...)
			item = buf[s:]
			n := 0
			for j := 0; j < len(item); j++ {
				item[n] = item[j]
				n++
				if item[j] == '$' {
					j++
				}
			}
			buf = buf[:s+n]
			item = buf[s : s+n : s+n]
		}
		dst = append(dst, item)
		i++ // closing $
		if i == len(cell) {
			return dst, buf, nil
		}
		if cell[i] != ';' {
			return dst, buf, ErrMultivalue
		}
		i++
	}
}

// AppendMV appends the __mv_ encoding of values to dst: each wrapped in `$`, `$` doubled,
// joined by `;`.
func AppendMV[S ~string | ~[]byte](dst []byte, values []S) []byte {
	for k, v := range values {
		if k > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, '$')
		for {
			j := indexDollar(v)
			if j < 0 {
				dst = append(dst, v...)
				break
			}
			dst = append(dst, v[:j+1]...)
			dst = append(dst, '$')
			v = v[j+1:]
		}
		dst = append(dst, '$')
	}
	return dst
}

// indexDollar is strings.IndexByte or bytes.IndexByte for v (a loop for other named types).
func indexDollar[S ~string | ~[]byte](v S) int {
	switch x := any(v).(type) {
	case string:
		return strings.IndexByte(x, '$')
	case []byte:
		return bytes.IndexByte(x, '$')
	}
	for i := 0; i < len(v); i++ {
		if v[i] == '$' {
			return i
		}
	}
	return -1
}

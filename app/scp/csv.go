package scp

import (
	"bytes"
	"errors"
	"fmt"
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
type RowReader struct {
	body    []byte
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
	quoted  bool // a row of this body had quotes: rows of one body are alike, skip plainRecord
}

// Reset starts reading body, consuming its header row. An empty body has no fields and no rows.
func (r *RowReader) Reset(body []byte) error {
	r.body, r.pos, r.row, r.err, r.ncols, r.header, r.quoted = body, 0, -1, nil, 0, nil, false
	r.fields = r.fields[:0]
	if r.index == nil {
		r.index = make(map[string]int)
	}
	clear(r.index)
	if len(body) == 0 {
		return nil
	}
	if !r.record() {
		if r.err == nil {
			return nil // only blank lines
		}
		return r.err
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
	r.header = r.line
	r.quoted = false // the first row decides, not the header's names
	return nil
}

// NumFields returns how many fields the body has.
func (r *RowReader) NumFields() int { return len(r.fields) }

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
func (r *RowReader) record() bool {
	b := r.body
	for r.pos < len(b) && (b[r.pos] == '\n' || (b[r.pos] == '\r' && r.pos+1 < len(b) && b[r.pos+1] == '\n')) {
		r.pos++
	}
	if r.pos >= len(b) {
		return false
	}
	r.cells = r.cells[:0]
	r.scratch = r.scratch[:0]
	r.mvBuf = r.mvBuf[:0]
	start := r.pos
	if !r.slow && !r.quoted && r.plainRecord(start) {
		return true
	}
	r.cells = r.cells[:0]
	i := r.pos
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

// plainRecord reads a record without quotes, the common case, a cell at a time with
// IndexByte; false (with nothing consumed) when the line holds a quote and needs record's
// byte-by-byte parse.
func (r *RowReader) plainRecord(start int) bool {
	b := r.body
	end, next, lf := len(b), len(b), false
	if k := bytes.IndexByte(b[start:], '\n'); k >= 0 {
		end, next, lf = start+k, start+k+1, true
	}
	if bytes.IndexByte(b[start:end], '"') >= 0 {
		r.quoted = true
		return false
	}
	r.line = b[start : start+lenTrimCR(b[start:end])]
	line := b[start:end]
	if lf {
		line = r.line // a CR before the LF ends the record too
	}
	for {
		k := bytes.IndexByte(line, ',')
		if k < 0 {
			r.cells = append(r.cells, line[:len(line):len(line)])
			break
		}
		r.cells = append(r.cells, line[:k:k])
		line = line[k+1:]
	}
	r.pos = next
	r.row++
	return true
}

// lenTrimCR returns len(b) without one trailing CR.
func lenTrimCR(b []byte) int {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return n - 1
	}
	return len(b)
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

func indexDollar[S ~string | ~[]byte](v S) int {
	for i := 0; i < len(v); i++ {
		if v[i] == '$' {
			return i
		}
	}
	return -1
}

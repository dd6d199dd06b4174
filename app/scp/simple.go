package scp

import (
	"bytes"
)

// Roles of a column in the plan SplitSimple follows, besides an index into its out.
const (
	SimpleSkip  = -1 // the cell is read and not kept
	SimpleEmpty = -2 // the cell must be empty (an __mv_ twin of a single value)
)

// NextWith is Next for a caller that reads some rows faster than into cells (SplitSimple): take
// is given the bytes in hand from the next row's start and returns the length of the row it
// read, its '\n' included, or 0 to have the reader read the row into cells as Next does. It
// returns Next's result and whether take read the row. A row take read has no cells (Cells is
// empty); Row and Line are as Next would leave them.
func (r *RowReader) NextWith(take func(b []byte) int) (ok, taken bool) {
	if r.err != nil || len(r.fields) == 0 {
		return false, false
	}
	// Blank lines are skipped as record skips them; a row cut short by the window's end is
	// not taken (take finds no line end), and record reads it after a refill.
	b := r.body
	r.pos = skipBlank(b, r.pos)
	if rest := b[r.pos:]; len(rest) > 0 {
		if n := take(rest); n > 0 && n <= len(rest) && rest[n-1] == '\n' {
			line := rest[:n-1]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line = line[:len(line)-1] // CRLF: a bare cell holds no CR, a quoted one ends in '"'
			}
			r.cells, r.line = r.cells[:0], line
			r.pos += n
			r.row++
			return true, true
		}
	}
	return r.Next(), false
}

// SplitSimple reads the row at the start of b when it is simple: len(plan) cells, each bare
// (without quotes or CRs) or quoted without a doubled quote inside, and a LF or CRLF line end. The
// cell of column c goes to out[plan[c]] when plan[c] >= 0, unquoted; SimpleEmpty requires it
// empty, SimpleSkip only reads it. It returns the row's length, its '\n' included, or 0 when
// the row is not simple, has another number of cells, has a value where the plan wants none,
// or does not end within b. A row it reads, a RowReader reads into the same cells.
func SplitSimple(b []byte, plan []int, out [][]byte) int {
	last := len(plan) - 1
	i := 0
	for c := 0; c <= last; c++ {
		want := plan[c]
		if i >= len(b) {
			return 0
		}
		j := i // just past the cell, once read
		switch b[i] {
		case ',', '\n', '\r':
			// An empty cell, half of a compact row's (the __mv_ twins).
			if want >= 0 {
				out[want] = nil
			}
		case '"':
			k := bytes.IndexByte(b[i+1:], '"')
			if k < 0 {
				return 0
			}
			j = i + 1 + k
			if want >= 0 {
				out[want] = b[i+1 : j : j]
			} else if want == SimpleEmpty && k > 0 {
				return 0
			}
			j++ // a doubled quote is then followed by neither ',' nor '\n'
		default:
			j = bareCellEnd(b, i)
			if want >= 0 {
				out[want] = b[i:j:j]
			} else if want == SimpleEmpty {
				return 0
			}
		}
		if j >= len(b) {
			return 0
		}
		switch {
		case b[j] == ',' && c < last:
			i = j + 1
		case b[j] == '\n' && c == last:
			return j + 1
		case b[j] == '\r' && c == last && j+1 < len(b) && b[j+1] == '\n':
			return j + 2
		default:
			return 0 // a cell too many or too few, a doubled quote, a CR in a cell
		}
	}
	return 0
}

package main

import (
	"errors"
	"slices"
	"strconv"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// okta is the compact Event from one row, or why there is none.
type outcome uint8

const (
	rowEvent   outcome = iota // an Okta event with a time
	rowNotOkta                // neither Okta JSON in _raw nor an eventType field
	rowNoTime                 // an Okta event without published or _time
	rowSkipped                // an Okta event of a type the extractor was told to skip
)

// extractor turns rows into session Events: from the compact fields a map phase wrote, else
// from Okta JSON in _raw, else from Splunk's extracted fields. It serves session.Extractor the
// row's cells by column, looked up once per chunk, straight from the chunk body.
type extractor struct {
	r    *scp.RowReader
	rr   session.RawReader
	raw  int             // _raw field, -1 when absent
	time int             // _time field
	cols []fieldCols     // where each session.RowFields entry is
	cc   session.Columns // the columns of cols again, as session.Extractor.FromCells takes them
	x    session.Extractor
	// The reduce's rows read straight from their CSV lines (scp.SplitSimple): the plan puts
	// the compact fields' plain cells in compact and wants their __mv_ cells empty.
	plan    []int
	compact session.CompactCells
}

// fieldCols locates a field in a chunk: its index in the reader (-1 when absent) and the
// columns of its plain and __mv_ cells (-1 when absent), so that a row's values are read
// straight from its cells.
type fieldCols struct {
	field, plain, mv int
}

func newExtractor() *extractor {
	return &extractor{cols: make([]fieldCols, len(session.RowFields))}
}

// bind looks up the columns of a new chunk.
func (x *extractor) bind(r *scp.RowReader) {
	x.r = r
	x.raw, x.time = r.Index("_raw"), r.Index("_time")
	if x.raw >= 0 {
		// _raw's cells come as the chunk holds them, and the JSON parser finds their ends:
		// the cell is read once, not unescaped by the CSV reader and then parsed.
		plain, _ := r.Columns(x.raw)
		r.Verbatim(plain, &x.rr)
	}
	for f, name := range session.RowFields {
		c := fieldCols{field: r.Index(name), plain: -1, mv: -1}
		if c.field >= 0 {
			c.plain, c.mv = r.Columns(c.field)
		}
		x.cols[f] = c
	}
	x.cc.Bind(func(name string) (plain, mv int) {
		c := x.cols[slices.Index(session.RowFields, name)]
		return c.plain, c.mv
	})
	x.plan, x.compact = x.plan[:0], session.CompactCells{}
	for range r.NumColumns() {
		x.plan = append(x.plan, scp.SimpleSkip)
	}
	for i := range session.CompactFields {
		c := x.cols[fieldCompact+i]
		if c.plain >= 0 {
			x.plan[c.plain] = i
		}
		if c.mv >= 0 {
			x.plan[c.mv] = scp.SimpleEmpty
		}
	}
}

// compactRecord reads the compact row at the start of b (scp.RowReader.NextWith's take) into
// the record it appends to dst, with its time and type; n is the row's length, 0 for a row the
// reader is to read into cells (one that is not simple CSV, or not a compact record in plain
// cells with a time of its own: session.CompactCells.AppendRecord). The cells the reader
// would make for every column are not made (callgrind, realistic stream, reduce: 1 364 M ->
// 1 292 M).
func (x *extractor) compactRecord(b, dst []byte) (n int, rec []byte, t int64, typ string) {
	if n = scp.SplitSimple(b, x.plan, x.compact[:]); n == 0 {
		return 0, dst, 0, ""
	}
	rec, t, typ, ok := x.compact.AppendRecord(dst)
	if !ok {
		return 0, dst, 0, ""
	}
	return n, rec, t, typ
}

// fromRow fills ev from the current row's fields through session.Extractor, which reads
// the row's cells and their columns, and calls Values for the multivalues.
func (x *extractor) fromRow(ev *session.Event) error {
	return x.x.FromCells(x, x.r.Cells(), &x.cc, ev)
}

// Field positions in session.RowFields the extractor checks itself.
var (
	fieldType   = slices.Index(session.RowFields, "eventType")
	fieldOSType = slices.Index(session.RowFields, "os_type")
	// fieldCompact is where session.CompactFields start in session.RowFields.
	fieldCompact = slices.Index(session.RowFields, session.CompactFields[0])
)

// event fills ev from the reader's current row.
func (x *extractor) event(ev *session.Event) outcome {
	r := x.r
	typ, osType := x.cols[fieldType].field, x.cols[fieldOSType].field
	switch {
	case osType >= 0 && len(r.Value(osType)) > 0:
		if x.fromRow(ev) != nil {
			return rowNotOkta
		}
	case x.raw >= 0 && len(r.Value(x.raw)) > 0:
		err := x.rr.Event(r.Value(x.raw), ev)
		if err == session.ErrSkipped {
			return rowSkipped
		}
		if err != nil && (typ < 0 || x.fromRow(ev) != nil) {
			// _raw is not Okta JSON (ParseRaw's ErrNotJSON or ErrNotOkta) and no fields either.
			return rowNotOkta
		}
	default:
		if typ < 0 || x.fromRow(ev) != nil {
			return rowNotOkta
		}
	}
	if ev.Time == 0 && x.time >= 0 {
		ev.Time = epochMillis(r.Value(x.time))
	}
	if ev.Time == 0 {
		return rowNoTime
	}
	return rowEvent
}

// Values serves session.Extractor: field f's values in the current row, the plain cell when
// its __mv_ twin is broken.
func (x *extractor) Values(f int, dst [][]byte) [][]byte {
	c := &x.cols[f]
	if c.mv >= 0 && len(x.r.Cell(c.mv)) > 0 {
		if out, err := x.r.Values(c.field, dst); err == nil {
			return out
		}
	}
	if c.plain >= 0 {
		if v := x.r.Cell(c.plain); len(v) > 0 {
			return append(dst, v)
		}
	}
	return dst
}

var errEpoch = errors.New("not epoch seconds")

// epochMillis reads Splunk's _time (epoch seconds with an optional fraction); 0 when it is not one.
func epochMillis(b []byte) int64 {
	ms, err := parseEpochMillis(b)
	if err != nil {
		return 0
	}
	return ms
}

func parseEpochMillis(b []byte) (int64, error) {
	whole, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			whole, frac = b[:i], b[i+1:]
			break
		}
	}
	sec := int64(0)
	for _, c := range whole {
		if c < '0' || c > '9' || sec > 1<<40 {
			return 0, errEpoch
		}
		sec = sec*10 + int64(c-'0')
	}
	if len(whole) == 0 || sec == 0 {
		return 0, errEpoch
	}
	ms := int64(0)
	for i := 0; i < 3; i++ {
		ms *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, errEpoch
			}
			ms += int64(c - '0')
		}
	}
	return sec*1000 + ms, nil
}

// formatMillis writes milliseconds as epoch seconds with three decimals, Splunk's _time form.
func formatMillis(dst []byte, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

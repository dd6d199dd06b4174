package scp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// readRows decodes a body into one map of field → values per row (tests only; the hot path
// never builds maps).
func readRows(t testing.TB, body string) ([]string, []map[string][]string, error) {
	t.Helper()
	var r RowReader
	if err := r.Reset([]byte(body)); err != nil {
		return nil, nil, err
	}
	var names []string
	for i := range r.NumFields() {
		names = append(names, r.FieldName(i))
	}
	var rows []map[string][]string
	var vals [][]byte
	for r.Next() {
		row := map[string][]string{}
		for i := range r.NumFields() {
			var err error
			vals, err = r.Values(i, vals[:0])
			if err != nil {
				return names, rows, err
			}
			for _, v := range vals {
				row[r.FieldName(i)] = append(row[r.FieldName(i)], string(v))
			}
		}
		rows = append(rows, row)
	}
	return names, rows, r.Err()
}

func TestRowReader(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		fields  []string
		rows    []map[string][]string
		wantErr error
		errRow  int
	}{
		{name: "empty body"},
		{name: "header only", body: "a,b,__mv_a,__mv_b\n", fields: []string{"a", "b"}},
		{
			name:   "splunkd layout, LF",
			body:   "\"_time\",eventType,\"__mv__time\",\"__mv_eventType\"\n\"1717200000.123\",\"user.session.start\",,\n",
			fields: []string{"_time", "eventType"},
			rows:   []map[string][]string{{"_time": {"1717200000.123"}, "eventType": {"user.session.start"}}},
		},
		{
			name:   "CRLF, interleaved twins, no final newline",
			body:   "a,__mv_a,b,__mv_b\r\n1,,2,\r\n3,,4,",
			fields: []string{"a", "b"},
			rows:   []map[string][]string{{"a": {"1"}, "b": {"2"}}, {"a": {"3"}, "b": {"4"}}},
		},
		{
			name:   "quotes, commas, embedded newlines",
			body:   "text,__mv_text\n\"say \"\"hi\"\", then\nbye\",\n\"\",\n",
			fields: []string{"text"},
			rows:   []map[string][]string{{"text": {"say \"hi\", then\nbye"}}, {}},
		},
		{
			name:   "multivalue wins over plain",
			body:   "t,__mv_t\n\"a\nb\",\"$a$;$b$\"\n\"x$y\",\"$x$$y$;$$$$;$$\"\n",
			fields: []string{"t"},
			rows:   []map[string][]string{{"t": {"a", "b"}}, {"t": {"x$y", "$", ""}}},
		},
		{
			name:   "mv column without plain column",
			body:   "__mv_t\n$a$;$b$\n",
			fields: []string{"t"},
			rows:   []map[string][]string{{"t": {"a", "b"}}},
		},
		{
			name:   "bare quote kept",
			body:   "a\nab\"c\n",
			fields: []string{"a"},
			rows:   []map[string][]string{{"a": {"ab\"c"}}},
		},
		{name: "too few cells", body: "a,b\n1\n", fields: []string{"a", "b"}, wantErr: ErrFieldCount, errRow: 1},
		{name: "too many cells", body: "a,b\n1,2\n1,2,3\n", fields: []string{"a", "b"}, rows: []map[string][]string{{"a": {"1"}, "b": {"2"}}}, wantErr: ErrFieldCount, errRow: 2},
		{name: "unterminated quote", body: "a\n\"abc\n", fields: []string{"a"}, wantErr: ErrQuote, errRow: 1},
		{name: "text after closing quote", body: "a,b\n\"x\"y,1\n", fields: []string{"a", "b"}, wantErr: ErrQuote, errRow: 1},
		{name: "bad header quote", body: "\"a\n", wantErr: ErrQuote, errRow: 0},
		{name: "bad multivalue", body: "t,__mv_t\nx,$x\n", fields: []string{"t"}, wantErr: ErrMultivalue, errRow: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, rows, err := readRows(t, tt.body)
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
				var pe *ParseError
				require.ErrorAs(t, err, &pe)
				assert.Equal(t, tt.errRow, pe.Row)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.fields, fields)
			assert.Equal(t, tt.rows, rows)
		})
	}
}

func TestRowReaderLineAndIndex(t *testing.T) {
	var r RowReader
	require.NoError(t, r.Reset([]byte("a,b,__mv_a,__mv_b\r\n\"1,2\",x,,\r\n")))
	assert.Equal(t, 1, r.Index("b"))
	assert.Equal(t, -1, r.Index("c"))
	require.True(t, r.Next())
	assert.Equal(t, "\"1,2\",x,,", string(r.Line()))
	assert.Equal(t, "1,2", string(r.Value(0)))
	assert.Empty(t, r.MV(0))
	assert.Equal(t, 1, r.Row())
	plain, mv := r.Columns(1)
	assert.Equal(t, [][]byte{[]byte("1,2"), []byte("x"), {}, {}}, r.Cells())
	assert.Equal(t, "x", string(r.Cells()[plain]))
	assert.Equal(t, 3, mv)
	assert.False(t, r.Next())
	assert.NoError(t, r.Err())
}

func TestMultivalue(t *testing.T) {
	tests := []struct {
		cell   string
		values []string
		ok     bool
	}{
		{"$a$", []string{"a"}, true},
		{"$a$;$b$", []string{"a", "b"}, true},
		{"$$", []string{""}, true},
		{"$$;$$", []string{"", ""}, true},
		{"$a$$b$", []string{"a$b"}, true},
		{"$$$$", []string{"$"}, true},
		{"$FIREFLY-WIN$;$beatles$", []string{"FIREFLY-WIN", "beatles"}, true},
		{"$a\nb$;$c,\"d$", []string{"a\nb", "c,\"d"}, true},
		{"a", nil, false},
		{"$a", nil, false},
		{"$a$;", nil, false},
		{"$a$b", nil, false},
		{"$a$,$b$", nil, false},
		{"$$$", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.cell, func(t *testing.T) {
			got, _, err := DecodeMV(nil, nil, []byte(tt.cell))
			if !tt.ok {
				assert.ErrorIs(t, err, ErrMultivalue)
				return
			}
			require.NoError(t, err)
			var s []string
			for _, v := range got {
				s = append(s, string(v))
			}
			assert.Equal(t, tt.values, s)
			assert.Equal(t, tt.cell, string(AppendMV(nil, tt.values)))
		})
	}
}

func TestRowWriter(t *testing.T) {
	var w RowWriter
	require.NoError(t, w.SetFields("_time", "steps", "note"))
	w.Value("1717200000.123")
	w.Values([]string{"user.session.start", "policy.evaluate_sign_on"})
	w.Value(`say "hi", ok`)
	require.NoError(t, w.EndRow())
	w.Value("1717200001.000")
	w.Values(nil)
	w.Cell([]byte("a\nb$"), []byte("$a$;$b$$$"))
	require.NoError(t, w.EndRow())
	// A short row is dropped whole.
	w.Value("x")
	assert.ErrorIs(t, w.EndRow(), ErrFieldCount)
	w.Value("1")
	w.Values([]string{"$"})
	w.Value("")
	require.NoError(t, w.EndRow())
	want := "_time,__mv__time,steps,__mv_steps,note,__mv_note\r\n" +
		"1717200000.123,,\"user.session.start\npolicy.evaluate_sign_on\",$user.session.start$;$policy.evaluate_sign_on$,\"say \"\"hi\"\", ok\",\r\n" +
		"1717200001.000,,,,\"a\nb$\",$a$;$b$$$\r\n" +
		"1,,$,,,\r\n"
	assert.Equal(t, want, string(w.Body()))
	assert.Equal(t, 3, w.Rows())
	assert.Error(t, w.SetFields("other"), "fields cannot change once rows are written")
	assert.NoError(t, w.SetFields("_time", "steps", "note"))

	w.Reset()
	assert.Empty(t, w.Body(), "no rows, no body")
	w.Value("x")
	assert.ErrorIs(t, w.EndRow(), ErrNoFields)
}

// TestWriterReaderRoundTrip checks that whatever the writer writes, the reader reads back.
func TestWriterReaderRoundTrip(t *testing.T) {
	values := [][]string{{"plain"}, {""}, nil, {"a", "b"}, {"x,y", "\"q\"", "$", "$$", "l1\nl2", "cr\r\n"}, {"é€😀"}, {"", ""}}
	var w RowWriter
	require.NoError(t, w.SetFields("f0", "f1", "f2", "f3", "f4", "f5", "f6"))
	require.NoError(t, w.WriteRow(values))
	_, rows, err := readRows(t, string(w.Body()))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	for i, v := range values {
		name := "f" + itoa(i)
		if len(v) == 1 && v[0] == "" {
			v = nil // an empty single value reads as no value
		}
		assert.Equal(t, v, rows[0][name], name)
	}
}

func FuzzRowReader(f *testing.F) {
	f.Add([]byte("a,b,__mv_a,__mv_b\n1,2,,\n\"x\ny\",\"$x$;$y$\",,\n"))
	f.Add([]byte("t,__mv_t\r\n\"say \"\"hi\"\"\",\r\n"))
	f.Add([]byte("t,__mv_t\nx,$x\n"))
	f.Add([]byte("\"a\n"))
	f.Add([]byte("a,b\r\nx,y\r\nz\r,w\r"))
	f.Add([]byte("_raw,b\n\"{\"\"a\"\":\"\"x,\ny\"\"}\",\"1\"\r\n\"\"\"\"\"\",2\n\"{}\"x,3\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		// The fast path for rows without quotes reads exactly what the full parser reads.
		fast, slow := RowReader{}, RowReader{slow: true}
		errFast, errSlow := fast.Reset(body), slow.Reset(body)
		if fmt.Sprint(errFast) != fmt.Sprint(errSlow) {
			t.Fatalf("Reset: fast %v, slow %v", errFast, errSlow)
		}
		for errFast == nil {
			okFast, okSlow := fast.Next(), slow.Next()
			if okFast != okSlow || fmt.Sprint(fast.Err()) != fmt.Sprint(slow.Err()) {
				t.Fatalf("row %d: fast %v %v, slow %v %v", fast.Row(), okFast, fast.Err(), okSlow, slow.Err())
			}
			if !okFast {
				break
			}
			if fmt.Sprintf("%q %q", fast.cells, fast.Line()) != fmt.Sprintf("%q %q", slow.cells, slow.Line()) {
				t.Fatalf("row %d: fast %q %q, slow %q %q", fast.Row(), fast.cells, fast.Line(), slow.cells, slow.Line())
			}
		}

		// Rows SplitSimple takes, through NextWith, are the rows Next reads, whole or streamed.
		checkSplitSimple(t, body)

		// A body read as a stream, in pieces of any size through a window of any size, reads
		// as the whole body does.
		for _, win := range []int{1, 7, 64} {
			for _, src := range []io.Reader{iotest.OneByteReader(bytes.NewReader(body)), iotest.HalfReader(bytes.NewReader(body)), bytes.NewReader(body)} {
				whole, streamed := RowReader{}, RowReader{window: win}
				errWhole, errStreamed := whole.Reset(body), streamed.ResetReader(src, 0)
				if fmt.Sprint(errWhole) != fmt.Sprint(errStreamed) {
					t.Fatalf("window %d: Reset: whole %v, streamed %v", win, errWhole, errStreamed)
				}
				if errWhole == nil && string(whole.Header()) != string(streamed.Header()) {
					t.Fatalf("window %d: header: whole %q, streamed %q", win, whole.Header(), streamed.Header())
				}
				for errWhole == nil {
					okWhole, okStreamed := whole.Next(), streamed.Next()
					if okWhole != okStreamed || fmt.Sprint(whole.Err()) != fmt.Sprint(streamed.Err()) {
						t.Fatalf("window %d: row %d: whole %v %v, streamed %v %v", win, whole.Row(), okWhole, whole.Err(), okStreamed, streamed.Err())
					}
					if !okWhole {
						break
					}
					if fmt.Sprintf("%q %q", whole.cells, whole.Line()) != fmt.Sprintf("%q %q", streamed.cells, streamed.Line()) {
						t.Fatalf("window %d: row %d: whole %q %q, streamed %q %q", win, whole.Row(), whole.cells, whole.Line(), streamed.cells, streamed.Line())
					}
				}
			}
		}

		// A verbatim column reads as the body holds it, whatever finds its cells' ends: cells
		// unescaped are the cells of a plain reader, and the two parsers and a stream agree.
		for vcol := range 2 {
			plain, fast, slow, streamed := RowReader{}, RowReader{}, RowReader{slow: true}, RowReader{window: 5}
			if plain.Reset(body) != nil {
				break
			}
			_, _, _ = fast.Reset(body), slow.Reset(body), streamed.ResetReader(iotest.HalfReader(bytes.NewReader(body)), 0)
			var sc quoteScanner
			fast.Verbatim(vcol, &sc)
			slow.Verbatim(vcol, nil)
			streamed.Verbatim(vcol, &sc)
			for {
				okPlain, okFast, okSlow, okStreamed := plain.Next(), fast.Next(), slow.Next(), streamed.Next()
				if okFast != okSlow || okFast != okStreamed || okFast != okPlain ||
					fmt.Sprint(fast.Err()) != fmt.Sprint(slow.Err()) || fmt.Sprint(fast.Err()) != fmt.Sprint(streamed.Err()) {
					t.Fatalf("verbatim %d: row %d: plain %v %v, fast %v %v, slow %v %v, streamed %v %v", vcol, fast.Row(),
						okPlain, plain.Err(), okFast, fast.Err(), okSlow, slow.Err(), okStreamed, streamed.Err())
				}
				if !okFast {
					break
				}
				got := fmt.Sprintf("%q %q", fast.cells, fast.Line())
				if got != fmt.Sprintf("%q %q", slow.cells, slow.Line()) || got != fmt.Sprintf("%q %q", streamed.cells, streamed.Line()) {
					t.Fatalf("verbatim %d: row %d: fast %s, slow %q, streamed %q", vcol, fast.Row(), got, slow.cells, streamed.cells)
				}
				for c := range fast.cells {
					want, v := string(plain.cells[c]), string(fast.cells[c])
					if c == vcol && strings.HasPrefix(v, `"`) {
						v = strings.ReplaceAll(v[1:len(v)-1], `""`, `"`)
					}
					if v != want {
						t.Fatalf("verbatim %d: row %d cell %d: %q, plain reader %q", vcol, fast.Row(), c, fast.cells[c], want)
					}
				}
			}
		}

		var r RowReader
		if err := r.Reset(body); err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		// Every decoded row, written back through RowWriter, reads back the same.
		var names []string
		for i := range r.NumFields() {
			names = append(names, r.FieldName(i))
		}
		var w RowWriter
		var want [][][]string
		var vals [][]byte
		for r.Next() {
			row := make([][]string, r.NumFields())
			for i := range r.NumFields() {
				var err error
				vals, err = r.Values(i, vals[:0])
				if err != nil {
					return
				}
				for _, v := range vals {
					row[i] = append(row[i], string(v))
				}
			}
			want = append(want, row)
		}
		if len(names) == 0 || len(want) == 0 || hasDup(names) {
			return
		}
		if err := w.SetFields(names...); err != nil {
			return
		}
		for _, row := range want {
			if err := w.WriteRow(row); err != nil {
				t.Fatal(err)
			}
		}
		var r2 RowReader
		if err := r2.Reset(w.Body()); err != nil {
			t.Fatalf("re-reading: %v\n%q", err, w.Body())
		}
		k := 0
		for r2.Next() {
			for i := range r2.NumFields() {
				vals, _ = r2.Values(i, vals[:0])
				var got []string
				for _, v := range vals {
					got = append(got, string(v))
				}
				exp := want[k][r2.Index(names[i])]
				if len(exp) == 1 && exp[0] == "" {
					exp = nil
				}
				if strings.Join(got, "\x00") != strings.Join(exp, "\x00") || len(got) != len(exp) {
					t.Fatalf("row %d field %q: got %q want %q", k, names[i], got, exp)
				}
			}
			k++
		}
		if r2.Err() != nil || k != len(want) {
			t.Fatalf("re-read %d rows of %d: %v", k, len(want), r2.Err())
		}
	})
}

// quoteScanner finds the end of a quoted cell by itself every other call, and leaves it to
// the reader on the others.
type quoteScanner struct{ n int }

func (q *quoteScanner) ScanCell(b []byte, open int) int {
	if q.n++; q.n%2 == 0 {
		return -1
	}
	for i := open + 1; i < len(b); i++ {
		if b[i] == '"' {
			if i+1 < len(b) && b[i+1] == '"' {
				i++
				continue
			}
			return i + 1
		}
	}
	return -1
}

func hasDup(names []string) bool {
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] || strings.HasPrefix(n, mvPrefix) {
			return true
		}
		seen[n] = true
	}
	return false
}

func FuzzDecodeMV(f *testing.F) {
	for _, s := range []string{"$a$", "$a$;$b$", "$$", "$a$$b$", "$a", "$a$;", "$$$"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, cell []byte) {
		vals, _, err := DecodeMV(nil, nil, cell)
		if err != nil {
			return
		}
		if got := AppendMV(nil, vals); !bytes.Equal(got, cell) {
			t.Fatalf("re-encoded %q as %q", cell, got)
		}
	})
}

func TestAppendCellFindsSpecialBytesAnywhere(t *testing.T) {
	// Up to 70 bytes: quotable searches cells of 32 bytes and more its own way.
	for _, c := range []byte{'"', ',', '\n', '\r', 'a', ' ', 0x80, 0xff, '!', '#'} {
		for n := 1; n <= 70; n++ {
			for at := range n {
				b := bytes.Repeat([]byte{'x', ' '}, n)[:n]
				b[at] = c
				want := string(b)
				if c == '"' || c == ',' || c == '\n' || c == '\r' {
					want = `"` + strings.ReplaceAll(string(b), `"`, `""`) + `"`
				}
				require.Equal(t, want, string(appendCell(nil, string(b))), "byte %q at %d of %d", c, at, n)
			}
		}
	}
}

func TestWordClasses(t *testing.T) {
	for _, c := range []byte{0, 1, '\n', '\r', ' ', '"', ',', '-', '.', 'a', 0x7f, 0x80, 0xac, 0xff} {
		for at := range 8 {
			for _, fill := range []byte{'x', ',', 0xff, 0} {
				var b [8]byte
				for i := range b {
					b[i] = fill
				}
				b[at] = c
				x := binary.LittleEndian.Uint64(b[:])
				for _, n := range []byte{'-', '#', 1, 0x80} {
					var want uint64
					for i, v := range b {
						if v < n {
							want |= 0x80 << (8 * i)
						}
					}
					require.Equal(t, want, below(x, n), "below(%q, %#x)", b, n)
				}
				var want uint64
				for i, v := range b {
					if v == '"' {
						want |= 0x80 << (8 * i)
					}
				}
				require.Equal(t, want, equal(x, '"'), "equal(%q)", b)
			}
		}
	}
}

func TestRowReaderFastAndFullParseAgree(t *testing.T) {
	// Rows that take each exit of fastRecord, and rows long enough for whole words.
	bodies := []string{
		"a,b,__mv_a,__mv_b\n\"1717287262.996\",\"user.session.end\",,\n\"x\",y\r\n",
		"a,b\r\n\"a long quoted cell, with commas\",and a long bare cell with spaces (x+y)\r\n",
		"a,b\n\"q\"\"q\",x\n\"q\"\r,x\nx\ry,z\n\"q\",x\r",
		"a,b\nlonger bare \"quote\",x\n\"0oa1\n0ua2\",\"$0oa1$;$0ua2$\"\n",
		"a,b\n12345678,\"12345678\"",
		"a,b\n\"unterminated,x\n",
		"_raw,b\r\n\"{\"\"a\"\":\"\"b,\nc\"\"}\",x\r\n\"\"\"\"\"\"\",\"\"\"x\"\r\n\"a\"\"b\"c,x\n\"a\"\"b,x\n",
		// Blank lines, which Next leaves to record, and rows that start with a CR.
		"a,b\n\nx,y\n\r\n\r\nz,w\n\n\n",
		"a,b\r\n\rx,y\r\n\r\r\n,\r\n\r",
	}
	// Runs of empty cells of every length up to three words, at the start, middle and end of
	// rows, before each line end.
	for n := range 26 {
		header := "a" + strings.Repeat(",c", n+1) + "\n"
		for _, row := range []string{"x" + strings.Repeat(",", n+1), strings.Repeat(",", n+1) + "x",
			"x" + strings.Repeat(",", n) + ",\"q\"", "\"q\"" + strings.Repeat(",", n) + ",y"} {
			for _, end := range []string{"", "\n", "\r\n", "\n" + row} {
				bodies = append(bodies, header+row+end)
			}
		}
	}
	for _, body := range bodies {
		fast, slow := RowReader{}, RowReader{slow: true}
		errFast, errSlow := fast.Reset([]byte(body)), slow.Reset([]byte(body))
		require.Equal(t, fmt.Sprint(errSlow), fmt.Sprint(errFast), body)
		for errFast == nil {
			okFast, okSlow := fast.Next(), slow.Next()
			require.Equal(t, okSlow, okFast, body)
			require.Equal(t, fmt.Sprint(slow.Err()), fmt.Sprint(fast.Err()), body)
			if !okFast {
				break
			}
			require.Equal(t, fmt.Sprintf("%q %q", slow.cells, slow.Line()), fmt.Sprintf("%q %q", fast.cells, fast.Line()), body)
		}
	}
}

func TestValuesEscapesEveryColumn(t *testing.T) {
	// Multivalue cells take a short path when no value needs escaping; it must write what the
	// general one writes, whatever byte a value holds where.
	for _, c := range []byte{'"', ',', '\n', '\r', '$', ';', ' ', 'a', 0xff} {
		for n := 1; n <= 17; n++ {
			for at := range n {
				b := bytes.Repeat([]byte{'x'}, n)
				b[at] = c
				vs := []string{"user.session.start", string(b)}
				var w RowWriter
				require.NoError(t, w.SetFields("f"))
				w.Values(vs)
				require.NoError(t, w.EndRow())
				mv := AppendMV(nil, [][]byte{[]byte(vs[0]), b}) // the generic encoder
				want := "f,__mv_f\r\n" + `"` + strings.ReplaceAll(strings.Join(vs, "\n"), `"`, `""`) + `",` +
					string(appendCell(nil, string(mv))) + "\r\n"
				require.Equal(t, want, string(w.Body()), "byte %q at %d of %d", c, at, n)
			}
		}
	}
}

// checkSplitSimple reads body with Next and, whole and as a stream through a small window,
// with NextWith and SplitSimple keeping every cell: the rows, their lines and cells, and the
// errors must be the same. It returns how many rows SplitSimple took from the whole body and
// from the streams (windows of 5 and 64 bytes: most rows and some rows are cut short).
func checkSplitSimple(t *testing.T, body []byte) (taken [3]int) {
	t.Helper()
	for w, win := range []int{0, 5, 64} {
		var want, got RowReader
		errWant := want.Reset(body)
		errGot := got.Reset(body)
		if win > 0 {
			got = RowReader{window: win}
			errGot = got.ResetReader(iotest.HalfReader(bytes.NewReader(body)), 0)
		}
		if fmt.Sprint(errWant) != fmt.Sprint(errGot) || errWant != nil {
			require.Equal(t, fmt.Sprint(errWant), fmt.Sprint(errGot))
			return taken
		}
		plan := make([]int, want.ncols)
		for c := range plan {
			plan[c] = c
		}
		out := make([][]byte, len(plan))
		for {
			okWant := want.Next()
			okGot, took := got.NextWith(func(b []byte) int { return SplitSimple(b, plan, out) })
			require.Equal(t, okWant, okGot, "row %d", want.Row())
			require.Equal(t, fmt.Sprint(want.Err()), fmt.Sprint(got.Err()), "row %d", want.Row())
			if !okWant {
				break
			}
			cells := got.Cells()
			if took {
				taken[w]++
				require.Empty(t, cells)
				cells = out
				checkSimplePairs(t, append(want.Line(), '\n'), want.Cells())
			}
			require.Equal(t, fmt.Sprintf("%q %q %d", want.Cells(), want.Line(), want.Row()),
				fmt.Sprintf("%q %q %d", cells, got.Line(), got.Row()), "window %d", win)
		}
	}
	return taken
}

// checkSimplePairs splits row, a simple row of the given cells, with a plan of values and
// their __mv_ twins (every odd column SimpleEmpty): it must be taken exactly when every twin
// is empty, with the values in their places.
func checkSimplePairs(t *testing.T, row []byte, cells [][]byte) {
	t.Helper()
	plan, out := make([]int, len(cells)), make([][]byte, len(cells))
	twinsEmpty := true
	for c := range plan {
		plan[c] = c
		if c%2 == 1 {
			plan[c] = SimpleEmpty
			twinsEmpty = twinsEmpty && len(cells[c]) == 0
		}
	}
	n := SplitSimple(row, plan, out)
	require.Equal(t, twinsEmpty, n == len(row), "%q", row)
	if twinsEmpty {
		for c := 0; c < len(cells); c += 2 {
			require.Equal(t, string(cells[c]), string(out[c]), "%q column %d", row, c)
		}
	}
}

// TestSplitSimple reads rows SplitSimple takes (LF or CRLF line ends) and rows it leaves to
// the reader (doubled quotes, a CR in a cell, a quote in a bare cell, too few or many cells),
// and keeps to its plan.
func TestSplitSimple(t *testing.T) {
	header := "a,__mv_a,b,__mv_b\n"
	body := header +
		"1,,\"x,y\",\n" +
		"\n" +
		"\"\",,\"l1\nl2\",\n" +
		"\"say \"\"hi\"\"\",,b,\n" +
		"1,,2,\r\n" +
		"x\"y,,2,\n" +
		"1\r,,2,\n" +
		"1,,2,\n" +
		"9,,8,"
	taken := checkSplitSimple(t, []byte(body))
	require.Equal(t, 4, taken[0])
	require.Positive(t, taken[2], "a window of 64 bytes holds whole rows")
	require.Equal(t, 1, checkSplitSimple(t, []byte(header+"1,,2,\n1,,2\n1,,2,\n"))[0], "a row short of a cell")
	require.Equal(t, 1, checkSplitSimple(t, []byte(header+"1,,2,\n1,,2,,\n1,,2,\n"))[0], "a row with a cell too many")
	require.Equal(t, 3, checkSplitSimple(t, []byte(header+",,,\n1,x,2,\n1,,2,y\n"))[0], "rows with a twin not empty")

	out := make([][]byte, 2)
	plan := []int{1, SimpleEmpty, SimpleSkip, 0}
	require.Equal(t, 8, SplitSimple([]byte("a,,b,cd\nz"), plan, out))
	require.Equal(t, [][]byte{[]byte("cd"), []byte("a")}, out)
	require.Zero(t, SplitSimple([]byte("a,x,b,cd\n"), plan, out), "a value where the plan wants none")
	require.Zero(t, SplitSimple([]byte("a,,b,cd"), plan, out), "no line end in hand")
	plan = []int{0, SimpleEmpty, 1, SimpleEmpty}
	for _, row := range []string{"a,,,\r\n", "a,,\"\",\r\n", "a,,b,\r\n"} {
		require.Equal(t, len(row), SplitSimple([]byte(row+"z"), plan, out), "%q", row)
	}
	require.Zero(t, SplitSimple([]byte("a,,b,\rz\n"), plan, out), "a CR in a cell")
}

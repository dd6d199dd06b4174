package scp

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// valueReference is Value's cell as Python's QUOTE_MINIMAL writes it, then the empty twin.
func valueReference(v string) string {
	if strings.ContainsAny(v, "\",\r\n") {
		v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
	}
	return v + ",,"
}

// valueCell writes v alone through Value and returns the bytes it appended.
func valueCell(t testing.TB, w *RowWriter, v string) string {
	t.Helper()
	start := len(w.body)
	w.Value(v)
	got := string(w.body[start:])
	w.body = w.body[:start]
	w.cells--
	return got
}

// TestValueMatchesAppendCell compares Value's word-at-a-time copy with the cell Python writes, for every
// length up to a few words (the short, half-word and word paths and their edges) and around
// maxFastValue, with each byte that needs quoting, and bytes below '-' that do not, at every
// position, in cells of letters and in cells of words (spaces need no quotes, but are below
// '-').
func TestValueMatchesAppendCell(t *testing.T) {
	var w RowWriter
	require.NoError(t, w.SetFields("f"))
	lengths := []int{239, 240, 241, 255, 256, 257, 300, 1000}
	for n := range 41 {
		lengths = append(lengths, n)
	}
	for _, n := range lengths {
		for _, fill := range []string{"a", "ab c"} {
			plain := strings.Repeat(fill, n)[:n]
			assert.Equal(t, valueReference(plain), valueCell(t, &w, plain), "%q", plain)
			for i := range n {
				if n > 40 && i > 8 && i < n-8 {
					continue // long cells: their first and last words will do
				}
				for _, c := range []byte{'"', ',', '\n', '\r', ' ', '$', '!', '+', '-', '.', 0, 0x80, 0xff} {
					b := []byte(plain)
					b[i] = c
					v := string(b)
					assert.Equal(t, valueReference(v), valueCell(t, &w, v), "%q", v)
				}
			}
		}
	}
	// Cells written after others, with and without room to spare in the body.
	var rows RowWriter
	require.NoError(t, rows.SetFields("a", "b", "c"))
	var want strings.Builder
	want.WriteString("a,__mv_a,b,__mv_b,c,__mv_c\r\n")
	for i := range 200 {
		a, b, c := strings.Repeat("x", i%23), strings.Repeat(`"y, `, i%5), strings.Repeat("z\n", i%3)
		rows.Value(a)
		rows.Value(b)
		rows.Value(c)
		require.NoError(t, rows.EndRow())
		want.WriteString(strings.TrimSuffix(valueReference(a)+valueReference(b)+valueReference(c), ",") + "\r\n")
	}
	assert.Equal(t, want.String(), string(rows.Body()))
}

func FuzzValue(f *testing.F) {
	for _, s := range []string{"", "a", "abcd", "abcdefg", "abcdefgh", `say "hi", ok`, "0123456789abcdef", "a\r\nb", "Mozilla/5.0 (X11; Linux x86_64)"} {
		f.Add(s)
	}
	var w RowWriter
	if err := w.SetFields("f"); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := valueCell(t, &w, v), valueReference(v); got != want {
			t.Fatalf("Value(%q) = %q, want %q", v, got, want)
		}
	})
}

// TestCellsBeforeSetFields: the cell methods do not test for the fields, so EndRow and
// SetFields must refuse a row begun before SetFields, as the methods used to.
func TestCellsBeforeSetFields(t *testing.T) {
	var w RowWriter
	assert.ErrorIs(t, w.EndRow(), ErrNoFields, "an empty row without fields")
	w.Value("x")
	w.Decimal(5, 0)
	w.Values([]string{"a", "b"})
	w.Cell([]byte("p"), nil)
	assert.ErrorIs(t, w.EndRow(), ErrNoFields)

	// A row begun before SetFields and ended after it is dropped; the next one is written.
	w.Value("early")
	require.NoError(t, w.SetFields("f", "g"))
	w.Value("late")
	assert.ErrorIs(t, w.EndRow(), ErrNoFields)
	w.Value("1")
	w.Value("2")
	require.NoError(t, w.EndRow())
	assert.Equal(t, "f,__mv_f,g,__mv_g\r\n1,,2,\r\n", string(w.Body()))
	assert.Equal(t, 1, w.Rows())
}

// TestDecimalRepeatsMillis: a time written again (a sequence's _time and start) is copied
// from the last one; whatever comes between, the cells must be Decimal's.
func TestDecimalRepeatsMillis(t *testing.T) {
	var w RowWriter
	require.NoError(t, w.SetFields("n"))
	seq := []int64{1717287262996, 1717287262996, 1717287262997, 1717287262996, 1e12, 1e12, 1e13 - 1, 1e13 - 1, 1e13, 1e13, 0, 0, 1717287262996}
	for i, v := range seq {
		for _, scale := range []int{3, 3, 0, 3} {
			start := len(w.body)
			w.Decimal(v, scale)
			require.Equal(t, decimalReference(v, scale), string(w.body[start:]), "value %d (%d) scale %d", i, v, scale)
			require.NoError(t, w.EndRow())
		}
		if i == 6 {
			w.Reset()
			require.NoError(t, w.SetFields("n"))
		}
	}
}

package okta

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scanner's nesting limit is encoding/json's: the same documents pass and fail at the
// boundary, in arrays, objects, and inside an event of a page.
func TestScannerDepthLimit(t *testing.T) {
	for _, n := range []int{1, 9998, 9999, 10000, 10001, 20000} {
		for _, doc := range []string{
			strings.Repeat("[", n) + strings.Repeat("]", n),
			strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n),
		} {
			s := &scanner{b: []byte(doc)}
			err := s.value()
			ours := err == nil && s.i == len(doc)
			if want := json.Valid([]byte(doc)); ours != want {
				t.Errorf("depth %d %.6q…: scanner valid=%v (%v), encoding/json %v", n, doc, ours, err, want)
			}
			if !ours && (err == nil || !strings.Contains(err.Error(), "exceeded max depth")) {
				t.Errorf("depth %d: want a max depth error, got %v", n, err)
			}
		}
	}
	// A page is one array level and an event one object level more.
	deep := func(n int) string {
		return `[{"uuid":"u","published":"2024-01-01T00:00:00Z","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + "}]"
	}
	if _, err := DecodePage(strings.NewReader(deep(9998))); err != nil {
		t.Errorf("10000 levels in all: %v", err)
	}
	if _, err := DecodePage(strings.NewReader(deep(9999))); err == nil || !strings.Contains(err.Error(), "exceeded max depth") {
		t.Errorf("10001 levels in all: want a max depth error, got %v", err)
	}
}

// Errors point at the offending byte with encoding/json's wording, so a bad page is easy to
// find in Okta's response.
func TestScannerErrors(t *testing.T) {
	for _, tc := range []struct{ doc, msg string }{
		{`{"a" 1}`, `invalid character '1' after object key`},
		{`{"a":1 "b":2}`, `invalid character '"' after object key:value pair`},
		{`[1 2]`, `invalid character '2' after array element`},
		{`{1:2}`, `invalid character '1' looking for beginning of object key string`},
		{`{"a":1,}`, `invalid character '}' looking for beginning of object key string`},
		{`[1,]`, `invalid character ']' looking for beginning of value`},
		{`"a` + "\x01" + `"`, `invalid character '\x01' in string literal`},
		{`"\x"`, `invalid character 'x' in string escape code`},
		{`"\u12g4"`, `invalid character 'g' in \u hexadecimal character escape`},
		{`-a`, `invalid character 'a' in numeric literal`},
		{`1.e5`, `invalid character 'e' in numeric literal`},
		{`nul!`, `invalid character '!' in literal null (expecting 'l')`},
		{`[{"a":[1,{"b":"c"}]`, `unexpected EOF`},
	} {
		s := &scanner{b: []byte(tc.doc)}
		err := s.value()
		if err == nil || err.Error() != tc.msg {
			t.Errorf("%q: got %v, want %s", tc.doc, err, tc.msg)
		}
		if json.Valid([]byte(tc.doc)) {
			t.Errorf("%q: encoding/json accepts it", tc.doc)
		}
	}
}

// The word-at-a-time check of true, false and null and the byte-by-byte one behind it agree
// with encoding/json, wherever the literal stands and however it is cut or misspelt; an error
// points at the first wrong byte, as literal's loop does.
func TestScannerLiteralsMatchEncodingJSON(t *testing.T) {
	for _, word := range []string{"true", "false", "null"} {
		variants := []string{word}
		for n := range len(word) {
			variants = append(variants, word[:n]) // cut short
			bad := []byte(word)
			bad[n] ^= 0x20 // one letter's case changed
			variants = append(variants, string(bad))
		}
		for _, v := range variants {
			for _, doc := range []string{v, "[" + v + "]", `{"a":` + v + `}`, "[" + v + "," + v + "]", v + " "} {
				s := &scanner{b: []byte(doc)}
				err := s.value()
				s.ws()
				ours := err == nil && s.i == len(doc)
				require.Equal(t, json.Valid([]byte(doc)), ours, "%q: %v", doc, err)
				if v != word && len(v) == len(word) {
					var se *syntaxError
					require.ErrorAs(t, err, &se, "%q", doc)
					at := strings.Index(doc, v)
					for at < len(doc) && doc[at] == word[at-strings.Index(doc, v)] {
						at++
					}
					assert.Equal(t, at, se.offset, "%q", doc)
				}
			}
		}
	}
}

// The compact-JSON fast paths after an object key (`":` then the value) and after a member
// (`,"` then the next key) report what encoding/json reports, with the same message and at the
// same byte, when what follows the colon or comma is wrong, cut short, or spaced out.
func TestScannerCompactObjectsMatchEncodingJSON(t *testing.T) {
	for _, doc := range []string{
		`{"a":1,"b":"c"}`, `{"a":}`, `{"a":,"b":1}`, `{"a":1,"b"}`, `{"a":1,"b":}`, `{"a":1,"}`,
		`{"a":1,"b`, `{"a":`, `{"a":1,`, `{"a":"x",}`, `{"a":"x",,}`, `{"a":"x","b"1}`, `{"a" :1}`,
		`{"a": 1,"b":2}`, `{"a":1 ,"b":2}`, `{"a":1, "b":2}`, `{"a":tru}`, `{"a":{"b":[1,{"c":}]}}`,
		`{"a":` + "\x01" + `}`, `{"a":1,` + "\x7f" + `}`, `{"a":"b":1}`, `{"a":1,"b":2,"c":{"d":null},"e":[]}`,
	} {
		s := &scanner{b: []byte(doc)}
		err := s.value()
		var v any
		jerr := json.Unmarshal([]byte(doc), &v)
		if jerr == nil {
			assert.NoError(t, err, doc)
			assert.Equal(t, len(doc), s.i, doc)
			continue
		}
		require.Error(t, err, doc)
		var jse *json.SyntaxError
		require.ErrorAs(t, jerr, &jse, doc)
		if jse.Error() == "unexpected end of JSON input" {
			assert.ErrorIs(t, err, io.ErrUnexpectedEOF, doc)
			continue
		}
		var se *syntaxError
		require.ErrorAs(t, err, &se, doc)
		assert.Equal(t, jse.Error(), se.Error(), doc)
		assert.Equal(t, int(jse.Offset)-1, se.offset, doc)
	}
}

// plainWord, called twice, ends a key or value that closes within its first sixteen bytes
// without strFrom; wherever an escape, a control character or non-ASCII byte stands in such a
// string, as key or as value, the scanner still agrees with encoding/json.
func TestScannerShortStringsMatchEncodingJSON(t *testing.T) {
	for _, special := range []string{`\n`, `\"`, `\u00e9`, `\x`, "\x01", "\u00e9", "\xff", `\`} {
		for n := 0; n <= 24; n++ {
			for at := 0; at <= n; at++ {
				str := strings.Repeat("a", at) + special + strings.Repeat("b", n-at)
				for _, doc := range []string{`{"` + str + `":1}`, `{"k":"` + str + `","z":2}`, `{"k":"` + str + `"}`} {
					s := &scanner{b: []byte(doc)}
					err := s.value()
					ours := err == nil && s.i == len(doc)
					require.Equal(t, json.Valid([]byte(doc)), ours, "%q: %v", doc, err)
					var v any
					if jerr := json.Unmarshal([]byte(doc), &v); jerr != nil {
						var jse *json.SyntaxError
						var se *syntaxError
						if errors.As(jerr, &jse) && errors.As(err, &se) {
							require.Equal(t, int(jse.Offset)-1, se.offset, "%q", doc)
						}
					}
				}
			}
		}
	}
}

package okta

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// textCases are event bodies as a broken server could send them, and what every sink gets.
var textCases = []struct {
	name, in, want string
}{
	{"ASCII", `"a<b & c"`, `"a<b & c"`},
	{"valid UTF-8 passes", `"José 日本 😀 \u00e9"`, `"José 日本 😀 \u00e9"`},
	{"U+FFFD itself passes", "\"\uFFFD\"", "\"\uFFFD\""},
	{"C1 control and DEL pass", "\"\u0085\x7f\"", "\"\u0085\x7f\""},
	{"stray byte", "\"a\xffb\"", "\"a\uFFFDb\""},
	{"stray continuation", "\"a\x80b\"", "\"a\uFFFDb\""},
	{"cut sequence", "\"a\xe2\x82b\"", "\"a\uFFFD\uFFFDb\""},
	{"cut at the end of the string", "\"a\xe2\x82\"", "\"a\uFFFD\uFFFD\""},
	{"overlong slash", "\"a\xc0\xafb\"", "\"a\uFFFD\uFFFDb\""},
	{"encoded surrogate", "\"\xed\xa0\x80\"", "\"\uFFFD\uFFFD\uFFFD\""},
	{"Latin-1 é", "\"Jos\xe9\"", "\"Jos\uFFFD\""},
	{"U+FFFE", "\"a\uFFFEb\"", `"a\ufffeb"`},
	{"U+FFFF", "\"\uFFFF\"", `"\uffff"`},
	{"in a key", "{\"k\xff\":1}", "{\"k\uFFFD\":1}"},
}

func TestMend(t *testing.T) {
	for _, tt := range textCases {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := mend([]byte(tt.in))
			assert.Equal(t, tt.want, string(got))
			assert.Equal(t, tt.in != tt.want, changed)
			assert.True(t, utf8.Valid(got))
			assert.False(t, bytes.Contains(got, []byte("\uFFFE")) || bytes.Contains(got, []byte("\uFFFF")))
			if utf8.ValidString(tt.in) {
				// Valid JSON text keeps its value: only the escape form changed.
				var a, b any
				require.NoError(t, json.Unmarshal([]byte(tt.in), &a))
				require.NoError(t, json.Unmarshal(got, &b))
				assert.Equal(t, a, b)
			}
		})
	}
}

// A page with such events decodes to the mended bytes; the other events keep pointing into
// the page's memory, and an all-ASCII page is not copied.
func TestDecodePageAppliesTheTextRule(t *testing.T) {
	var parts []string
	for i, tt := range textCases {
		parts = append(parts, `{"uuid":"u`+strings.Repeat("x", i)+`","published":"2024-05-01T11:00:00.000Z","v":`+tt.in+`}`)
	}
	events, err := DecodePage(strings.NewReader("[" + strings.Join(parts, ",") + "]"))
	require.NoError(t, err)
	require.Len(t, events, len(textCases))
	for i, tt := range textCases {
		want := `{"uuid":"u` + strings.Repeat("x", i) + `","published":"2024-05-01T11:00:00.000Z","v":` + tt.want + `}`
		assert.Equal(t, want, string(events[i].Raw), tt.name)
	}
	assert.Nil(t, mendText(events[:1], events[0].Raw), "an ASCII page is left alone")
}

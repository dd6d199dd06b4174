package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleLines returns the events of an NDJSON file in testdata, one element per line.
func sampleLines(t testing.TB, name string) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	var out [][]byte
	for line := range bytes.SplitSeq(bytes.TrimRight(b, "\n"), []byte("\n")) {
		out = append(out, line)
	}
	return out
}

// arrayOf makes a page body of events, as Okta sends it.
func arrayOf(events [][]byte) []byte {
	return append(append([]byte("["), bytes.Join(events, []byte(","))...), ']')
}

func TestDecodePageRealSamples(t *testing.T) {
	for _, name := range []string{"elastic.ndjson", "okta-openapi-examples.ndjson", "panther-scenarios.ndjson"} {
		t.Run(name, func(t *testing.T) {
			lines := sampleLines(t, name)
			readers := map[string]func(io.Reader) io.Reader{
				"whole":   func(r io.Reader) io.Reader { return r },
				"onebyte": iotest.OneByteReader,
				"half":    iotest.HalfReader,
			}
			for rname, wrap := range readers {
				events, err := DecodePage(wrap(bytes.NewReader(arrayOf(lines))))
				require.NoError(t, err, rname)
				require.Len(t, events, len(lines), rname)
				for i, ev := range events {
					assert.Equal(t, string(lines[i]), string(ev.Raw), "%s: event %d bytes", rname, i)
					var want struct{ UUID, Published string }
					require.NoError(t, json.Unmarshal(lines[i], &want))
					assert.Equal(t, want.UUID, ev.UUID)
					wantT, err := time.Parse(time.RFC3339Nano, want.Published)
					require.NoError(t, err)
					assert.True(t, wantT.Equal(ev.Published), "published %s vs %s", want.Published, ev.Published)
					assert.Equal(t, time.UTC, ev.Published.Location())
				}
			}
		})
	}
}

func TestDecodePageKeepsExactBytes(t *testing.T) {
	body, err := os.ReadFile("testdata/page_pretty.json")
	require.NoError(t, err)
	events, err := DecodePage(bytes.NewReader(body))
	require.NoError(t, err)
	require.Len(t, events, 3)
	// Rebuild the body: each Raw must be found in order with only array punctuation and
	// white space between, which proves it is the exact bytes of its element.
	rest := body
	for i, ev := range events {
		at := bytes.Index(rest, ev.Raw)
		require.GreaterOrEqual(t, at, 0, "event %d not found verbatim", i)
		assert.Empty(t, strings.Trim(string(rest[:at]), "[, \t\r\n"), "between events %d", i)
		rest = rest[at+len(ev.Raw):]
	}
	assert.Empty(t, strings.Trim(string(rest), "] \t\r\n"))
	assert.Contains(t, string(events[0].Raw), "\n      \"futureField\": {")
	assert.Equal(t, "dc9fd3c0-598c-11ef-8478-000000000002", events[1].UUID)
	assert.Equal(t, time.Date(2024, 8, 13, 15, 58, 20, 353123456, time.UTC), events[1].Published)
	assert.Equal(t, "dc9fd3c0-598c-11ef-8478-000000000003", events[2].UUID, "a nested uuid is not the event's")
	// Raw is owned by the event: changing one does not change another.
	events[0].Raw[0] = 'X'
	assert.Equal(t, byte('{'), events[1].Raw[0])
}

func TestDecodePageErrors(t *testing.T) {
	good := `{"uuid":"a","published":"2024-01-01T00:00:00.000Z"}`
	tests := []struct {
		name, body string
		wantBody   bool // want *BodyError (else *EventError)
		index      int
		contains   string
	}{
		{"empty body", ``, true, 0, "unexpected EOF"},
		{"truncated in event", `[` + good + `,{"uuid":"b","publ`, true, 0, "unexpected EOF"},
		{"truncated after event", `[` + good, true, 0, "unexpected EOF"},
		{"missing bracket", `[` + good + `,`, true, 0, ""},
		{"object not array", `{"errorCode":"E0000009"}`, true, 0, `want a JSON array, got "{"`},
		{"null", `null`, true, 0, "got null"},
		{"html", `<html>busy</html>`, true, 0, "invalid character"},
		{"data after array", `[]{}`, true, 0, "data after the array"},
		{"second array", `[] []`, true, 0, "data after the array"},
		{"element not object", `[` + good + `,"x"]`, false, 1, "not a JSON object"},
		{"missing uuid", `[` + good + `,` + good + `,{"published":"2024-01-01T00:00:00Z"}]`, false, 2, "no uuid"},
		{"null uuid", `[{"uuid":null,"published":"2024-01-01T00:00:00Z"}]`, false, 0, "no uuid"},
		{"number uuid", `[{"uuid":7,"published":"2024-01-01T00:00:00Z"}]`, false, 0, "uuid: want a string, got 7"},
		{"escaped key and value", `[{"\u0075uid":"a\u00e9","published":null}]`, false, 0, "uuid aé: no published"},
		{"object published", `[{"uuid":"a","published":{"t":1}}]`, false, 0, "published: want a string, got {"},
		{"missing published", `[{"uuid":"u1"}]`, false, 0, "uuid u1: no published"},
		{"bad published", `[` + good + `,{"uuid":"u2","published":"yesterday"}]`, false, 1, "uuid u2: published"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodePage(strings.NewReader(tt.body))
			require.Error(t, err)
			if tt.wantBody {
				var be *BodyError
				require.ErrorAs(t, err, &be)
			} else {
				var ee *EventError
				require.ErrorAs(t, err, &ee)
				assert.Equal(t, tt.index, ee.Index)
				assert.ErrorIs(t, err, ErrBadEvent)
			}
			assert.Contains(t, err.Error(), tt.contains)
		})
	}
}

func TestDecodePageEmpty(t *testing.T) {
	for _, body := range []string{`[]`, " [ ] \n", "[\r\n]"} {
		events, err := DecodePage(strings.NewReader(body))
		require.NoError(t, err, "%q", body)
		assert.Empty(t, events)
	}
}

func TestDecodePageReadError(t *testing.T) {
	boom := errors.New("connection reset by peer")
	r := io.MultiReader(strings.NewReader(`[{"uuid":"a","published":"2024-01-01T00:00:00Z"},{"uu`), iotest.ErrReader(boom))
	_, err := DecodePage(r)
	var be *BodyError
	require.ErrorAs(t, err, &be)
	assert.ErrorIs(t, err, boom)
}

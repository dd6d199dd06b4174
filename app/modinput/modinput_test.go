package modinput

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// canon reduces an XML document to its elements, attributes and non-blank text, so the
// Splunk SDK's indented fixtures compare with our compact output.
func canon(t *testing.T, data []byte) []string {
	t.Helper()
	dec := xml.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		switch tk := tok.(type) {
		case xml.StartElement:
			s := "<" + tk.Name.Local
			for _, a := range tk.Attr {
				s += " " + a.Name.Local + "=" + a.Value
			}
			out = append(out, s+">")
		case xml.EndElement:
			out = append(out, "</"+tk.Name.Local+">")
		case xml.CharData:
			if s := strings.TrimSpace(string(tk)); s != "" {
				out = append(out, s)
			}
		}
	}
}

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return data
}

func TestWriteSchemeMatchesSDK(t *testing.T) {
	var b bytes.Buffer
	err := WriteScheme(&b, Scheme{
		Title: "abcd", Description: "쎼 and 쎶 and <&> für", StreamingMode: "simple", UseSingleInstance: true,
		Args: []Arg{
			{Name: "arg1", DataType: "string"},
			{Name: "arg2", Description: "쎼 and 쎶 and <&> für", Validation: "is_pos_int('some_name')", DataType: "number", RequiredOnEdit: true, RequiredOnCreate: true},
		},
	})
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(b.String(), "<?xml"))
	assert.Equal(t, canon(t, fixture(t, "scheme_without_defaults.xml")), canon(t, b.Bytes()))
}

func TestWriteSchemeRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "_x", "a b", "a:b"} {
		err := WriteScheme(io.Discard, Scheme{Title: "t", Args: []Arg{{Name: name}}})
		assert.Error(t, err, "name %q", name)
	}
	assert.Error(t, WriteScheme(io.Discard, Scheme{}), "a scheme needs a title")
}

func TestParseInputConfig(t *testing.T) {
	for _, file := range []string{"conf_with_2_inputs.utf8.xml", "conf_with_2_inputs.xml"} {
		t.Run(file, func(t *testing.T) {
			cfg, err := ParseInputConfig(bytes.NewReader(fixture(t, file)))
			require.NoError(t, err)
			assert.Equal(t, "tiny", cfg.ServerHost)
			assert.Equal(t, "https://127.0.0.1:8089", cfg.ServerURI)
			assert.Equal(t, "123102983109283019283", cfg.SessionKey)
			assert.Equal(t, "/some/dir", cfg.CheckpointDir)
			require.Len(t, cfg.Stanzas, 2)
			assert.Equal(t, Stanza{Name: "foobar://aaa", App: "search",
				Params:     map[string]string{"param1": "value1", "param2": "value2", "disabled": "0", "index": "default"},
				ParamLists: map[string][]string{}}, cfg.Stanzas[0])
			assert.Equal(t, []string{"value3", "value4"}, cfg.Stanzas[1].ParamLists["multiValue2"])
			assert.Equal(t, "value22", cfg.Stanzas[1].Params["param2"])
		})
	}
}

func TestParseInputConfigErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"empty", "  \n", "nothing on stdin"},
		{"invalid element", string(fixture(t, "conf_with_invalid_inputs.utf8.xml")), "unexpected element <editor>"},
		{"wrong root", "<items><item name='x'/></items>", "want <input>"},
		{"truncated", "<input><configuration><stanza name='a'>", "malformed XML"},
		{"unnamed param", "<input><configuration><stanza name='a'><param>v</param></stanza></configuration></input>", "has no name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInputConfig(strings.NewReader(tt.in))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
	cfg, err := ParseInputConfig(bytes.NewReader(fixture(t, "conf_with_0_inputs.utf8.xml")))
	require.NoError(t, err)
	assert.Empty(t, cfg.Stanzas)
}

func TestParseValidation(t *testing.T) {
	for _, file := range []string{"validation.utf8.xml", "validation.xml"} {
		req, err := ParseValidation(bytes.NewReader(fixture(t, file)))
		require.NoError(t, err, file)
		assert.Equal(t, "aaa", req.Name)
		assert.Equal(t, "value1", req.Params["param1"])
		assert.Equal(t, []string{"value1", "value2"}, req.ParamLists["multiValue"])
		assert.Equal(t, "/opt/splunk/var/lib/splunk/modinputs", req.CheckpointDir)
	}
	_, err := ParseValidation(strings.NewReader("<items><item name='a'/><item name='b'/></items>"))
	assert.ErrorContains(t, err, "exactly one")
}

func TestWriteValidationError(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, WriteValidationError(&b, "Big fat validation error!"))
	assert.Equal(t, canon(t, fixture(t, "validation_error.xml")), canon(t, b.Bytes()))
	b.Reset()
	require.NoError(t, WriteValidationError(&b, `org_url "http://x" <must> be https & a host`))
	assert.Equal(t, "<error><message>org_url \"http://x\" &lt;must&gt; be https &amp; a host</message></error>\n", b.String())
}

func TestEventWriterMatchesSDK(t *testing.T) {
	var out bytes.Buffer
	ew := NewEventWriter(&out)
	ts := time.UnixMilli(1372275124466)
	ev := Event{Stanza: "fubar", Time: ts, Source: "hilda", Sourcetype: "misc", Index: "main", Host: "localhost",
		Data: []byte("This is a test of the emergency broadcast system.")}
	require.NoError(t, ew.WritePage([]Event{ev}))
	require.NoError(t, ew.WritePage([]Event{ev}))
	require.NoError(t, ew.Close())
	assert.Equal(t, canon(t, fixture(t, "stream_with_two_events.xml")), canon(t, out.Bytes()))
	assert.Error(t, ew.WritePage([]Event{ev}), "no writes after close")
}

func TestEventDataRoundTrips(t *testing.T) {
	data := []string{
		`{"uuid":"a","displayMessage":"<b>&amp; \"quoted\" ]]> é 😀","x":"\u0000"}`,
		"{\"a\":\r\n 1,\t\"b\":2}",
		`{"target":[{"displayName":"O'Brien"}]}`,
	}
	var out bytes.Buffer
	ew := NewEventWriter(&out)
	var evs []Event
	for _, d := range data {
		evs = append(evs, Event{Stanza: `oktainput://a"<b>`, Data: []byte(d)})
	}
	require.NoError(t, ew.WritePage(evs))
	require.NoError(t, ew.Close())
	var stream struct {
		Events []struct {
			Stanza string `xml:"stanza,attr"`
			Data   string `xml:"data"`
		} `xml:"event"`
	}
	require.NoError(t, xml.Unmarshal(out.Bytes(), &stream))
	require.Len(t, stream.Events, len(data))
	for i, d := range data {
		assert.Equal(t, d, stream.Events[i].Data, "event %d reaches splunkd byte for byte", i)
		assert.Equal(t, `oktainput://a"<b>`, stream.Events[i].Stanza)
	}
	assert.NotContains(t, out.String(), "<time>", "no time given, none written")
}

func TestEventInvalidCharactersAreReplaced(t *testing.T) {
	var b bytes.Buffer
	appendEscaped(&b, []byte("a\x01b\xffc\xef\xbf\xbe"), false)
	assert.Equal(t, "a\uFFFDb\uFFFDc\uFFFD", b.String())
}

type countingFlusher struct {
	bytes.Buffer
	flushes int
}

func (c *countingFlusher) Flush() error { c.flushes++; return nil }

func TestEventWriterFlushesOncePerPage(t *testing.T) {
	var w countingFlusher
	ew := NewEventWriter(&w)
	page := make([]Event, 100)
	for i := range page {
		page[i] = Event{Data: []byte("{}")}
	}
	require.NoError(t, ew.WritePage(page))
	assert.Equal(t, 1, w.flushes)
	require.NoError(t, ew.WritePage(page))
	assert.Equal(t, 2, w.flushes)
	assert.Equal(t, 200, strings.Count(w.String(), "<done/>"))
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestEventWriterReportsWriteErrors(t *testing.T) {
	ew := NewEventWriter(bufio.NewWriterSize(failingWriter{}, 16))
	err := ew.WritePage([]Event{{Data: []byte(strings.Repeat("x", 100))}})
	assert.ErrorContains(t, err, "broken pipe")
}

func TestAppendTime(t *testing.T) {
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2026, 11, 20, 10, 0, 0, 123_456_789, time.UTC), "1795168800.123"},
		{time.Date(2026, 11, 20, 10, 0, 0, 0, time.FixedZone("x", 3600)), "1795165200.000"},
		{time.Date(2026, 11, 20, 10, 0, 0, 5_000_000, time.UTC), "1795168800.005"},
		{time.UnixMilli(-1), "-1.999"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(AppendTime(nil, tt.in)))
	}
}

func FuzzParseInputConfig(f *testing.F) {
	for _, name := range []string{"conf_with_2_inputs.utf8.xml", "conf_with_invalid_inputs.utf8.xml", "validation.utf8.xml"} {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := ParseInputConfig(bytes.NewReader(data))
		if err == nil {
			for _, s := range cfg.Stanzas {
				if s.Params == nil {
					t.Fatal("nil params map")
				}
			}
		}
		_, _ = ParseValidation(bytes.NewReader(data))
	})
}

func FuzzEventData(f *testing.F) {
	f.Add([]byte(`{"a":"<&>\"'"}`), "oktainput://x")
	f.Add([]byte("\xff\x00\r\n"), "a\tb")
	f.Add([]byte(strings.Repeat(`{"k":"v"}`, 7)+"<"), "") // past the 32-byte steps
	f.Add([]byte(strings.Repeat("x", 35)+"\u00e9"+strings.Repeat("y", 30)), "")
	f.Fuzz(func(t *testing.T, data []byte, stanza string) {
		var out bytes.Buffer
		ew := NewEventWriter(&out)
		if err := ew.WritePage([]Event{{Stanza: stanza, Data: data}}); err != nil {
			t.Fatal(err)
		}
		if err := ew.Close(); err != nil {
			t.Fatal(err)
		}
		var stream struct {
			Events []struct {
				Data string `xml:"data"`
			} `xml:"event"`
		}
		if err := xml.Unmarshal(out.Bytes(), &stream); err != nil {
			t.Fatalf("our stream is not XML: %v\n%q", err, out.String())
		}
		if len(stream.Events) != 1 {
			t.Fatalf("%d events", len(stream.Events))
		}
		if valid(data) && stream.Events[0].Data != string(data) {
			t.Fatalf("data changed: %q -> %q", data, stream.Events[0].Data)
		}
	})
}

// plainPrefix must stop at or before a byte that needs escaping wherever it is: in each of
// the four words of a 32-byte step, in the 8-byte tail and in the last bytes.
func TestPlainPrefix(t *testing.T) {
	for _, c := range []byte{0, '\t', '\n', '\r', 0x1f, '&', '<', '>', 0x80, 0xc3, 0xff} {
		for n := 1; n <= 80; n++ {
			for at := 0; at < n; at++ {
				s := bytes.Repeat([]byte{'a'}, n)
				s[at] = c
				if got := plainPrefix(s); got > at {
					t.Fatalf("byte %#x at %d of %d: plain prefix %d", c, at, n, got)
				}
			}
		}
	}
	for _, s := range []string{"", "a", " ~\x7f" + strings.Repeat(`{"a":"b c"}`, 9), strings.Repeat("z", 64)} {
		if got := plainPrefix([]byte(s)); got != len(s) {
			t.Errorf("%q: plain prefix %d of %d", s, got, len(s))
		}
	}
}

// The escaper jumps a word at a time to the next byte that needs attention; whatever word
// and position that byte is in, the output is a byte-by-byte escaper's.
func TestAppendEscapedEveryPosition(t *testing.T) {
	reference := func(s []byte) string {
		var b strings.Builder
		for _, r := range string(s) {
			switch {
			case r == '&':
				b.WriteString("&amp;")
			case r == '<':
				b.WriteString("&lt;")
			case r == '>':
				b.WriteString("&gt;")
			case r == '\r':
				b.WriteString("&#xD;")
			case r == '\n' || r == '\t':
				b.WriteRune(r)
			case r < 0x20 || r == 0xFFFE || r == 0xFFFF || r == utf8.RuneError:
				b.WriteString("\uFFFD")
			default:
				b.WriteRune(r)
			}
		}
		return b.String()
	}
	for _, special := range []string{"&", "<", ">", "\r", "\n", "\t", "\x00", "\x1f", "é", "\u20ac", "\U0001F600", "\xff", "\xef\xbf\xbe"} {
		for n := 1; n <= 40; n++ {
			for at := 0; at < n; at++ {
				s := []byte(strings.Repeat("a", at) + special + strings.Repeat("b", n-at-1) + special)
				var b bytes.Buffer
				appendEscaped(&b, s, false)
				if want := reference(s); b.String() != want {
					t.Fatalf("%q: got %q, want %q", s, b.String(), want)
				}
			}
		}
	}
}

// valid reports whether XML 1.0 can carry data unchanged.
func valid(data []byte) bool {
	s := string(data)
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == 0xFFFD || r == 0xFFFE || r == 0xFFFF || (r < 0x20 && r != '\n' && r != '\t' && r != '\r') {
			return false
		}
	}
	return true
}

// BenchmarkWritePage writes pages of 1000 real Okta events (Okta's own examples, cycled).
func BenchmarkWritePage(b *testing.B) {
	raw, err := os.ReadFile("testdata/okta-openapi-examples.ndjson")
	if err != nil {
		b.Fatal(err)
	}
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	page := make([]Event, 1000)
	size := 0
	for i := range page {
		data := lines[i%len(lines)]
		size += len(data)
		page[i] = Event{Stanza: "oktainput://prod", Time: time.UnixMilli(1795168800123), Source: "okta:acme.okta.com",
			Sourcetype: "OktaIM2:log", Index: "okta", Host: "hf1", Data: data}
	}
	ew := NewEventWriter(io.Discard)
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		if err := ew.WritePage(page); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(page))/b.Elapsed().Seconds(), "events/s")
}

// The escaped header is reused while the metadata stays the same and rebuilt when any of it
// changes: a page mixing stanzas, sources and hosts reads exactly as if each event were
// written on its own.
func TestWritePageHeaderFollowsMetadata(t *testing.T) {
	base := Event{Stanza: `oktainput://a&b`, Source: "okta:a", Sourcetype: "OktaIM2:log", Index: "okta", Host: "hf1", Data: []byte(`{"x":1}`)}
	page := []Event{base, base}
	for _, change := range []func(*Event){
		func(e *Event) { e.Stanza = "oktainput://c" }, func(e *Event) { e.Source = "okta:<b>" },
		func(e *Event) { e.Sourcetype = "" }, func(e *Event) { e.Index = "main" }, func(e *Event) { e.Host = "hf2" },
		func(e *Event) {},
	} {
		e := base
		change(&e)
		page = append(page, e, base)
	}
	var together bytes.Buffer
	require.NoError(t, NewEventWriter(&together).WritePage(page))
	var alone bytes.Buffer
	for _, e := range page {
		var one bytes.Buffer
		require.NoError(t, NewEventWriter(&one).WritePage([]Event{e}))
		alone.WriteString(strings.TrimPrefix(one.String(), "<stream>\n"))
	}
	assert.Equal(t, "<stream>\n"+alone.String(), together.String())
	assert.Contains(t, together.String(), `stanza="oktainput://c"`)
	assert.Contains(t, together.String(), `<source>okta:&lt;b&gt;</source>`)
}

// plainPrefix, with its quick check of a whole event first, keeps its contract whatever the
// bytes: all of s exactly when a byte-by-byte reading finds nothing to escape, else never past
// the first byte that reading finds.
func FuzzPlainPrefix(f *testing.F) {
	f.Add([]byte(`{"a":"b"}`))
	f.Add([]byte(strings.Repeat(`{"k":"v"}`, 7) + "&"))
	f.Add([]byte(strings.Repeat("x", 40) + "\x1f" + strings.Repeat("y", 40)))
	f.Add([]byte(strings.Repeat("x", 33) + "\u00e9"))
	f.Add([]byte("\x7f~ \x20"))
	f.Fuzz(func(t *testing.T, s []byte) {
		want := len(s)
		for i, c := range s {
			if c < 0x20 || c >= 0x80 || c == '&' || c == '<' || c == '>' {
				want = i
				break
			}
		}
		for name, f := range map[string]func([]byte) int{"plainPrefix": plainPrefix, "firstSpecial": firstSpecial} {
			got := f(s)
			if got > want || (got == len(s)) != (want == len(s)) {
				t.Fatalf("%q: %s %d, first byte to escape at %d", s, name, got, want)
			}
		}
	})
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// textEvents are values a broken answer could hold inside an event, one event each.
var textEvents = []struct{ name, value string }{
	{"ascii", `"plain <ascii> & \"quotes\""`},
	{"utf8", `"José 日本 😀 \u00e9"`},
	{"replacement char", "\"\uFFFD\""},
	{"C1 and DEL", "\"\u0085\x7f\""},
	{"stray byte", "\"a\xffb\""},
	{"cut sequence", "\"a\xe2\x82b\""},
	{"overlong", "\"a\xc0\xafb\""},
	{"surrogate", "\"\xed\xa0\x80\""},
	{"latin-1", "\"Jos\xe9\""},
	{"U+FFFE", "\"a\uFFFEb\""},
	{"U+FFFF", "\"\uFFFF\""},
}

// TestTextRuleIsTheSameInEverySink sends events holding bytes that are not UTF-8 and the
// noncharacters XML cannot carry through the NDJSON file, the modular-input XML stream and
// HEC: all three carry the same bytes for each event (golden files), and the XML stream is
// well formed for a strict XML 1.0 parser (Go's, and expat's when python3 is here).
func TestTextRuleIsTheSameInEverySink(t *testing.T) {
	f := newFakeOkta(t, 0)
	f.mu.Lock()
	for i, e := range textEvents {
		pub := base.Add(time.Duration(i) * 1500 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		f.events = append(f.events, fmt.Appendf(nil, `{"uuid":"text-%02d","published":"%s","case":%q,"value":%s}`, i, pub, e.name, e.value))
	}
	f.mu.Unlock()
	args := func(extra ...string) []string {
		return append([]string{"run", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", t.TempDir(),
			"--start-date", base.Format(time.RFC3339), "--hec-source", "okta:acme.okta.com", "--once"}, extra...)
	}

	out := filepath.Join(t.TempDir(), "events.ndjson")
	r := run(context.Background(), "", args("--out", out)...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "hold bytes that are not UTF-8", "the mended events are reported")
	ndjson, err := os.ReadFile(out)
	require.NoError(t, err)
	golden(t, "testdata/text_rule.ndjson", ndjson)

	r = run(context.Background(), "", args("--format", "xml")...)
	require.Equal(t, 0, r.code, r.stderr)
	golden(t, "testdata/text_rule.xml", []byte(r.stdout))
	stream := parseStream(t, r.stdout) // encoding/xml: refuses characters XML 1.0 does not allow
	if py, err := exec.LookPath("python3"); err == nil {
		cmd := exec.Command(py, "-c", "import sys, xml.etree.ElementTree as ET; ET.parse(sys.stdin.buffer)")
		cmd.Stdin = strings.NewReader(r.stdout)
		msg, err := cmd.CombinedOutput()
		require.NoError(t, err, "expat refuses the stream: %s", msg)
	}

	h := &fakeHEC{}
	hs := httptest.NewServer(h)
	defer hs.Close()
	var o, e bytes.Buffer
	env := map[string]string{"OKTA_API_TOKEN": token, "HEC_TOKEN": hecToken}
	code := Run(context.Background(), args("--hec-url", hs.URL), strings.NewReader(""), &o, &e, func(k string) string { return env[k] })
	require.Equal(t, 0, code, e.String())

	lines := strings.Split(strings.TrimSuffix(string(ndjson), "\n"), "\n")
	require.Len(t, lines, len(textEvents))
	require.Len(t, stream, len(textEvents))
	require.Len(t, h.events, len(textEvents))
	for i, tt := range textEvents {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, lines[i], stream[i].Data, "XML carries the NDJSON bytes")
			assert.Equal(t, lines[i], string(h.events[i]), "HEC carries the NDJSON bytes")
			assert.True(t, utf8.ValidString(lines[i]))
			if utf8.ValidString(tt.value) && !strings.ContainsAny(tt.value, "\uFFFE\uFFFF") {
				assert.Equal(t, string(f.events[i]), lines[i], "valid text is Okta's bytes, unchanged")
			}
		})
	}
}

// golden compares got with the file at path, or rewrites it with -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run with -update to create it")
	assert.Equal(t, string(want), string(got), "differs from %s (-update rewrites it)", path)
}

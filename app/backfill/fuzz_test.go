package backfill

import (
	"strings"
	"testing"
	"time"
)

// FuzzParseBound: any accepted value is UTC, whole milliseconds, and reads back the same
// from the form it is logged and keyed in.
func FuzzParseBound(f *testing.F) {
	for _, s := range []string{"2026-11-20", "2026-11-20T08:30", "2026-11-20T08:30:15.123Z", "2026-11-20T08:30:15+02:00",
		"2026-11-20 08:30:15.5", "-2d", "", "2026-02-29", "9999-12-31T23:59:59.999999999Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseBound(s)
		if err != nil {
			if got != (time.Time{}) {
				t.Fatalf("%q: error %v with a time %v", s, err, got)
			}
			return
		}
		if got.Location() != time.UTC || got.Nanosecond()%int(time.Millisecond) != 0 {
			t.Fatalf("%q: got %v, want UTC whole milliseconds", s, got)
		}
		if got.Year() < 0 || got.Year() > 9999 {
			return // outside RFC 3339: never written back
		}
		again, err := ParseBound(got.Format(timeLayout))
		if err != nil || !again.Equal(got) {
			t.Fatalf("%q: %v formatted as %s reads back as %v, %v", s, got, got.Format(timeLayout), again, err)
		}
	})
}

// FuzzUUIDSet holds the set to a plain map of strings: the compact form never makes two
// different uuids equal, nor loses one.
func FuzzUUIDSet(f *testing.F) {
	f.Add("7d4f6a2e-4e0c-11ef-9a6d-7f0c0b1a2e3d", "7d4f6a2e-4e0c-11ef-9a6d-7f0c0b1a2e3e")
	f.Add("7d4f6a2e-4e0c-11ef-9a6d-7f0c0b1a2e3d", "7D4F6A2E-4E0C-11EF-9A6D-7F0C0B1A2E3D")
	f.Add("00000000-0000-0000-0000-000000000000", "00000000000000000000000000000000000")
	f.Add("legacy", "")
	f.Fuzz(func(t *testing.T, a, b string) {
		set := NewUUIDSet()
		set.Add(a)
		if !set.Has(a) {
			t.Fatalf("added %q, Has says no", a)
		}
		if set.Has(b) != (a == b) {
			t.Fatalf("added %q only, Has(%q) = %v", a, b, set.Has(b))
		}
		set.Add(b)
		want := 2
		if a == b {
			want = 1
		}
		if set.Len() != want {
			t.Fatalf("added %q and %q, Len = %d", a, b, set.Len())
		}
	})
}

// FuzzExportSearch: whatever the sourcetype, the search is one line and the quoted value
// reads back as the sourcetype, so no value can end the term and add search commands.
func FuzzExportSearch(f *testing.F) {
	for _, s := range []string{"OktaIM2:log", `a"b`, `a\"`, `\`, `" | delete`, "x\ny", ""} {
		f.Add("okta", s)
	}
	f.Add(`okta" OR index="*`, "x")
	f.Fuzz(func(t *testing.T, index, sourcetype string) {
		got, err := ExportSearch(index, sourcetype)
		if err != nil {
			return
		}
		if strings.ContainsAny(got, "\r\n\x00") {
			t.Fatalf("search on several lines: %q", got)
		}
		if sourcetype == "" {
			sourcetype = DefaultSourcetype
		}
		prefix := `search index="` + index + `" sourcetype="`
		const suffix = `" | stats count by uuid | fields uuid`
		if !strings.HasPrefix(got, prefix) || !strings.HasSuffix(got, suffix) {
			t.Fatalf("unexpected shape: %q", got)
		}
		quoted := got[len(prefix) : len(got)-len(suffix)]
		var back strings.Builder
		for i := 0; i < len(quoted); i++ {
			c := quoted[i]
			switch {
			case c == '\\' && i+1 < len(quoted) && (quoted[i+1] == '\\' || quoted[i+1] == '"'):
				back.WriteByte(quoted[i+1])
				i++
			case c == '\\' || c == '"':
				t.Fatalf("unescaped %q in %q", c, quoted)
			default:
				back.WriteByte(c)
			}
		}
		if back.String() != sourcetype {
			t.Fatalf("sourcetype %q reads back as %q", sourcetype, back.String())
		}
	})
}

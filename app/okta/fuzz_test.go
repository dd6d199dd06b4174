package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzDecodePage(f *testing.F) {
	for _, name := range []string{"elastic.ndjson", "okta-openapi-examples.ndjson", "panther-scenarios.ndjson"} {
		lines := sampleLines(f, name)
		f.Add(arrayOf(lines[:min(3, len(lines))]))
	}
	if b, err := os.ReadFile("testdata/page_pretty.json"); err == nil {
		f.Add(b)
	}
	for _, s := range []string{``, `[]`, `[{}]`, `null`, `{"errorCode":"E0000009"}`, `[{"uuid":"a","published":"2024-01-01T00:00:00Z"}`,
		`[{"uuid":"a","published":"2024-01-01T00:00:00Z","x":[1,{"y":"\u00e9"}]}] `, `[1]`, `[{"uuid":"a","published":"2024-01-01 00:00:00"}]x`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := DecodePage(bytes.NewReader(body))
		if err != nil {
			var be *BodyError
			var ee *EventError
			if !errors.As(err, &be) && !errors.As(err, &ee) {
				t.Fatalf("error of an unexpected type %T: %v", err, err)
			}
			return
		}
		raws := make([][]byte, len(events))
		mended, _ := mend(body) // the text rule, applied to the whole body
		for i, ev := range events {
			if ev.UUID == "" || ev.Published.Location() != time.UTC || len(ev.Raw) == 0 || ev.Raw[0] != '{' {
				t.Fatalf("event %d: %+v", i, ev)
			}
			if !bytes.Contains(mended, ev.Raw) {
				t.Fatalf("event %d: Raw is not bytes of the body (under the text rule): %q", i, ev.Raw)
			}
			if !utf8.Valid(ev.Raw) || bytes.Contains(ev.Raw, []byte("\uFFFE")) || bytes.Contains(ev.Raw, []byte("\uFFFF")) {
				t.Fatalf("event %d: Raw breaks the text rule: %q", i, ev.Raw)
			}
			// The light member scan agrees with encoding/json (exact keys, last one wins).
			var m map[string]json.RawMessage
			if err := json.Unmarshal(ev.Raw, &m); err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			var uuid string
			if err := json.Unmarshal(m["uuid"], &uuid); err != nil || uuid != ev.UUID {
				t.Fatalf("event %d: uuid %q, encoding/json reads %s", i, ev.UUID, m["uuid"])
			}
			raws[i] = ev.Raw
		}
		// Round trip: the elements, put back in an array, decode to the same events.
		again, err := DecodePage(bytes.NewReader(arrayOf(raws)))
		if err != nil {
			t.Fatalf("re-decoding the page: %v", err)
		}
		if len(again) != len(events) {
			t.Fatalf("re-decoded %d events, want %d", len(again), len(events))
		}
		for i := range again {
			if again[i].UUID != events[i].UUID || !again[i].Published.Equal(events[i].Published) || !bytes.Equal(again[i].Raw, events[i].Raw) {
				t.Fatalf("event %d differs after a round trip", i)
			}
		}
	})
}

func FuzzParseLinks(f *testing.F) {
	f.Add("<https://acme.okta.com/api/v1/logs?since=x>; rel=\"self\"\n<https://acme.okta.com/api/v1/logs?after=1_1>; rel=\"next\"")
	f.Add(`<a>; rel="self", <b>; rel=next`)
	f.Add(`<a>; title="x, y"; rel="prefetch next"`)
	f.Add(`<a>; rel="next`)
	f.Add(`<a; rel=next, <b>; rel=self`)
	f.Add(`;;, <>; rel=  "next"; x="\"" ,`)
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{}
		for line := range strings.SplitSeq(s, "\n") {
			h.Add("Link", line)
		}
		next, self := ParseLinks(h)
		for _, got := range []string{next, self} {
			if got != "" && !strings.Contains(s, got) {
				t.Fatalf("link %q is not in the header %q", got, s)
			}
		}
		// What was found reads back the same when written in Okta's form.
		if next != "" {
			n, _ := ParseLinks(http.Header{"Link": {"<" + next + `>; rel="next"`}})
			if n != next {
				t.Fatalf("round trip of next %q gave %q", next, n)
			}
		}
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2020-02-14T22:18:51.843Z", "2020-02-14T22:18:51Z", "2021-06-25T21:27:03.49+02:00",
		"2022-03-22 14:21:53.225", "2020-11-25 21:27:03.496000000", "2020-02-14T22:18:51.123456789-09:30",
		"2024-02-29T23:59:59.9999999999z", "0000-01-01T00:00:00Z", "2020-02-14T22:18:51,843Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s)
		if err != nil {
			if !errors.Is(err, errTimestamp) {
				t.Fatalf("error does not wrap errTimestamp: %v", err)
			}
		} else {
			if got.Location() != time.UTC {
				t.Fatalf("%q: not UTC: %v", s, got)
			}
			back, err := ParseTime(got.Format(time.RFC3339Nano))
			if err != nil || !back.Equal(got) {
				t.Fatalf("%q: round trip through %s: %v %v", s, got.Format(time.RFC3339Nano), back, err)
			}
		}
		// Whatever Go reads as RFC 3339 in the strict shape (two-digit fields, '.' fraction),
		// we read the same; Go also takes one-digit hours and ',' fractions, which we do not.
		want, werr := time.Parse(time.RFC3339Nano, s)
		strict := len(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && !strings.Contains(s, ",")
		// ParseTime refuses, on purpose, an instant whose UTC year leaves 0000-9999 (it could not
		// be written back as RFC 3339); time.Parse keeps the offset and accepts it.
		inRange := werr == nil && want.UTC().Year() >= 0 && want.UTC().Year() <= 9999
		// Go also reads zone minutes 60-99 ("-00:60" is one hour); RFC 3339's time-minute is
		// 00-59, so ParseTime refuses those, and must say so.
		badZone := false
		if n := len(s); n >= 6 && (s[n-6] == '+' || s[n-6] == '-') && s[n-3] == ':' && s[n-2] >= '6' && s[n-2] <= '9' {
			badZone = true
			if err == nil {
				t.Fatalf("%q: zone minutes over 59 accepted as %v", s, got)
			}
		}
		if werr == nil && strict && inRange && !badZone {
			if err != nil {
				t.Fatalf("%q: time.Parse reads it (%v), ParseTime does not: %v", s, want, err)
			}
			if !want.Equal(got) {
				t.Fatalf("%q: time.Parse %v, ParseTime %v", s, want, got)
			}
		}
	})
}

func FuzzParseRateLimit(f *testing.F) {
	f.Add("50", "49", "1700000060")
	f.Add("0", "0", "1700000060")
	f.Add("", "1", "2")
	f.Add(" 20", "21", "-5")
	f.Add("99999999999999999999", "1", "1")
	f.Fuzz(func(t *testing.T, limit, remaining, reset string) {
		h := http.Header{}
		h.Set("X-Rate-Limit-Limit", limit)
		h.Set("X-Rate-Limit-Remaining", remaining)
		h.Set("X-Rate-Limit-Reset", reset)
		rl := ParseRateLimit(h)
		if !rl.Valid {
			if rl != (RateLimit{}) {
				t.Fatalf("invalid but not zero: %+v", rl)
			}
			return
		}
		if rl.Remaining < 0 || rl.Remaining > rl.Limit || rl.Limit > maxCount || rl.Reset.Unix() <= 0 || rl.Reset.Location() != time.UTC {
			t.Fatalf("out of bounds: %+v", rl)
		}
		back := http.Header{}
		back.Set("X-Rate-Limit-Limit", strconv.Itoa(rl.Limit))
		back.Set("X-Rate-Limit-Remaining", strconv.Itoa(rl.Remaining))
		back.Set("X-Rate-Limit-Reset", strconv.FormatInt(rl.Reset.Unix(), 10))
		if again := ParseRateLimit(back); again != rl {
			t.Fatalf("round trip %+v -> %+v", rl, again)
		}
		// Pacing never waits longer than a window may reset, however odd the numbers.
		p := pacer{pct: 50}
		now := rl.Reset.Add(-time.Minute)
		p.observe(rl, time.Time{}, now, now, true, 0.999)
		if d := p.delay(now); d < 0 || d > maxResetWait+time.Second {
			t.Fatalf("pacing delay %v for %+v", d, rl)
		}
	})
}

// FuzzScannerMatchesEncodingJSON holds the page scanner to encoding/json's grammar: it accepts
// exactly the documents json.Valid accepts.
func FuzzScannerMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{`{}`, `[1,2.5e-3,-0,"a\u00e9\n",true,false,null,{"a":[{}]}]`, `01`, `1.`, `-`, `"\x"`, `"a`,
		`{"a" 1}`, `[1,]`, `{"a":1,}`, " \t\n{\r}", `"` + "\x01" + `"`, "\"\xff\"", `1e+`, `[[[[]]]]`, `tru`, `nul`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := &scanner{b: data}
		err := s.value()
		s.ws()
		ours := err == nil && s.i == len(data)
		if want := json.Valid(data); ours != want {
			t.Fatalf("scanner says valid=%v (err %v at %d), encoding/json says %v for %q", ours, err, s.i, want, data)
		}
	})
}

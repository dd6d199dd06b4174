package hec

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/oktasight/oktasight/app/okta"
)

// FuzzParseReply feeds HEC (or a proxy in front of it) arbitrary reply bodies: parsing never
// panics, and an error's text stays bounded.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{
		`{"text":"Success","code":0}`,
		`{"text":"Success","code":0,"ackId":12}`,
		`{"text":"Invalid data format","code":6,"invalid-event-number":3}`,
		`{"acks":{"0":true,"1":false}}`,
		`{"acks":{"x":true}}`,
		`<html><body>502 Bad Gateway</body></html>`,
		`{"code":"9"}`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := parseReply(body)
		for _, st := range []int{200, 400, 503} {
			e := replyError("send", st, r)
			if len(e.Error()) > 2000 {
				t.Fatalf("error text of %d bytes", len(e.Error()))
			}
		}
		acks, err := parseAckReply(body)
		if err == nil && acks == nil {
			t.Fatal("nil acks without an error")
		}
	})
}

// FuzzAppendEvent checks that any JSON value Okta could send comes out of HEC's decoder as
// the same bytes, inside an object HEC can read.
func FuzzAppendEvent(f *testing.F) {
	for _, s := range []string{
		`{"uuid":"a","published":"2024-01-01T00:00:00.000Z"}`,
		`{"a": "caf\u00e9 <b>&", "n": 1.50e0, "x":[ {} ]}`,
		`"just a string"`,
		`[1,2,3]`,
	} {
		f.Add([]byte(s), int64(1714557601007), "host\"\n", "okta:im2")
	}
	f.Fuzz(func(t *testing.T, raw []byte, ms int64, host, source string) {
		raw = bytes.Trim(raw, " \t\r\n")
		if !json.Valid(raw) || len(raw) == 0 {
			return
		}
		s := &Sink{meta: metaFields(Config{Host: host, Source: source, Sourcetype: DefaultSourcetype})}
		b := s.appendEvent(nil, okta.Event{Published: time.UnixMilli(ms), Raw: raw})
		var o map[string]json.RawMessage
		if err := json.Unmarshal(b, &o); err != nil {
			t.Fatalf("object %q: %v", b, err)
		}
		if !bytes.Equal(o["event"], raw) {
			t.Fatalf("event %q, want %q", o["event"], raw)
		}
		var h string
		if host != "" {
			// json.Marshal turns invalid UTF-8 into U+FFFD, so only valid strings round-trip.
			if err := json.Unmarshal(o["host"], &h); err != nil || h != host && utf8.ValidString(host) {
				t.Fatalf("host %q from %q: %v", h, host, err)
			}
		}
		var sec float64
		if err := json.Unmarshal(o["time"], &sec); err != nil {
			t.Fatalf("time %q: %v", o["time"], err)
		}
	})
}

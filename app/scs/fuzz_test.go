package scs

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/okta"
)

// FuzzEventSize checks the batch-size estimate against what the SDK really sends for any
// event body Okta could send: a batch must never outgrow BatchBytes because of escaping.
func FuzzEventSize(f *testing.F) {
	for _, s := range []string{
		`{"uuid":"a","published":"2024-01-01T00:00:00.000Z"}`,
		`{"a": "<b>&amp;</b>", "n": 1.50e0, "x":[ {} ]}`,
		"{\"s\":\"\u2028\u2029\"}",
		`"\u00e9"`,
	} {
		f.Add([]byte(s), "uuid-1", "okta:im2", "host")
	}
	f.Fuzz(func(t *testing.T, raw []byte, uuid, source, host string) {
		if !json.Valid(raw) {
			return
		}
		s := &Sink{cfg: Config{Source: source, Sourcetype: DefaultSourcetype, Host: host}}
		ev := okta.Event{UUID: uuid, Published: time.UnixMilli(1714557601007), Raw: raw}
		b, err := json.Marshal(s.event(ev))
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		est := eventOverhead + len(source) + len(DefaultSourcetype) + len(host) + jsonSize(raw) + len(uuid)
		if len(b) > est+escapes(uuid)+escapes(source)+escapes(host) {
			t.Fatalf("sent %d bytes, estimated %d: %s", len(b), est, b)
		}
	})
}

// escapes is what json.Marshal adds to a string's length, bounded: quotes are counted in
// eventOverhead; the fuzzer's strings may hold control characters our fields never do.
func escapes(s string) int {
	b, _ := json.Marshal(s)
	return len(b) - 2 - len(s)
}

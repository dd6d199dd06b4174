package checkpoint

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// encode is a faster json.Marshal for checkpoints; its output must be json.Marshal's, byte
// for byte, or a checkpoint written by one build could read differently in another.
func TestEncodeIsJSONMarshal(t *testing.T) {
	seen := make([]string, 2000)
	for i := range seen {
		seen[i] = "bae3fb40-e998-11f1-9fac-52506a5aadd1"
	}
	for _, cp := range []Checkpoint{
		{},
		{Version: 1, Stanza: "oktainput://prod", OrgURL: "https://acme.okta.com", NextURL: "https://acme.okta.com/api/v1/logs?after=1&limit=1000",
			LastPublished: "2026-11-29T12:56:00.5Z", LastUUID: seen[0], Seen: seen, Events: 123456, UpdatedAt: time.Date(2026, 11, 29, 13, 1, 2, 345, time.UTC)},
		{Version: 1, Stanza: `a"b\c<d>&e` + "\x01\u00e9\u2028\xff", StartDate: "-7d", Filter: `eventType eq "user.session.start"`, Q: "a & b",
			Seen: []string{"", "<", "é"}, Events: -1, UpdatedAt: time.Date(1, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))},
	} {
		got, err := encode(&cp)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(&cp)
		if string(got) != string(want) {
			t.Errorf("encode:\n%s\njson.Marshal:\n%s", got, want)
		}
	}
	if _, err := encode(&Checkpoint{UpdatedAt: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a year past 9999 encoded without error")
	}
}

func FuzzEncode(f *testing.F) {
	f.Add("oktainput://x", "https://a.okta.com", "u1", `<&>"\`, int64(5), int64(1795168800123))
	f.Add("", "\xff\x00", "\u2028", "é", int64(-1), int64(0))
	f.Fuzz(func(t *testing.T, stanza, org, next, uuid string, events, ms int64) {
		cp := Checkpoint{Version: 1, Stanza: stanza, OrgURL: org, NextURL: next, LastUUID: uuid, Filter: strings.Repeat(uuid, 2),
			Seen: []string{uuid, stanza}, Events: events, UpdatedAt: time.UnixMilli(ms % 253402300799000).UTC()}
		got, err := encode(&cp)
		want, werr := json.Marshal(&cp)
		if (err != nil) != (werr != nil) || string(got) != string(want) {
			t.Fatalf("encode %q (%v), json.Marshal %q (%v)", got, err, want, werr)
		}
	})
}

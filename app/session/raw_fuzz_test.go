package session

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/oktasight/oktasight/app/scp"
)

func FuzzParseRaw(f *testing.F) {
	for _, file := range sampleFiles {
		for _, line := range readLines(f, filepath.Join("testdata", "okta-samples", file)) {
			f.Add(line)
		}
	}
	for _, s := range rawSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkRaw(t, raw)
	})
}

// rawSeeds are JSON documents at the edges of what ParseRaw reads.
var rawSeeds = []string{
	`{"eventType":"a\ud800","target":[{"type":"User","id":"\u0041"}]}`,
	`{"eventType":"x","published":"2024-01-01T00:00:00.123456Z"}`,
	`{"eventType":"user.session.start","actor":{"id":"a"},"actor":{"type":"User"}}`,
	`{"eventType":"user.session.end","eventType":"user.session.start","uuid":"\u00e9\"\\\/"}`,
	` { "eventType" : "user.authentication.sso" , "target" : [ { "type" : "AppInstance" , "displayName" : "unknown" } , { "type" : "AppInstance" , "displayName" : "Wiki" } ] } `,
	`{"eventType":"x","target":[{"type":"User","id":"00u1"}],"target":[{"type":"AppInstance","displayName":"A"}]}`,
	`{"eventType":"x","actor":{"id":-0.5e+3,"type":true,"alternateId":null,"displayName":[1,{"a":{}}]}}`,
	`{"event\u0054ype":"user.session.start","outcome":{"result":"S\u00dcCCESS"}}`,
	"{\"eventType\":\"a\xffb\",\"uuid\":\"\xc3\x28\"}",
	`{"eventType":"x","debugContext":{"debugData":{"factor":"SMS","factor":null}}}`,
	`{"eventType":"xy","uuid":"1"} `,
	"{\"eventType\":\"xyz\",\r\n\"uuid\":\"1\"}",
	`{"eventType":"x"`,
	`{"eventType":"x","a":01}`,
	`{"eventType":"x","a":1.}`,
	`{"eventType":"x","a":"\u12"}`,
	`{"eventType":"x",}`,
	`{"eventType":"xyz","a":[}`,
	`{"eventType":"xyz","b":1,"eventType":"ab"}`,
	`{"eventType":"xyz","b":"eventType"}`,
	`{"eventType":"x","debugContext":{"debugData":{"behaviors":{"New IP=POSITIVE":null, "New City":"POSITIVE"},"risk":{"level":"HIGH"},"logOnlySecurityData":"{\"risk\":{\"level\":\"LOW\"}}"}}}`,
	`{"eventType":"x","debugContext":{"debugData":{"behaviors":"","logOnlySecurityData":{"behaviors":{"New \"IP\"":"POSITIVE","Velocity":"POSITIVE"}}}}}`,
	`{"eventType":"x","debugContext":{"debugData":{"behaviors":null,"risk":null,"logOnlySecurityData":[ "level=MEDIUM", "New Device=POSITIVE" ]}}}`,
	`{"eventType":"x","debugContext":{"debugData":{"behaviors":["New IP=POSITIVE"]}},"debugContext":{"debugData":{"dtHash":"h"}}}`,
	`{"eventType":"x","securityContext":{"asNumber":7018,"isp":"att","isProxy":"TRUE"},"transaction":{"id":"T\u0031","type":"WEB"}}`,
}

// checkRaw checks ParseRaw on raw against encoding/json: the same Event for every valid
// document (ErrNotOkta where it has no eventType), ErrNotJSON for every invalid one; then
// checkCell.
func checkRaw(t *testing.T, raw []byte) {
	t.Helper()
	var e Event
	err := ParseRaw(raw, &e)
	if err != nil {
		if !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrNotOkta) {
			t.Fatalf("error wraps neither sentinel: %v", err)
		}
		if !strings.HasPrefix(err.Error(), "session: raw event: ") {
			t.Fatalf("error without context: %v", err)
		}
	}
	switch {
	case !json.Valid(raw):
		if !errors.Is(err, ErrNotJSON) {
			t.Fatalf("invalid JSON accepted: %v %+v", err, e)
		}
	case depth(raw) > maxDepth:
		// Deeper than ParseRaw goes: refused, where encoding/json reads 10 000 levels.
		if !errors.Is(err, ErrNotJSON) {
			t.Fatalf("JSON %d deep accepted: %v", depth(raw), err)
		}
	default:
		want, refErr := referenceEvent(raw)
		var typeErr *json.UnmarshalTypeError
		switch {
		case errors.As(refErr, &typeErr):
			if !errors.Is(err, ErrNotJSON) {
				t.Fatalf("not an object, ParseRaw: %v", err)
			}
		case refErr != nil:
			if !errors.Is(err, ErrNotOkta) {
				t.Fatalf("reference: %v, ParseRaw: %v", refErr, err)
			}
		case err != nil:
			t.Fatalf("valid Okta event rejected: %v", err)
		case want != e:
			t.Fatalf("ParseRaw differs from encoding/json:\n got %+v\nwant %+v", e, want)
		}
	}
	checkCell(t, raw, e, err)
}

// depth returns how deeply raw's brackets nest, strings aside.
func depth(raw []byte) int {
	d, most, in := 0, 0, false
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; {
		case in && c == '\\':
			i++
		case c == '"':
			in = !in
		case !in && (c == '{' || c == '['):
			d++
			most = max(most, d)
		case !in && (c == '}' || c == ']'):
			d--
		}
	}
	return most
}

// skipOdd is a RawReader's Skip for the checks: event types of odd length.
func skipOdd(t string) bool { return len(t)%2 == 1 }

// checkCell reads raw as the _raw cell of a chunk, CSV-quoted with its quotes doubled (a row
// before and after it, a column after it), through scp's reader with a RawReader finding the
// cell's end, and as a bare cell, and expects what ParseRaw gave (want, wantErr). With Skip,
// an event of a type it skips gives ErrSkipped and the type (or, when the document is broken
// after its eventType, ErrNotJSON or ErrSkipped).
func checkCell(t *testing.T, raw []byte, want Event, wantErr error) {
	t.Helper()
	quoted := `"` + strings.ReplaceAll(string(raw), `"`, `""`) + `"`
	body := "_raw,n,__mv__raw,__mv_n\n\"{}\",0,,\n" + quoted + ",1,,\r\n\"{\"\"eventType\"\":\"\"b\"\"}\",2,,\n"
	for _, skip := range []func(string) bool{nil, skipOdd} {
		var plain, r scp.RowReader
		x := RawReader{Skip: skip}
		if err := plain.Reset([]byte(body)); err != nil {
			t.Fatalf("plain reader: %v", err)
		}
		if err := r.ResetReader(iotest.HalfReader(strings.NewReader(body)), len(body)); err != nil {
			t.Fatalf("reader: %v", err)
		}
		col, _ := r.Columns(r.Index("_raw"))
		r.Verbatim(col, &x)
		k := 0
		for ; r.Next(); k++ {
			if !plain.Next() {
				t.Fatalf("row %d: the plain reader has none", k)
			}
			if string(r.Value(1)) != string(plain.Value(1)) {
				t.Fatalf("row %d: n %q, plain reader %q", k, r.Value(1), plain.Value(1))
			}
			if k != 1 {
				continue
			}
			if string(r.Value(0)) != quoted {
				t.Fatalf("verbatim cell %q, want %q", r.Value(0), quoted)
			}
			got := Event{Ref: 3}
			err := x.Event(r.Value(0), &got)
			checkSame(t, "quoted cell", skip, got, err, want, wantErr)
			if len(raw) > 0 && raw[0] != '"' {
				bare := RawReader{Skip: skip}
				got = Event{Ref: 3}
				err = bare.Event(raw, &got)
				checkSame(t, "bare cell", skip, got, err, want, wantErr)
			}
		}
		if r.Err() != nil || k != 3 || plain.Next() {
			t.Fatalf("%d rows: %v", k, r.Err())
		}
	}
}

func checkSame(t *testing.T, what string, skip func(string) bool, got Event, err error, want Event, wantErr error) {
	t.Helper()
	if got.Ref != 3 {
		t.Fatalf("%s: Ref changed", what)
	}
	got.Ref = 0
	switch {
	case skip != nil && wantErr == nil && skip(want.Type):
		if err != ErrSkipped || got != (Event{Type: want.Type}) {
			t.Fatalf("%s: skipped type %q: %v %+v", what, want.Type, err, got)
		}
	case err == ErrSkipped && errors.Is(wantErr, ErrNotJSON) && skip(got.Type):
		// Broken after an eventType it skips: it need not read that far.
	case fmt.Sprint(err) != fmt.Sprint(wantErr) && !(errors.Is(err, ErrNotJSON) && errors.Is(wantErr, ErrNotJSON)):
		t.Fatalf("%s: error %v, ParseRaw %v (skip %v)", what, err, wantErr, skip != nil)
	case wantErr == nil && got != want:
		t.Fatalf("%s: got %+v\nParseRaw %+v", what, got, want)
	}
}

// TestRawMatchesEncodingJSONOnRandomEvents builds Okta-shaped events at random (the paths
// ParseRaw reads among other members and nesting, keys in any order and repeated, escapes,
// spaces, values of every type) and checks each as FuzzParseRaw does, whole and cut short.
func TestRawMatchesEncodingJSONOnRandomEvents(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	n := 5_000 // 10 000 documents: 2 s, 20 s with -race
	if testing.Short() {
		n = 1_000
	}
	var seen [5]int // events with behaviors, a risk, a proxy, an ASN, a transaction
	for range n {
		doc := randomEvent(rng)
		checkRaw(t, doc)
		checkRaw(t, doc[:rng.IntN(len(doc)+1)])
		var e Event
		if ParseRaw(doc, &e) == nil {
			for i, v := range [...]string{e.Behaviors, e.Risk, e.Proxy, e.ASN, e.TransactionID} {
				if v != "" {
					seen[i]++
				}
			}
		}
	}
	for i, k := range seen {
		if k < n/50 {
			t.Errorf("signal %d set in %d of %d events: the generator hardly reaches it", i, k, n)
		}
	}
}

// randomEvent writes a random Okta-shaped JSON object.
func randomEvent(rng *rand.Rand) []byte {
	types := []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.sso", "user.authentication.auth_via_mfa", "app.generic", "unknown", ""}
	words := []string{"User", "AppInstance", "AuthenticatorEnrollment", "Factor", "00u1", "a@b.c", "unknown", "-", "null", "SUCCESS",
		"2024-06-01T00:00:00.123Z", "2022-03-22 14:21:53.2", "2024-01-01T01:00:00+01:00", "é", `q"uote`, `back\slash`, "sl/ash", "tab\t", "ctl\x01"}
	escaped := []string{`"\u00e9"`, `"\ud83d\ude00"`, `"\ud800x"`, `"\u0041"`, `"a\/b"`, `"\"\\"`, `"\b\f\n\r\t"`}
	sp := func() string { return []string{"", "", "", " ", "\n", " \t\r\n "}[rng.IntN(6)] }
	str := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	var value func(d int) string
	value = func(d int) string {
		switch k := rng.IntN(12); {
		case k < 5 || d > 3:
			return str(words[rng.IntN(len(words))])
		case k == 5:
			return escaped[rng.IntN(len(escaped))]
		case k == 6:
			return []string{"null", "true", "false", "0", "-12.5e3", "42", "1E+2"}[rng.IntN(7)]
		case k == 7:
			var parts []string
			for range rng.IntN(3) {
				parts = append(parts, sp()+value(d+1)+sp())
			}
			return "[" + strings.Join(parts, ",") + "]"
		default:
			var parts []string
			for range rng.IntN(4) {
				parts = append(parts, sp()+str([]string{"id", "type", "x", "alternateId", "displayName"}[rng.IntN(5)])+sp()+":"+sp()+value(d+1))
			}
			return "{" + strings.Join(parts, ",") + "}"
		}
	}
	object := func(keys []string, d int) string {
		var parts []string
		for _, k := range keys {
			if rng.IntN(5) == 0 {
				continue
			}
			for range 1 + rng.IntN(4)/3 { // sometimes twice
				parts = append(parts, sp()+str(k)+sp()+":"+sp()+value(d))
			}
		}
		rng.Shuffle(len(parts), func(i, j int) { parts[i], parts[j] = parts[j], parts[i] })
		return "{" + strings.Join(parts, ",") + sp() + "}"
	}
	// signals gives debugData's behaviors, risk and logOnlySecurityData, and isProxy, the
	// shapes Okta logs (and Panther's tests reshape) some of the time.
	shapes := [...]struct {
		key    string
		values []string
	}{
		{"behaviors", []string{`"{New Geo-Location=NEGATIVE, New Device=POSITIVE, New IP=POSITIVE}"`, `"New IP,New Device"`,
			`["New IP=POSITIVE","New City=NEGATIVE"]`, `{"New IP=POSITIVE":null,"Velocity":"POSITIVE"}`, `""`, `"{}"`}},
		{"risk", []string{`"{reasons=Anomalous Device, level=HIGH}"`, `"{previousLevel=HIGH, level=LOW}"`, `"MEDIUM"`, `{"level":"LOW"}`, `""`}},
		{"logOnlySecurityData", []string{`"{\"risk\":{\"level\":\"MEDIUM\"},\"behaviors\":{\"New Device\":\"POSITIVE\"}}"`,
			`{"risk":{"level":"LOW"},"behaviors":{"New IP": "POSITIVE", "New\u0020City":"POSITIVE"}}`, `[{"level":"HIGH"}]`}},
		{"isProxy", []string{"true", `"true"`, "false", `"TRUE"`}},
	}
	signals := func(obj string) string {
		for _, sh := range shapes {
			if rng.IntN(2) == 0 {
				k := `"` + sh.key + `":`
				obj = strings.Replace(obj, k, k+sh.values[rng.IntN(len(sh.values))]+`,"_`+sh.key+`":`, 1)
			}
		}
		return obj
	}
	var members []string
	add := func(k, v string) { members = append(members, sp()+str(k)+sp()+":"+sp()+v) }
	add("eventType", str(types[rng.IntN(len(types))]))
	if rng.IntN(8) == 0 {
		add("eventType", str(types[rng.IntN(len(types))]))
	}
	add("uuid", value(0))
	add("published", str(words[10+rng.IntN(3)]))
	add("actor", object([]string{"id", "type", "alternateId", "displayName", "detailEntry"}, 1))
	add("client", "{"+`"userAgent":`+object([]string{"rawUserAgent", "os"}, 2)+`,"ipAddress":`+value(2)+`,"geographicalContext":`+object([]string{"city", "country"}, 2)+"}")
	add("authenticationContext", object([]string{"externalSessionId", "credentialType"}, 1))
	add("outcome", object([]string{"result", "reason"}, 1))
	add("debugContext", `{"debugData":`+signals(object([]string{"factor", "requestUri", "dtHash", "behaviors", "risk", "logOnlySecurityData"}, 2))+"}")
	add("transaction", object([]string{"id", "type"}, 1))
	add("securityContext", signals(object([]string{"asNumber", "isp", "isProxy", "domain"}, 1)))
	add("device", value(0))
	var targets []string
	for range rng.IntN(4) {
		targets = append(targets, sp()+object([]string{"id", "type", "alternateId", "displayName", "detailEntry"}, 2))
	}
	if rng.IntN(6) > 0 {
		add("target", "["+strings.Join(targets, ",")+"]")
	} else {
		add("target", value(0))
	}
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	return []byte(sp() + "{" + strings.Join(members, ",") + "}" + sp())
}

// TestRawSlots checks that the named slots are the paths they name.
func TestRawSlots(t *testing.T) {
	for slot, path := range map[int]string{slotType: "eventType", slotPublished: "published",
		slotProxy: "securityContext.isProxy", slotRisk: "debugContext.debugData.risk",
		slotBehaviors: "debugContext.debugData.behaviors", slotLogOnly: "debugContext.debugData.logOnlySecurityData"} {
		if rawPaths[slot].path != path {
			t.Errorf("slot %d is %q, want %q", slot, rawPaths[slot].path, path)
		}
	}
}

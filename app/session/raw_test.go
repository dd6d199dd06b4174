package session

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleFiles are the real Okta events copied from /work/shared/data/okta-samples.
var sampleFiles = []string{"elastic.ndjson", "panther-rule-tests.ndjson", "panther-scenarios.ndjson", "okta-openapi-examples.ndjson"}

// readLines returns the non-empty lines of a testdata file.
func readLines(t testing.TB, path string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) > 0 {
			out = append(out, append([]byte(nil), sc.Bytes()...))
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// referenceEvent extracts an Event with encoding/json, slowly and obviously, to check ParseRaw.
// Duplicate keys keep the last value (a duplicate object replaces the first one whole), as
// encoding/json decodes them; numbers keep their text.
func referenceEvent(raw []byte) (Event, error) {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return Event{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Event{}, errors.New("trailing data")
	}
	if m == nil { // null, which encoding/json reads into a map without error, is no object
		return Event{}, &json.UnmarshalTypeError{Value: "null", Type: reflect.TypeOf(m)}
	}
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return clean(x)
		case json.Number:
			return clean(x.String())
		case float64:
			return clean(fmt.Sprint(x))
		case bool:
			return fmt.Sprint(x)
		}
		return ""
	}
	obj := func(v any) map[string]any { o, _ := v.(map[string]any); return o }
	e := Event{Type: str(m["eventType"]), UUID: str(m["uuid"])}
	if e.Type == "" {
		return e, ErrNotOkta
	}
	a := obj(m["actor"])
	e.ActorID, e.ActorType, e.ActorLogin, e.ActorName = str(a["id"]), str(a["type"]), str(a["alternateId"]), str(a["displayName"])
	c := obj(m["client"])
	e.IP, e.UserAgent = str(c["ipAddress"]), str(obj(c["userAgent"])["rawUserAgent"])
	e.SessionID = str(obj(m["authenticationContext"])["externalSessionId"])
	o := obj(m["outcome"])
	e.Result, e.Reason = str(o["result"]), str(o["reason"])
	e.Factor = str(obj(obj(m["debugContext"])["debugData"])["factor"])
	targets, _ := m["target"].([]any)
	auth := ""
	for _, tv := range targets {
		tg := obj(tv)
		switch typ := str(tg["type"]); {
		case typ == "User" && e.TargetID == "" && str(tg["id"]) != "":
			e.TargetID, e.TargetLogin = str(tg["id"]), str(tg["alternateId"])
		case typ == "AppInstance" && e.App == "":
			e.App = str(tg["displayName"])
		case isAuthenticator(typ) && auth == "":
			auth = str(tg["displayName"])
		}
	}
	if e.Factor == "" {
		e.Factor = auth
	}
	if p := str(m["published"]); p != "" {
		e.Time, _ = parsePublished(p)
	}
	e.TransactionID = str(obj(m["transaction"])["id"])
	e.DTHash = str(obj(obj(m["debugContext"])["debugData"])["dtHash"])
	geo := obj(obj(m["client"])["geographicalContext"])
	e.Country, e.City = str(geo["country"]), str(geo["city"])
	sc := obj(m["securityContext"])
	e.ASN, e.ISP, e.Proxy = str(sc["asNumber"]), str(sc["isp"]), Proxy(str(sc["isProxy"]))
	referenceSignals(raw, &e)
	return e, nil
}

// referenceSignals sets e's behaviors and risk by main's rule (d9be068), read with
// encoding/json: debugData's behaviors, risk and logOnlySecurityData as text (a string
// decoded, an object's or array's JSON as logged; null, a number or a boolean is none);
// behaviors or risk that is none or blank comes from logOnlySecurityData. The behaviors are
// named by referenceBehaviors' regular expressions, the risk level by a regular expression.
func referenceSignals(raw []byte, e *Event) {
	dd := debugDataMembers(raw)
	signal := func(name string) string {
		switch v := dd[name]; {
		case len(v) == 0:
		case v[0] == '"':
			var s string
			_ = json.Unmarshal(v, &s)
			return s
		case v[0] == '{' || v[0] == '[':
			return string(v)
		}
		return ""
	}
	signalsFromText(signal("behaviors"), signal("risk"), signal("logOnlySecurityData"), e)
	e.Behaviors = clean(e.Behaviors)
}

// signalsFromText sets e's behaviors and risk from debugData's members read as text: blank
// behaviors or risk come from logOnlySecurityData.
func signalsFromText(behaviors, risk, logOnly string, e *Event) {
	if strings.TrimSpace(behaviors) == "" {
		behaviors = logOnly
	}
	if strings.TrimSpace(risk) == "" {
		risk = logOnly
	}
	e.Behaviors = referenceBehaviors(behaviors)
	level := regexp.MustCompile(`(?:^|[^A-Za-z0-9_])level[" ]*[=:][" ]*(LOW|MEDIUM|HIGH)\b`)
	if mm := level.FindStringSubmatch(risk); mm != nil {
		e.Risk = mm[1]
	} else if risk == "LOW" || risk == "MEDIUM" || risk == "HIGH" {
		e.Risk = risk
	}
}

// obviousSignals extracts the per-sequence signals the slow, obvious way, for Okta's events
// as logged (TestParseRawMatchesReferenceOnRealEvents).
func obviousSignals(m map[string]any, raw []byte, e *Event) {
	obj := func(v any) map[string]any { o, _ := v.(map[string]any); return o }
	str := func(v any) string {
		switch x := v.(type) {
		case string:
			return clean(x)
		case json.Number:
			return x.String()
		case float64:
			return fmt.Sprint(x)
		}
		return ""
	}
	dd := obj(obj(m["debugContext"])["debugData"])
	e.TransactionID = str(obj(m["transaction"])["id"])
	e.DTHash = str(dd["dtHash"])
	geo := obj(obj(m["client"])["geographicalContext"])
	e.Country, e.City = str(geo["country"]), str(geo["city"])
	sc := obj(m["securityContext"])
	e.ASN, e.ISP = str(sc["asNumber"]), str(sc["isp"])
	if sc["isProxy"] == true {
		e.Proxy = "true"
	}
	// behaviors, risk and logOnlySecurityData as the parser reads them: a string's text, an
	// object's or array's JSON as logged. Anything else (absent, null, a number, a boolean) and
	// blank text are none, and behaviors and risk then come from logOnlySecurityData.
	ddRaw := debugDataMembers(raw)
	signal := func(name string) string {
		switch v := dd[name].(type) {
		case string:
			return v
		case map[string]any, []any:
			return string(ddRaw[name])
		}
		return ""
	}
	signalsFromText(signal("behaviors"), signal("risk"), signal("logOnlySecurityData"), e)
}

// appendName appends a behavior's name unless it is empty or would not read back from the
// comma-separated list (the rule of AppendBehaviors, stated plainly).
func appendName(names []string, name string) []string {
	if name == "" || strings.ContainsAny(name, "=:,") {
		return names
	}
	return append(names, name)
}

// referenceBehaviors states AppendBehaviors' rule with regular expressions: text with no '='
// or ':' is a list already normalized; otherwise every POSITIVE not followed by a word byte
// names the behavior before it, NAME= (back to the last of {,[") or "NAME":", in order.
func referenceBehaviors(text string) string {
	if !strings.ContainsAny(text, "=:") {
		return strings.TrimSpace(text)
	}
	pairName := regexp.MustCompile(`(?:^|[{,\["])([^{,\["]*)=$`)
	jsonName := regexp.MustCompile(`(?:^|")([^"]*)" *: *" *$`)
	word := regexp.MustCompile(`^[A-Za-z0-9_]`)
	var names []string
	for _, m := range regexp.MustCompile(`POSITIVE`).FindAllStringIndex(text, -1) {
		if word.MatchString(text[m[1]:]) {
			continue
		}
		name := ""
		if g := pairName.FindStringSubmatch(text[:m[0]]); g != nil {
			name = g[1]
		} else if g := jsonName.FindStringSubmatch(text[:m[0]]); g != nil {
			name = g[1]
		}
		names = appendName(names, strings.TrimSpace(name))
	}
	return strings.Join(names, ",")
}

// debugDataMembers returns debugContext.debugData's members as logged, nil when it is no object.
func debugDataMembers(raw []byte) map[string]json.RawMessage {
	var top, dc, dd map[string]json.RawMessage
	if json.Unmarshal(raw, &top) != nil || json.Unmarshal(top["debugContext"], &dc) != nil ||
		json.Unmarshal(dc["debugData"], &dd) != nil {
		return nil
	}
	return dd
}

func TestParseRawMatchesReferenceOnRealEvents(t *testing.T) {
	n := 0
	for _, f := range sampleFiles {
		for i, line := range readLines(t, filepath.Join("testdata", "okta-samples", f)) {
			var got Event
			require.NoError(t, ParseRaw(line, &got), "%s:%d", f, i+1)
			want, err := referenceEvent(line)
			require.NoError(t, err)
			assert.Equal(t, want, got, "%s:%d", f, i+1)
			var m map[string]any
			require.NoError(t, json.Unmarshal(line, &m))
			obvious := want
			obviousSignals(m, line, &obvious)
			assert.Equal(t, obvious, got, "signals the obvious way %s:%d", f, i+1)
			n++
		}
	}
	assert.Equal(t, 124, n, "every sample event is checked")
}

func TestParseRawQuirks(t *testing.T) {
	lines := readLines(t, filepath.Join("testdata", "okta-samples", "elastic.ndjson"))
	var e Event
	require.NoError(t, ParseRaw(lines[1], &e))
	assert.Equal(t, Event{
		Time: 1581711537718, UUID: "3aeede38-4f67-11ea-abd3-1f5d113f2546", Type: "user.session.start",
		ActorID: "00u1abvz4pYqdM8ms4x6", ActorType: "User", ActorLogin: "xxxxxx@elastic.co", ActorName: "xxxxxx",
		IP: "67.43.156.12", UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:72.0) Gecko/20100101 Firefox/72.0",
		SessionID: "102bZDNFfWaQSyEZQuDgWt-uQ", Result: "SUCCESS",
		TransactionID: "XkcAsWb8WjwDP76xh@1v8wAABp0", Country: "United States", City: "Dublin",
	}, e)

	tests := []struct {
		name string
		raw  string
		want Event
	}{
		{"null strings and unknown", `{"eventType":"user.session.start","actor":{"id":"unknown","type":"User","alternateId":"a@b.c"},"client":{"ipAddress":"null"},"authenticationContext":{"externalSessionId":"unknown"},"outcome":{"result":"FAILURE","reason":"-"}}`,
			Event{Type: "user.session.start", ActorType: "User", ActorLogin: "a@b.c", Result: "FAILURE"}},
		{"version as number, space timestamp, escapes", `{"version":0,"eventType":"user.authentication.sso","published":"2022-03-22 14:21:53.225","uuid":"a\u00e9\"b","target":[{"type":"AppInstance","displayName":"Wiki \ud83d\ude00"}]}`,
			Event{Type: "user.authentication.sso", Time: 1647958913225, UUID: "aé\"b", App: "Wiki 😀"}},
		{"authenticator fallback", `{"eventType":"user.authentication.auth_via_mfa","target":[{"type":"User","id":"00u1","alternateId":"u@x"},{"type":"AuthenticatorEnrollment","displayName":"Okta Verify"}]}`,
			Event{Type: "user.authentication.auth_via_mfa", TargetID: "00u1", TargetLogin: "u@x", Factor: "Okta Verify"}},
		{"factor wins over authenticator", `{"eventType":"x","debugContext":{"debugData":{"factor":"SMS"}},"target":[{"type":"AuthenticatorEnrollment","displayName":"Phone"}]}`,
			Event{Type: "x", Factor: "SMS"}},
		{"offset timestamp", `{"eventType":"x","published":"2024-01-01T01:00:00.5+01:00"}`, Event{Type: "x", Time: 1704067200500}},
		{"bad timestamp leaves Time 0", `{"eventType":"x","published":"redacted"}`, Event{Type: "x"}},
		{"behaviors as Okta logs them, risk with reasons, proxy", `{"eventType":"x","debugContext":{"debugData":{"behaviors":"{New Geo-Location=POSITIVE, New Device=NEGATIVE, New IP=POSITIVE, Velocity Behavior=NEGATIVE, New City=POSITIVE}","risk":"{reasons=Anomalous Device, Anomalous Location, level=HIGH}","dtHash":"abc"}},"securityContext":{"asNumber":701,"isp":"verizon","isProxy":true},"transaction":{"id":"T1"}}`,
			Event{Type: "x", Behaviors: "New Geo-Location,New IP,New City", Risk: "HIGH", DTHash: "abc", ASN: "701", ISP: "verizon", Proxy: "true", TransactionID: "T1"}},
		{"previousLevel is not the level", `{"eventType":"x","debugContext":{"debugData":{"risk":"{previousLevel=HIGH, level=LOW}"}}}`,
			Event{Type: "x", Risk: "LOW"}},
		{"no positive behavior", `{"eventType":"x","debugContext":{"debugData":{"behaviors":"{New IP=NEGATIVE, New Device=NEGATIVE}","risk":"{level=LOW}"}},"securityContext":{"isProxy":false}}`,
			Event{Type: "x", Risk: "LOW"}},
		{"behaviors as a list of pairs", `{"eventType":"x","debugContext":{"debugData":{"behaviors":["New Geo-Location=NEGATIVE","New Device=POSITIVE","New IP=POSITIVE"]}}}`,
			Event{Type: "x", Behaviors: "New Device,New IP"}},
		{"logOnlySecurityData as JSON in a string", `{"eventType":"x","debugContext":{"debugData":{"logOnlySecurityData":"{\"risk\":{\"level\":\"MEDIUM\"},\"behaviors\":{\"New Geo-Location\":\"NEGATIVE\",\"New Device\":\"POSITIVE\",\"Velocity\":\"POSITIVE\"}}"}}}`,
			Event{Type: "x", Behaviors: "New Device,Velocity", Risk: "MEDIUM"}},
		{"logOnlySecurityData as an object", `{"eventType":"x","debugContext":{"debugData":{"logOnlySecurityData":{"risk":{"level":"LOW"},"behaviors":{"New IP": "POSITIVE"}}}}}`,
			Event{Type: "x", Behaviors: "New IP", Risk: "LOW"}},
		{"debugData's own behaviors win", `{"eventType":"x","debugContext":{"debugData":{"behaviors":"{New IP=POSITIVE}","risk":"{level=HIGH}","logOnlySecurityData":"{\"risk\":{\"level\":\"LOW\"},\"behaviors\":{\"New Device\":\"POSITIVE\"}}"}}}`,
			Event{Type: "x", Behaviors: "New IP", Risk: "HIGH"}},
		{"normalized values stay", `{"eventType":"x","debugContext":{"debugData":{"behaviors":"New IP,New Device","risk":"MEDIUM"}},"securityContext":{"isProxy":"true"}}`,
			Event{Type: "x", Behaviors: "New IP,New Device", Risk: "MEDIUM", Proxy: "true"}},
		{"target null and odd types", `{"eventType":"x","target":null,"actor":{"id":12,"type":true},"client":["a"]}`, Event{Type: "x", ActorID: "12", ActorType: "true"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Event{Ref: 7}
			require.NoError(t, ParseRaw([]byte(tc.raw), &got))
			tc.want.Ref = 7
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestParseRawErrors(t *testing.T) {
	tests := []struct {
		raw  string
		want error
		msg  string
	}{
		{"", ErrNotJSON, "want '{' at byte 0"},
		{"hello", ErrNotJSON, "want '{'"},
		{`[{"eventType":"x"}]`, ErrNotJSON, "want '{'"},
		{`{"eventType":"x"`, ErrNotJSON, "want ',' or '}'"},
		{`{"eventType":"x}`, ErrNotJSON, "unterminated string"},
		{`{"eventType":"x","a":[1,2}`, ErrNotJSON, "want ',' or ']'"},
		{`{"eventType":"x","a":nul}`, ErrNotJSON, "bad literal"},
		{`{"eventType":"x"} trailing`, ErrNotJSON, "trailing data"},
		{`{"eventType":"\x"}`, ErrNotJSON, "bad escape"},
		{`{"a":1}`, ErrNotOkta, "no eventType"},
		{`{"eventType":null}`, ErrNotOkta, "no eventType"},
		{strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300), ErrNotJSON, "nesting too deep"},
	}
	for _, tc := range tests {
		var e Event
		err := ParseRaw([]byte(tc.raw), &e)
		require.Error(t, err, tc.raw)
		assert.ErrorIs(t, err, tc.want, tc.raw)
		assert.Contains(t, err.Error(), tc.msg, tc.raw)
	}
}

// flatten turns an Okta event into Splunk's extracted fields (target{}.type and so on).
func flatten(raw []byte) map[string][]string {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	out := map[string][]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, v := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, v)
			}
		case []any:
			for _, v := range x {
				walk(prefix+"{}", v)
			}
		case nil:
			out[prefix] = append(out[prefix], "null")
		case string:
			out[prefix] = append(out[prefix], x)
		default:
			out[prefix] = append(out[prefix], fmt.Sprint(x))
		}
	}
	walk("", m)
	return out
}

// reshapedSignals reports whether an event's debugData.behaviors or logOnlySecurityData is
// JSON rather than the string Okta logs.
func reshapedSignals(raw []byte) bool {
	var m struct {
		DebugContext struct {
			DebugData map[string]any `json:"debugData"`
		} `json:"debugContext"`
	}
	_ = json.Unmarshal(raw, &m)
	for _, k := range []string{"behaviors", "logOnlySecurityData"} {
		switch m.DebugContext.DebugData[k].(type) {
		case nil, string:
		default:
			return true
		}
	}
	return false
}

func TestFromFieldsMatchesParseRaw(t *testing.T) {
	var x Extractor // shared by every row, as a command shares one
	reshaped := 0
	defer func() { assert.Equal(t, 6, reshaped, "Panther's six reshaped events, no more") }()
	for _, f := range append(sampleFiles, "../scenarios/sspr.ndjson", "../scenarios/app_signin.ndjson", "../scenarios/signin_success_push.ndjson") {
		for i, line := range readLines(t, filepath.Join("testdata", "okta-samples", f)) {
			var want, got, back Event
			require.NoError(t, ParseRaw(line, &want))
			if reshapedSignals(line) {
				// Panther's rule tests reshape debugData.behaviors or logOnlySecurityData into
				// JSON (Okta logs strings): Splunk would flatten those into other fields, which
				// the fields path does not read. ParseRaw reads them (TestParseRawQuirks).
				want.Behaviors, want.Risk = "", ""
				reshaped++
			}
			fields := flatten(line)
			require.NoError(t, FromFields(func(n string) []string { return fields[n] }, &got), "%s:%d", f, i+1)
			assert.Equal(t, want, got, "%s:%d", f, i+1)
			var shared Event
			require.NoError(t, x.FromRow(getterRow(func(n string) []string { return fields[n] }), &shared))
			assert.Equal(t, want, shared, "shared Extractor %s:%d", f, i+1)

			compact := map[string][]string{}
			for j, v := range got.Compact() {
				compact[CompactFields[j]] = []string{v}
			}
			var cells cellRecorder
			got.WriteCompact(&cells, nil)
			for j, v := range got.Compact() {
				assert.Equal(t, v, strings.Join(cells[j], ""), "WriteCompact %s %s:%d", CompactFields[j], f, i+1)
			}
			require.NoError(t, FromFields(func(n string) []string { return compact[n] }, &back))
			assert.Equal(t, got, back, "compact round trip %s:%d", f, i+1)
		}
	}
}

func TestFromFieldsTime(t *testing.T) {
	fields := map[string][]string{"eventType": {"x"}, "published": {"redacted"}, "_time": {"1581711537.7"}}
	var e Event
	require.NoError(t, FromFields(func(n string) []string { return fields[n] }, &e))
	assert.Equal(t, int64(1581711537700), e.Time)

	fields["_time"] = []string{"soon"}
	err := FromFields(func(n string) []string { return fields[n] }, &e)
	assert.ErrorContains(t, err, `_time "soon"`)

	err = FromFields(func(string) []string { return nil }, &e)
	assert.ErrorIs(t, err, ErrNotOkta)
}

func TestExtractorSharesLowCardinalityStrings(t *testing.T) {
	var x Extractor
	var first Event
	types := []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify", "user.authentication.sso", "user.authentication.auth_via_mfa"}
	for i := range 100 {
		fields := map[string][]string{"eventType": {types[i%len(types)]}, "_time": {"1581711537.7"},
			"actor.id": {fmt.Sprintf("00u%017d", i)}, "outcome.result": {"SUCCESS"}}
		var e Event
		require.NoError(t, x.FromRow(getterRow(func(n string) []string { return fields[n] }), &e))
		require.Equal(t, fields["actor.id"][0], e.ActorID)
		require.Equal(t, types[i%len(types)], e.Type)
		require.Equal(t, "SUCCESS", e.Result)
		if i == 0 {
			first = e
			continue
		}
		require.Same(t, unsafe.StringData(first.Result), unsafe.StringData(e.Result), "row %d: one string for a repeated value", i)
	}
}

// TestStrStopsAtEveryStopByte checks str's word-at-a-time scan: in a string of high bytes (as
// in UTF-8) in a CSV cell, whatever byte sits wherever, it stops at a quote (the string's end
// when doubled, else the cell's, an error), a backslash (here a bad escape) or a control
// character, and at nothing else.
func TestStrStopsAtEveryStopByte(t *testing.T) {
	for c := range 256 {
		for n := 1; n <= 20; n++ {
			for at := range n {
				b := append(append([]byte(`""`), bytes.Repeat([]byte{0xC3}, n)...), `""`...)
				b[2+at] = byte(c)
				var p rawParser
				p.begin(b)
				e, next, _ := p.str(2)
				switch {
				case c == '"' && at == n-1:
					require.Equal(t, 2+at, e, "quote at %d of %d", at, n)
					require.Equal(t, 4+at, next)
				case c == '\\' && at == n-1:
					require.Equal(t, -1, next, "an escaped closing quote")
					require.Equal(t, len(b), p.at)
				case c == '"' || c == '\\' || c < 0x20:
					require.Equal(t, -1, next, "byte %#x at %d of %d", c, at, n)
					require.Equal(t, 2+at, p.at, "byte %#x at %d of %d", c, at, n)
				default:
					require.Equal(t, 2+n, e, "byte %#x at %d of %d", c, at, n)
				}
			}
		}
	}
}

// TestStopAt checks stopAt's unsafe word reads against a byte at a time: at every start
// (negative too), in every length, a stop byte anywhere or none; it reads no word past b
// (checkptr, which -race turns on, fails a read outside b's array).
func TestStopAt(t *testing.T) {
	for n := 0; n <= 20; n++ {
		for at := -1; at <= n; at++ {
			b := bytes.Repeat([]byte{'a'}, n)
			if at >= 0 && at < n {
				b[at] = '"'
			}
			b = b[:n:n] // no capacity past b for a read to reach unseen
			for a := -9; a <= n+1; a++ {
				want := -1
				if a >= 0 && a+8 <= n {
					// A stop byte in or past the first whole word it reads from a; none
					// in the last bytes that make no whole word.
					last := a + (n-a)/8*8
					if at >= a && at < last {
						want = at
					}
				}
				require.Equal(t, want, stopAt(b, a), "stop at %d of %d, from %d", at, n, a)
			}
		}
	}
}

// TestQuote2 checks quote2's unsafe load against the bytes: at every index (negative and
// past the end too) of short inputs, with no capacity past them (checkptr under -race).
func TestQuote2(t *testing.T) {
	for _, s := range []string{"", `"`, `""`, `a""`, `"a"`, `"""`, `x""y`} {
		b := []byte(s)[:len(s):len(s)]
		for i := -3; i <= len(b)+1; i++ {
			want := i >= 0 && i+1 < len(b) && b[i] == '"' && b[i+1] == '"'
			require.Equal(t, want, quote2(b, i), "%q at %d", s, i)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// event is one test event: its Okta JSON and its time.
type event struct {
	raw []byte
	ms  int64
}

func loadEvents(t testing.TB) []event {
	t.Helper()
	return loadNDJSON(t, "testdata/events.ndjson")
}

func newestFirst(evs []event) []event {
	out := slices.Clone(evs)
	slices.Reverse(out)
	return out
}

// flatten turns Okta JSON into Splunk's extracted fields: dotted paths, arrays as name{}.
func flatten(raw []byte) map[string][]string {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		panic(err)
	}
	out := map[string][]string{}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, c)
			}
		case []any:
			for _, c := range x {
				walk(prefix+"{}", c)
			}
		case nil:
			out[prefix] = append(out[prefix], "null")
		case string:
			out[prefix] = append(out[prefix], x)
		default:
			out[prefix] = append(out[prefix], fmt.Sprint(x))
		}
	}
	walk("", v)
	return out
}

// rowsBody writes events as a CSV body with _time plus either _raw or the extracted fields.
func rowsBody(t testing.TB, evs []event, withRaw bool) []byte {
	t.Helper()
	var w scp.RowWriter
	if withRaw {
		require.NoError(t, w.SetFields("_time", "_raw", "sourcetype"))
		for _, e := range evs {
			w.ValueBytes(formatMillis(nil, e.ms))
			w.ValueBytes(e.raw)
			w.Value("OktaIM2:log")
			require.NoError(t, w.EndRow())
		}
		return w.Body()
	}
	names := []string{"_time"}
	for _, n := range mapFieldsFields {
		if n != "_time" {
			names = append(names, n)
		}
	}
	require.NoError(t, w.SetFields(names...))
	for _, e := range evs {
		f := flatten(e.raw)
		w.ValueBytes(formatMillis(nil, e.ms))
		for _, n := range names[1:] {
			w.Values(f[n])
		}
		require.NoError(t, w.EndRow())
	}
	return w.Body()
}

func getinfoChunk(t testing.TB, args ...string) []byte {
	return getinfoChunkFrom(t, "0", args...)
}

// getinfoChunkFrom is getinfoChunk for a search whose range begins at earliest (epoch seconds).
func getinfoChunkFrom(t testing.TB, earliest string, args ...string) []byte {
	m, err := json.Marshal(map[string]any{"action": "getinfo", "preview": false, "streaming_command_will_restart": false,
		"searchinfo": map[string]any{"args": args, "raw_args": args, "dispatch_dir": t.TempDir(), "sid": "1717200000.1",
			"app": "oktasight", "command": "oktasession", "maxresultrows": 50000, "earliest_time": earliest, "latest_time": "0",
			"session_key": "secret-session-key"}})
	require.NoError(t, err)
	return chunkBytes(m, nil)
}

func chunkBytes(meta, body []byte) []byte {
	var b bytes.Buffer
	_ = scp.NewChunkWriter(&b).WriteChunk(meta, body)
	return b.Bytes()
}

func execChunk(finished bool, body []byte) []byte {
	return chunkBytes([]byte(fmt.Sprintf(`{"action":"execute","finished":%t}`, finished)), body)
}

// reply is one decoded reply chunk.
type reply struct {
	meta   map[string]any
	fields []string
	rows   []map[string][]string
}

// runSCP runs the command on a splunkd stream and decodes its replies; stderr must stay empty.
func runSCP(t testing.TB, in []byte) []reply {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), nil, bytes.NewReader(in), &out, &errOut)
	assert.Equal(t, 0, code)
	assert.Empty(t, errOut.String(), "stderr stays quiet")
	cr := scp.NewChunkReader(&out)
	var replies []reply
	for {
		m, body, err := cr.Next()
		if err == io.EOF {
			return replies
		}
		require.NoError(t, err, "stdout carries only chunks")
		var rp reply
		require.NoError(t, json.Unmarshal(m, &rp.meta))
		var r scp.RowReader
		require.NoError(t, r.Reset(body))
		for i := range r.NumFields() {
			rp.fields = append(rp.fields, r.FieldName(i))
		}
		var vals [][]byte
		for r.Next() {
			row := map[string][]string{}
			for i := range r.NumFields() {
				vals, err = r.Values(i, vals[:0])
				require.NoError(t, err)
				for _, v := range vals {
					row[r.FieldName(i)] = append(row[r.FieldName(i)], string(v))
				}
			}
			rp.rows = append(rp.rows, row)
		}
		require.NoError(t, r.Err())
		replies = append(replies, rp)
	}
}

// sequences runs the default phase over chunks and returns its rows as sorted text lines.
func sequences(t testing.TB, args []string, bodies ...[]byte) (string, []reply) {
	t.Helper()
	return sequencesFrom(t, "0", args, bodies...)
}

// sequencesFrom is sequences for a search whose range begins at earliest (epoch seconds).
func sequencesFrom(t testing.TB, earliest string, args []string, bodies ...[]byte) (string, []reply) {
	t.Helper()
	in := getinfoChunkFrom(t, earliest, args...)
	for i, b := range bodies {
		in = append(in, execChunk(i == len(bodies)-1, b)...)
	}
	replies := runSCP(t, in)
	require.Len(t, replies, len(bodies)+1, "one reply per request")
	var lines []string
	for i, rp := range replies[1:] {
		assert.Equal(t, i == len(bodies)-1, rp.meta["finished"], "reply %d echoes finished", i)
		if len(rp.rows) > 0 {
			assert.Equal(t, session.SequenceFields, rp.fields)
		}
		for _, row := range rp.rows {
			var cells []string
			for _, f := range session.SequenceFields {
				cells = append(cells, f+"="+strings.Join(row[f], "|"))
			}
			lines = append(lines, strings.Join(cells, " "))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n") + "\n", replies
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(want), got)
}

func TestSequencesAllInputForms(t *testing.T) {
	evs := loadEvents(t)
	want, _ := sequences(t, nil, rowsBody(t, evs, true))
	golden(t, "sequences.golden", want)
	assert.Greater(t, strings.Count(want, "\n"), 20)

	for _, order := range []struct {
		name string
		evs  []event
	}{{"oldest first", evs}, {"newest first", newestFirst(evs)}} {
		t.Run(order.name+"/raw", func(t *testing.T) {
			got, _ := sequences(t, nil, rowsBody(t, order.evs, true))
			assert.Equal(t, want, got)
		})
		t.Run(order.name+"/fields", func(t *testing.T) {
			got, _ := sequences(t, nil, rowsBody(t, order.evs, false))
			assert.Equal(t, want, got)
		})
		t.Run(order.name+"/map then reduce", func(t *testing.T) {
			mapped := mapPhase(t, rowsBody(t, order.evs, true))
			got, _ := sequences(t, nil, mapped)
			assert.Equal(t, want, got)
		})
		t.Run(order.name+"/map then reduce, input=fields", func(t *testing.T) {
			mapped := mapPhase(t, rowsBody(t, order.evs, false), "input=fields")
			got, _ := sequences(t, []string{"input=fields"}, mapped)
			assert.Equal(t, want, got)
		})
		t.Run(order.name+"/several chunks with empty ones", func(t *testing.T) {
			var bodies [][]byte
			for i := 0; i < len(order.evs); i += 7 {
				bodies = append(bodies, rowsBody(t, order.evs[i:min(i+7, len(order.evs))], i%2 == 0), nil, []byte("_time,__mv__time\n"))
			}
			got, _ := sequences(t, nil, bodies...)
			assert.Equal(t, want, got)
		})
	}
}

// mapPhase runs phase=map over one body, as splunkd sends it (only the columns the phase's
// required_fields name), and returns its reply body as splunkd forwards it to the reduce
// (only the columns the reduce's required_fields name).
func mapPhase(t testing.TB, body []byte, args ...string) []byte {
	t.Helper()
	margs := append([]string{"phase=map"}, args...)
	gi := runSCP(t, getinfoChunk(t, margs...))
	require.Len(t, gi, 1)
	replies := runSCP(t, append(getinfoChunk(t, margs...), execChunk(true, honor(t, body, gi[0].meta["required_fields"]))...))
	require.Len(t, replies, 2)
	assert.Equal(t, "streaming", replies[0].meta["type"])
	assert.Equal(t, append([]string{"_time"}, session.CompactFields...), replies[1].fields)
	var w scp.RowWriter
	require.NoError(t, w.SetFields(replies[1].fields...))
	for _, row := range replies[1].rows {
		assert.NotContains(t, row, "_raw")
		for _, f := range replies[1].fields {
			w.Values(row[f])
		}
		require.NoError(t, w.EndRow())
	}
	red := runSCP(t, getinfoChunk(t, args...))
	require.Len(t, red, 1)
	return honor(t, w.Body(), red[0].meta["required_fields"])
}

// honor keeps the columns of body that a getinfo reply's required_fields name, as splunkd
// does: a command gets nothing else.
func honor(t testing.TB, body []byte, required any) []byte {
	t.Helper()
	want := map[string]bool{}
	for _, f := range required.([]any) {
		want[f.(string)] = true
	}
	var r scp.RowReader
	require.NoError(t, r.Reset(body))
	var keep []int
	var names []string
	for i := range r.NumFields() {
		if want[r.FieldName(i)] {
			keep, names = append(keep, i), append(names, r.FieldName(i))
		}
	}
	var w scp.RowWriter
	require.NoError(t, w.SetFields(names...))
	for r.Next() {
		for _, i := range keep {
			w.Cell(r.Value(i), r.MV(i))
		}
		require.NoError(t, w.EndRow())
	}
	require.NoError(t, r.Err())
	return w.Body()
}

// TestSemanticsGolden runs the scenarios of issue 12's semantic changes (an app's sign-on
// policy, a sign-in cut by the search's range, enrolment) through the protocol as splunkd
// would: _raw or extracted fields, oldest or newest first, with or without the map phase. Every
// form must give the golden rows; the cut scenario's search begins at its first second, as
// splunkd's searchinfo.earliest_time says, and the same with earliest= on the command line.
func TestSemanticsGolden(t *testing.T) {
	for _, tc := range []struct{ scenario, earliest string }{
		{"app_policy", "0"}, {"cut_signin", "1709542800"}, {"enrolled_then_used", "0"},
	} {
		t.Run(tc.scenario, func(t *testing.T) {
			evs := scenarioEvents(t, tc.scenario)
			want, _ := sequencesFrom(t, tc.earliest, nil, rowsBody(t, evs, true))
			golden(t, "semantics_"+tc.scenario+".golden", want)
			for _, order := range []struct {
				name string
				evs  []event
			}{{"oldest first", evs}, {"newest first", newestFirst(evs)}} {
				t.Run(order.name+"/raw", func(t *testing.T) {
					got, _ := sequencesFrom(t, tc.earliest, nil, rowsBody(t, order.evs, true))
					assert.Equal(t, want, got)
				})
				t.Run(order.name+"/fields", func(t *testing.T) {
					got, _ := sequencesFrom(t, tc.earliest, nil, rowsBody(t, order.evs, false))
					assert.Equal(t, want, got)
				})
				t.Run(order.name+"/map then reduce", func(t *testing.T) {
					mapped := mapPhase(t, rowsBody(t, order.evs, true))
					got, _ := sequencesFrom(t, tc.earliest, nil, mapped)
					assert.Equal(t, want, got)
				})
				t.Run(order.name+"/map then reduce, earliest= argument", func(t *testing.T) {
					mapped := mapPhase(t, rowsBody(t, order.evs, true))
					got, _ := sequences(t, []string{"earliest=" + tc.earliest}, mapped)
					assert.Equal(t, want, got)
				})
			}
		})
	}
	// The cut golden has cut=start rows, the others none.
	b, err := os.ReadFile(filepath.Join("testdata", "semantics_cut_signin.golden"))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(b), " cut=start "))
}

// scenarioEvents reads one of app/session's scenarios, oldest first.
func scenarioEvents(t testing.TB, name string) []event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "app", "session", "testdata", "scenarios", name+".ndjson"))
	require.NoError(t, err)
	var out []event
	for _, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
		var ev session.Event
		require.NoError(t, session.ParseRaw(line, &ev))
		out = append(out, event{raw: line, ms: ev.Time})
	}
	slices.SortStableFunc(out, func(a, b event) int { return int(a.ms - b.ms) })
	return out
}

func TestMapPhaseDropsWhatNoFlowUses(t *testing.T) {
	evs := loadEvents(t)
	var w scp.RowWriter
	require.NoError(t, w.SetFields("_time", "_raw", "_chunked_idx"))
	w.Value("1717200000.000")
	w.Value(`{"eventType":"user.lifecycle.create","published":"2024-06-01T00:00:00Z"}`)
	w.Value("0")
	require.NoError(t, w.EndRow())
	w.Value("1717200000.000")
	w.Value("not json at all")
	w.Value("1")
	require.NoError(t, w.EndRow())
	w.ValueBytes(formatMillis(nil, evs[0].ms))
	w.ValueBytes(evs[0].raw)
	w.Value("2")
	require.NoError(t, w.EndRow())
	replies := runSCP(t, append(getinfoChunk(t, "phase=map"), execChunk(true, w.Body())...))
	require.Len(t, replies, 2)
	require.Len(t, replies[1].rows, 1)
	assert.Equal(t, []string{"2"}, replies[1].rows[0]["_chunked_idx"], "the row keeps its _chunked_idx")
	var ev session.Event
	require.NoError(t, session.ParseRaw(evs[0].raw, &ev))
	assert.Equal(t, []string{ev.Type}, replies[1].rows[0]["os_type"])
}

func TestGetInfo(t *testing.T) {
	tests := []struct {
		args      []string
		typ       string
		preop     string
		required  []string
		errSubstr []string
	}{
		{args: nil, typ: "reporting", preop: "oktasession phase=map", required: session.CompactFields},
		{args: []string{"maxpause=5m", "flow=signin,sspr", "by=ip"}, typ: "reporting", preop: "oktasession phase=map maxpause=5m flow=signin,sspr by=ip", required: session.CompactFields},
		{args: []string{"flow=signin, sspr"}, typ: "reporting", preop: `oktasession phase=map flow="signin, sspr"`, required: session.CompactFields},
		{args: []string{"input=fields", "flow=signin"}, typ: "reporting", preop: "oktasession phase=map input=fields flow=signin", required: session.CompactFields},
		{args: []string{"input=raw"}, typ: "reporting", preop: "oktasession phase=map", required: session.CompactFields},
		// The map phase reads the JSON: splunkd ships _raw and need extract no field.
		{args: []string{"phase=map", "maxspan=1h"}, typ: "streaming", required: []string{"_raw", "_time"}},
		{args: []string{"phase=map", "input=fields"}, typ: "streaming", required: mapFieldsFields},
		{args: []string{"mode=events"}, typ: "events"},
		{args: []string{"input=json"}, errSubstr: []string{"input", "raw", "fields", "json"}},
		{args: []string{"by=actor.id"}, errSubstr: []string{"by", "user, session or ip", "actor.id"}},
		{args: []string{"mode=table"}, errSubstr: []string{"mode", "sequences or events"}},
		{args: []string{"phase=reduce"}, errSubstr: []string{"phase", "map"}},
		{args: []string{"maxpause=soon"}, errSubstr: []string{"maxpause", "10m"}},
		{args: []string{"maxpause=9223372036s"}, errSubstr: []string{"maxpause", "from 1s to 24h", "9223372036s"}},
		{args: []string{"maxspan=30d"}, errSubstr: []string{"maxspan", "from 1s to 7d", "30d"}},
		{args: []string{"flow=login"}, errSubstr: []string{"flow", "signin, app_signin, sspr, unlock"}},
		{args: []string{"user=bob"}, errSubstr: []string{`"user"`, "flow, by, maxpause, maxspan, mode, order, earliest, input, phase"}},
		{args: []string{"verbose"}, errSubstr: []string{`"verbose"`, "key=value"}},
		{args: []string{"phase=map", "mode=events"}, errSubstr: []string{"phase", "mode=sequences"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// Getinfo only, then EOF: splunkd runs commands like this several times per search.
			replies := runSCP(t, getinfoChunk(t, tt.args...))
			require.Len(t, replies, 1)
			m := replies[0].meta
			if tt.errSubstr != nil {
				assert.Equal(t, true, m["finished"])
				msgs := m["inspector"].(map[string]any)["messages"].([]any)
				require.Len(t, msgs, 1)
				msg := msgs[0].([]any)
				assert.Equal(t, "ERROR", msg[0])
				for _, s := range tt.errSubstr {
					assert.Contains(t, msg[1], s)
				}
				assert.NotContains(t, msg[1], "secret-session-key")
				return
			}
			assert.Equal(t, tt.typ, m["type"])
			assert.NotContains(t, m, "finished")
			if tt.preop != "" {
				assert.Equal(t, tt.preop, m["streaming_preop"])
				// commands.conf may not say it for a chunked command (AppInspect): the reply does.
				assert.Equal(t, false, m["run_in_preview"], "the reduce phase does not run for previews")
			} else {
				assert.NotContains(t, m, "streaming_preop")
			}
			if tt.required != nil {
				var req []string
				for _, f := range m["required_fields"].([]any) {
					req = append(req, f.(string))
				}
				assert.Equal(t, tt.required, req)
			} else {
				assert.NotContains(t, m, "required_fields", "mode=events keeps every field")
			}
		})
	}
}

func TestModeEvents(t *testing.T) {
	evs := loadEvents(t)
	want, _ := sequences(t, nil, rowsBody(t, evs, true))
	for _, order := range [][]event{evs, newestFirst(evs)} {
		var w scp.RowWriter
		// status is what the app's CIM mapping sets on every Okta event: it must come back
		// as it went in, the sequence's status going to seq_status.
		require.NoError(t, w.SetFields("_time", "_raw", "host", "status"))
		for i, e := range order {
			w.ValueBytes(formatMillis(nil, e.ms))
			w.ValueBytes(e.raw)
			w.Values([]string{"h" + strconv.Itoa(i), "second value"})
			w.Value("cim-" + strconv.Itoa(i))
			require.NoError(t, w.EndRow())
		}
		// An extra, non-Okta row passes through unannotated.
		w.Value("1717200000.000")
		w.Value("hello")
		w.Value("x")
		w.Value("cim-hello")
		require.NoError(t, w.EndRow())
		body := w.Body()
		half := bytes.Index(body[len(body)/2:], []byte("\r\n1")) + len(body)/2 + 2
		header := body[:bytes.Index(body, []byte("\r\n"))+2]
		second := append(slices.Clone(header), body[half:]...)
		replies := runSCP(t, append(append(getinfoChunk(t, "mode=events"), execChunk(false, body[:half])...), execChunk(true, second)...))
		require.Len(t, replies, 3)
		assert.Equal(t, "events", replies[0].meta["type"])
		var rows []map[string][]string
		for _, rp := range replies[1:] {
			if len(rp.rows) > 0 {
				assert.Equal(t, []string{"_time", "_raw", "host", "status", "seq_id", "flow", "seq_step", "seq_status"}, rp.fields)
			}
			rows = append(rows, rp.rows...)
		}
		require.Len(t, rows, len(order)+1, "every event comes back once")
		seqIDs := map[string]int{}
		annotated := 0
		statuses := map[string]bool{}
		for _, row := range rows {
			require.Len(t, row["status"], 1, "the input's status passes through on every row")
			statuses[row["status"][0]] = true
			if row["_raw"][0] == "hello" {
				assert.Empty(t, row["seq_id"])
				assert.Empty(t, row["seq_status"])
				assert.Equal(t, []string{"cim-hello"}, row["status"])
				continue
			}
			assert.Len(t, row["host"], 2, "multivalue fields pass through")
			if len(row["seq_id"]) == 1 {
				annotated++
				seqIDs[row["seq_id"][0]]++
				assert.Contains(t, want, "seq_id="+row["seq_id"][0]+" flow="+row["flow"][0]+" status="+row["seq_status"][0])
				step, err := strconv.Atoi(row["seq_step"][0])
				require.NoError(t, err)
				assert.Positive(t, step)
			}
		}
		assert.Len(t, statuses, len(order)+1, "each row keeps its own status")
		assert.Equal(t, strings.Count(want, "\n"), len(seqIDs), "every sequence has its events")
		assert.Greater(t, annotated, len(order)*3/4)
	}
}

func TestLargeChunk(t *testing.T) {
	// 50 000 rows in one chunk, as splunkd sends at maxresultrows: 1 000 users with the same
	// sign-in (start, policy, push, mfa, verify, sso...) shifted in time.
	evs := loadEvents(t)
	var w scp.RowWriter
	require.NoError(t, w.SetFields("_time", "eventType", "actor.id", "actor.type", "actor.alternateId", "client.ipAddress", "outcome.result", "authenticationContext.externalSessionId"))
	steps := []string{"user.session.start", "policy.evaluate_sign_on", "system.push.send_factor_verify_push", "user.authentication.auth_via_mfa", "user.authentication.verify"}
	base := evs[0].ms
	n := 0
	for i := 0; n < 50_000; i++ {
		for k, s := range steps {
			if n == 50_000 {
				break
			}
			w.ValueBytes(formatMillis(nil, base+int64(i)*1000+int64(k)*100))
			w.Value(s)
			w.Value(fmt.Sprintf("00u%017d", i%1000))
			w.Value("User")
			w.Value(fmt.Sprintf("user%d@example.com", i%1000))
			w.Value("10.0.0.1")
			w.Value("SUCCESS")
			w.Value(fmt.Sprintf("102s%d", i))
			require.NoError(t, w.EndRow())
			n++
		}
	}
	got, replies := sequences(t, []string{"flow=signin"}, w.Body())
	assert.Equal(t, 10_000, strings.Count(got, "\n"))
	assert.Equal(t, 10_000, strings.Count(got, "status=success"))
	assert.Contains(t, got, "mfa_factors=OKTA_VERIFY_PUSH")
	assert.Len(t, replies, 2)
}

func TestNonOktaInputWarns(t *testing.T) {
	body := []byte("_time,_raw,__mv__time,__mv__raw\n1717200000,hello,,\n")
	replies := runSCP(t, append(getinfoChunk(t), execChunk(true, body)...))
	require.Len(t, replies, 2)
	msgs := fmt.Sprint(replies[1].meta["inspector"])
	assert.Contains(t, msgs, "WARN")
	assert.Contains(t, msgs, "no Okta System Log events")
	assert.Empty(t, replies[1].rows)
}

func TestLocalMode(t *testing.T) {
	evs := loadEvents(t)
	var ndjson bytes.Buffer
	for _, e := range newestFirst(evs) {
		ndjson.Write(e.raw)
		ndjson.WriteByte('\n')
	}
	ndjson.WriteString("\nnot json\n")
	for _, format := range []string{"table", "csv", "json"} {
		t.Run(format, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), []string{"--file", "-", "maxpause=10m", "--format", format}, bytes.NewReader(ndjson.Bytes()), &out, &errOut)
			require.Equal(t, 0, code, errOut.String())
			assert.Contains(t, errOut.String(), "skipped 1 of")
			text := out.String()
			if format == "json" {
				lines := strings.Split(strings.TrimSpace(text), "\n")
				sort.Strings(lines)
				text = strings.Join(lines, "\n") + "\n"
				for _, l := range lines {
					var m map[string]any
					require.NoError(t, json.Unmarshal([]byte(l), &m), l)
				}
			}
			golden(t, "local."+format+".golden", text)
		})
	}
	t.Run("file", func(t *testing.T) {
		var out, errOut bytes.Buffer
		code := Run(context.Background(), []string{"--file=testdata/events.ndjson", "flow=sspr"}, nil, &out, &errOut)
		require.Equal(t, 0, code, errOut.String())
		assert.Contains(t, out.String(), "sspr")
		assert.NotContains(t, out.String(), "app_signin")
	})
}

func TestLocalModeErrors(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--format", "json"}, 2, "--file is required"},
		{[]string{"--file", "x", "--format", "xml"}, 2, "want table, csv or json"},
		{[]string{"--file", "x", "by=nobody"}, 2, "by: want user, session or ip"},
		{[]string{"--file", "x", "mode=events"}, 2, "Splunk only"},
		{[]string{"--file"}, 2, "needs a value"},
		{[]string{"--verbose"}, 2, "unknown flag"},
		{[]string{"--file", "testdata/does-not-exist.ndjson"}, 1, "opening events"},
		{[]string{"--help"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Run(context.Background(), tt.args, strings.NewReader(""), &out, &errOut)
			assert.Equal(t, tt.code, code)
			assert.Contains(t, errOut.String(), tt.want)
			if tt.code == 0 {
				assert.Contains(t, out.String(), "usage:")
			}
		})
	}
}

func TestEpochMillis(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"1717200000", 1717200000000}, {"1717200000.5", 1717200000500}, {"1717200000.123456", 1717200000123},
		{"", 0}, {"abc", 0}, {"-5", 0}, {"1.2.3", 0}, {"0", 0}, {"99999999999999999999", 0},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, epochMillis([]byte(tt.in)), tt.in)
	}
	assert.Equal(t, "1717200000.050", string(formatMillis(nil, 1717200000050)))
}

func TestProcs(t *testing.T) {
	tests := []struct {
		env  string
		want int
	}{
		{"", 1},  // one goroutine: one P
		{"4", 0}, // the user's GOMAXPROCS stands
		{"1", 0},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, procs(func(k string) string {
			if k == "GOMAXPROCS" {
				return tc.env
			}
			return ""
		}), "GOMAXPROCS=%q", tc.env)
	}
}

// TestRequiredFieldsCoverExtraction checks that each phase asks splunkd for every field its
// extraction reads: a field missing from required_fields never arrives. The map phase reads
// the JSON in _raw, or with input=fields Splunk's names of the fields; the reduce the compact
// records.
func TestRequiredFieldsCoverExtraction(t *testing.T) {
	for _, name := range session.RowFields {
		if slices.Contains(session.CompactFields, name) {
			assert.Contains(t, reduceFields, name)
		} else {
			assert.Contains(t, mapFieldsFields, name)
		}
	}
	assert.ElementsMatch(t, []string{"_raw", "_time"}, mapRawFields)
}

// TestLyingChunkHeaderAllocatesWhatArrives: a chunk header that declares a 1 GiB body of
// which 5 MiB arrive before the stream ends must cost memory for what arrived (the rows are
// read as they come), and end the search with an error that says the body was cut short.
func TestLyingChunkHeaderAllocatesWhatArrives(t *testing.T) {
	evs := loadEvents(t)
	var body []byte
	for len(body) < 5<<20 {
		body = append(body, rowsBody(t, evs, true)...)
	}
	meta := []byte(`{"action":"execute","finished":true}`)
	in := append(getinfoChunk(t, "phase=map"), fmt.Sprintf("chunked 1.0,%d,%d\n", len(meta), 1<<30-1)...)
	in = append(append(in, meta...), body...)

	var out, errOut bytes.Buffer
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code := Run(context.Background(), nil, bytes.NewReader(in), &out, &errOut)
	runtime.ReadMemStats(&after)
	assert.Equal(t, 0, code)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated %d MiB", (after.TotalAlloc-before.TotalAlloc)>>20)

	cr := scp.NewChunkReader(&out)
	_, _, err := cr.Next() // getinfo reply
	require.NoError(t, err)
	m, _, err := cr.Next()
	require.NoError(t, err)
	assert.Contains(t, string(m), `"finished":true`)
	assert.Contains(t, string(m), "ERROR")
	assert.Contains(t, string(m), "unexpected EOF")
}

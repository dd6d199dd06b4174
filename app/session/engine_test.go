package session

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// loadScenario parses a scenario file; each event's Ref is its line number.
func loadScenario(t testing.TB, name string) []Event {
	t.Helper()
	var out []Event
	for i, line := range readLines(t, filepath.Join("testdata", "scenarios", name+".ndjson")) {
		e := Event{Ref: int64(i + 1)}
		require.NoError(t, ParseRaw(line, &e), "%s:%d", name, i+1)
		out = append(out, e)
	}
	return out
}

// result is what a run produces, in a form that compares as a set.
type result struct {
	Sequences   []map[string]any `json:"sequences"`
	Assignments []string         `json:"assignments"`
	Stats       Stats            `json:"stats"`
	// CellMismatches lists sequences whose WriteCells row differs from Fields.
	CellMismatches []string `json:"-"`
}

// cellRecorder is a CellWriter that keeps the cells as Fields would return them.
type cellRecorder [][]string

func (c *cellRecorder) Value(v string) {
	if v == "" {
		*c = append(*c, nil)
		return
	}
	*c = append(*c, []string{v})
}
func (c *cellRecorder) ValueBytes(v []byte) { c.Value(string(v)) }
func (c *cellRecorder) Values(vs []string) {
	if len(vs) == 0 {
		*c = append(*c, nil)
		return
	}
	*c = append(*c, slices.Clone(vs))
}

// run feeds events in the given order and collects the sequences sorted by (start, seq_id).
func run(o Options, events []Event) result {
	r, _ := runStats(o, events, nil)
	return r
}

// runStats is run with the engine adjusted (when adjust is not nil) before the first event; it
// returns the engine's counters as they are, too.
func runStats(o Options, events []Event, adjust func(*Engine)) (result, Stats) {
	var r result
	eng := New(o, func(s *Sequence) {
		var cells cellRecorder
		s.WriteCells(&cells)
		if fields := s.Fields(); !slices.EqualFunc([][]string(cells), fields, slices.Equal) {
			r.CellMismatches = append(r.CellMismatches, fmt.Sprintf("%q != %q", cells, fields))
		}
		row := map[string]any{}
		for i, vals := range s.Fields() {
			switch {
			case len(vals) == 1 && !isMulti(SequenceFields[i]):
				row[SequenceFields[i]] = vals[0]
			case len(vals) > 0:
				row[SequenceFields[i]] = append([]string(nil), vals...)
			}
		}
		r.Sequences = append(r.Sequences, row)
	}, func(ref int64, a Assignment) {
		r.Assignments = append(r.Assignments, fmt.Sprintf("%03d %s %s %d %s", ref, a.SeqID, a.Flow, a.Step, a.Status))
	})
	if adjust != nil {
		adjust(eng)
	}
	for i := range events {
		eng.Add(&events[i])
	}
	eng.Close()
	// By start and seq_id, each key made once (the busy-key corpora have tens of thousands).
	type keyed struct {
		key string
		seq map[string]any
	}
	ks := make([]keyed, len(r.Sequences))
	for i, s := range r.Sequences {
		ks[i] = keyed{fmt.Sprint(s["start"], s["seq_id"]), s}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int { return strings.Compare(a.key, b.key) })
	for i := range ks {
		r.Sequences[i] = ks[i].seq
	}
	slices.Sort(r.Assignments)
	st := eng.Stats()
	r.Stats = st
	// The only counters that depend on the input order: events out of order, and passes over
	// keys still active (oldest first only).
	r.Stats.Late, r.Stats.Passes = 0, 0
	return r, st
}

func isMulti(field string) bool {
	switch field {
	case "missing", "src_ip", "user_agent", "steps", "mfa_factors", "reasons", "uuids",
		"behaviors", "dt_hash", "country", "city", "asn", "isp":
		return true
	}
	return false
}

func reversed(events []Event) []Event {
	out := slices.Clone(events)
	slices.Reverse(out)
	return out
}

func TestGolden(t *testing.T) {
	tests := []struct {
		golden   string
		scenario string
		args     []string
	}{
		{"signin_success_push", "signin_success_push", nil},
		{"signin_success_sms", "signin_success_sms", nil},
		{"signin_success_email", "signin_success_email", nil},
		{"signin_success_voice", "signin_success_voice", nil},
		{"signin_enrolment", "signin_enrolment", nil},
		{"signin_failure", "signin_failure", nil},
		{"signin_failure_unknown_user", "signin_failure_unknown_user", nil},
		{"signin_mfa_failure", "signin_mfa_failure", nil},
		{"signin_mfa_retry_success", "signin_mfa_retry_success", nil},
		{"signin_denied", "signin_denied", nil},
		{"signin_incomplete", "signin_incomplete", nil},
		{"signin_restart_closes_previous", "signin_restart_closes_previous", nil},
		{"app_signin", "app_signin", nil},
		{"sspr", "sspr", nil},
		{"unlock", "unlock", nil},
		{"interleaved", "interleaved", nil},
		{"interleaved_flow_filter", "interleaved", []string{"flow=signin", "maxpause=5m"}},
		{"interleaved_by_session", "interleaved", []string{"by=session"}},
		{"interleaved_by_ip", "interleaved", []string{"by=ip"}},
		{"sspr_by_session", "sspr", []string{"by=session"}},
		{"admin_on_behalf", "admin_on_behalf", nil},
		{"cut_by_time_range", "cut_by_time_range", nil},
		{"maxpause", "maxpause", nil},
		{"maxspan", "maxspan", nil},
		{"maxspan_short", "maxspan", []string{"maxspan=10m"}},
		{"update_password_outside_reset", "update_password_outside_reset", nil},
		{"same_millisecond", "same_millisecond", nil},
		// Issue 12: app sign-on policies, sign-ins cut by the range, enrolment.
		{"app_policy", "app_policy", nil},
		{"cut_signin", "cut_signin", []string{"earliest=1709542800"}},
		{"cut_signin_no_earliest", "cut_signin", nil},
		{"enrolled_then_used", "enrolled_then_used", nil},
	}
	for _, tc := range tests {
		t.Run(tc.golden, func(t *testing.T) {
			o, err := ParseArgs(tc.args)
			require.NoError(t, err)
			events := loadScenario(t, tc.scenario)
			asc := run(o, events)
			desc := run(o, reversed(events))
			require.Empty(t, asc.CellMismatches, "WriteCells must write the row Fields returns")
			require.Equal(t, asc, desc, "oldest-first and newest-first input must give the same sequences")
			if tc.golden == "sspr_by_session" {
				// Recovery events carry no session id: all dropped, all counted.
				require.Empty(t, asc.Sequences)
				require.Equal(t, 9, asc.Stats.NoKey)
			} else {
				require.NotEmpty(t, asc.Sequences)
			}

			got, err := json.MarshalIndent(asc, "", "  ")
			require.NoError(t, err)
			path := filepath.Join("testdata", "golden", tc.golden+".json")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
				require.NoError(t, os.WriteFile(path, append(got, '\n'), 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -update to create it")
			assert.JSONEq(t, string(want), string(got))
		})
	}
}

// seq returns the only sequence of a run with the given flow, failing when there is not one.
func seqsOf(r result, flow string) []map[string]any {
	var out []map[string]any
	for _, s := range r.Sequences {
		if s["flow"] == flow {
			out = append(out, s)
		}
	}
	return out
}

// TestRules spells out the rules the golden files encode, so a wrong -update is caught.
func TestRules(t *testing.T) {
	o := DefaultOptions()
	one := func(t *testing.T, scenario string) []map[string]any {
		return run(o, loadScenario(t, scenario)).Sequences
	}
	t.Run("full signin with push", func(t *testing.T) {
		s := one(t, "signin_success_push")
		require.Len(t, s, 1)
		assert.Equal(t, "success", s[0]["status"])
		assert.Equal(t, []string{"OKTA_VERIFY_PUSH"}, s[0]["mfa_factors"])
		assert.Equal(t, "1", s[0]["mfa_sent"])
		assert.Equal(t, "1", s[0]["mfa_verified"])
		assert.NotContains(t, s[0], "missing")
	})
	t.Run("each failed sign-in is its own failure", func(t *testing.T) {
		s := one(t, "signin_failure")
		require.Len(t, s, 3)
		assert.Equal(t, []any{"failure", "failure", "success"}, []any{s[0]["status"], s[1]["status"], s[2]["status"]})
		assert.Equal(t, []string{"INVALID_CREDENTIALS"}, s[0]["reasons"])
	})
	t.Run("unknown user keyed by login", func(t *testing.T) {
		s := one(t, "signin_failure_unknown_user")
		require.Len(t, s, 2)
		assert.Equal(t, "mallory@example.com", s[0]["user"])
		assert.NotContains(t, s[0], "user_id")
	})
	t.Run("policy deny", func(t *testing.T) {
		s := one(t, "signin_denied")
		require.Len(t, s, 1)
		assert.Equal(t, "denied", s[0]["status"])
		assert.Equal(t, "policy.evaluate_sign_on", s[0]["stopped_at"])
	})
	t.Run("later success wins", func(t *testing.T) {
		s := one(t, "signin_mfa_retry_success")
		require.Len(t, s, 1)
		assert.Equal(t, "success", s[0]["status"])
		assert.Equal(t, "1", s[0]["mfa_failed"])
	})
	t.Run("failed mfa left alone is a failure", func(t *testing.T) {
		s := one(t, "signin_mfa_failure")
		require.Len(t, s, 1)
		assert.Equal(t, "failure", s[0]["status"])
		assert.Equal(t, []string{"user.authentication.verify"}, s[0]["missing"])
	})
	t.Run("new start closes the previous flow", func(t *testing.T) {
		s := one(t, "signin_restart_closes_previous")
		require.Len(t, s, 2)
		assert.Equal(t, "incomplete", s[0]["status"])
		assert.Equal(t, "success", s[1]["status"])
	})
	t.Run("a failed flow the user starts again is incomplete", func(t *testing.T) {
		evs := loadScenario(t, "signin_mfa_failure")
		restart := evs[0] // the successful user.session.start that opened the flow
		restart.Time = evs[len(evs)-1].Time + 60_000
		restart.UUID = "restart-uuid"
		restart.Ref = int64(len(evs) + 1)
		s := run(o, append(evs, restart)).Sequences
		require.Len(t, s, 2)
		byStart := map[string]map[string]any{}
		for _, x := range s {
			byStart[x["uuids"].([]string)[0]] = x
		}
		first := byStart[evs[0].UUID]
		require.NotNil(t, first)
		assert.Equal(t, "incomplete", first["status"], "the retry, not the failure, ended it")
		assert.Equal(t, "1", first["mfa_failed"])
	})
	t.Run("sspr and unlock channels", func(t *testing.T) {
		s := seqsOf(run(o, loadScenario(t, "sspr")), "sspr")
		require.Len(t, s, 4)
		statuses := map[string]string{}
		for _, x := range s {
			statuses[x["user"].(string)+"/"+x["channel"].(string)] = x["status"].(string)
		}
		assert.Equal(t, map[string]string{"alice@example.com/email": "success", "bob@example.com/sms": "success",
			"carol@example.com/voice": "incomplete", "alice@example.com/sms": "failure"}, statuses)
		u := seqsOf(run(o, loadScenario(t, "unlock")), "unlock")
		require.Len(t, u, 3)
		for _, x := range u {
			want := "success"
			if x["channel"] == "voice" {
				want = "incomplete"
			}
			assert.Equal(t, want, x["status"], "unlock by %s (no unlock_token is still complete)", x["channel"])
		}
	})
	t.Run("admin acting on a user joins the user's reset", func(t *testing.T) {
		s := one(t, "admin_on_behalf")
		require.Len(t, s, 1)
		assert.Equal(t, "sspr", s[0]["flow"])
		assert.Equal(t, "00ubob00000000000002", s[0]["user_id"])
		assert.Equal(t, "success", s[0]["status"])
		assert.Equal(t, []string{"password_reset_send"}, s[0]["missing"])
	})
	t.Run("update_password outside a reset is no sequence", func(t *testing.T) {
		r := run(o, loadScenario(t, "update_password_outside_reset"))
		require.Len(t, r.Sequences, 1)
		assert.Equal(t, 1, r.Stats.Unowned)
	})
	t.Run("maxpause boundary", func(t *testing.T) {
		s := one(t, "maxpause")
		require.Len(t, s, 3)
		assert.Equal(t, "success", s[0]["status"], "a gap of exactly maxpause stays in the flow")
		assert.Equal(t, "incomplete", s[1]["status"])
		assert.Equal(t, []string{"user.session.start", "policy.evaluate_sign_on"}, s[2]["missing"])
	})
	t.Run("an app's sign-on policy belongs to that app's sign-in", func(t *testing.T) {
		r := run(o, loadScenario(t, "app_policy"))
		byUser := map[string][]map[string]any{}
		for _, x := range r.Sequences {
			byUser[x["user"].(string)] = append(byUser[x["user"].(string)], x)
		}
		alice := byUser["alice@example.com"]
		require.Len(t, alice, 2, "one sign-in, one app sign-in")
		assert.Equal(t, []any{"signin", "success", "ALLOW"}, []any{alice[0]["flow"], alice[0]["status"], alice[0]["policy_result"]})
		assert.NotContains(t, alice[0], "missing")
		assert.Equal(t, "0", alice[0]["mfa_verified"], "the app's MFA is not the sign-in's")
		assert.Equal(t, []any{"app_signin", "success", "Okta Admin Console", "CHALLENGE", "1"},
			[]any{alice[1]["flow"], alice[1]["status"], alice[1]["app"], alice[1]["policy_result"], alice[1]["mfa_verified"]})
		assert.Equal(t, "policy.evaluate_sign_on", alice[1]["steps"].([]string)[0])
		assert.Equal(t, []string{"New Device", "New IP"}, alice[1]["behaviors"])
		assert.Equal(t, "LOW", alice[1]["risk"])
		assert.Equal(t, []string{"701"}, alice[1]["asn"])
		assert.Equal(t, []string{"United States", "Ireland"}, alice[1]["country"], "in time order")
		bob := byUser["bob@example.com"]
		require.Len(t, bob, 1)
		assert.Equal(t, []any{"app_signin", "denied", "DENY", "HIGH", "true", "AWS Console"},
			[]any{bob[0]["flow"], bob[0]["status"], bob[0]["policy_result"], bob[0]["risk"], bob[0]["proxy"], bob[0]["app"]})
		assert.Equal(t, []string{"New IP", "New Country", "Velocity"}, bob[0]["behaviors"])
		carol := byUser["carol@example.com"]
		require.Len(t, carol, 3, "Slack, Zoom left unfinished, Jira; no phantom sign-in")
		for i, want := range [][2]string{{"Slack", "success"}, {"Zoom", "incomplete"}, {"Jira", "success"}} {
			assert.Equal(t, []any{"app_signin", want[0], want[1]}, []any{carol[i]["flow"], carol[i]["app"], carol[i]["status"]})
		}
		for _, x := range r.Sequences {
			if x["flow"] == "signin" {
				assert.Equal(t, "alice@example.com", x["user"], "only alice signed in to Okta")
			}
		}
	})
	t.Run("a sign-in cut by the range stays one sequence, marked", func(t *testing.T) {
		oc := o
		oc.Earliest = 1709542800_000
		r := run(oc, loadScenario(t, "cut_signin"))
		byUser := map[string][]map[string]any{}
		for _, x := range r.Sequences {
			byUser[x["user"].(string)] = append(byUser[x["user"].(string)], x)
		}
		for user, want := range map[string]struct {
			cut     any
			missing []string
			mfa     string
		}{
			"alice@example.com": {"start", []string{"user.session.start", "policy.evaluate_sign_on"}, "1"},
			"bob@example.com":   {"start", []string{"user.session.start"}, "1"},
			"dave@example.com":  {nil, nil, "1"},
			"erin@example.com":  {nil, nil, "0"},
			"carol@example.com": {nil, []string{"user.session.start", "policy.evaluate_sign_on"}, "0"},
		} {
			s := byUser[user]
			require.Len(t, s, 1, user)
			assert.Equal(t, "signin", s[0]["flow"], user)
			assert.Equal(t, "success", s[0]["status"], user)
			assert.Equal(t, want.cut, s[0]["cut"], user)
			if want.missing == nil {
				assert.NotContains(t, s[0], "missing", user)
			} else {
				assert.Equal(t, want.missing, s[0]["missing"], user)
			}
			assert.Equal(t, want.mfa, s[0]["mfa_verified"], user)
		}
		assert.Len(t, r.Sequences, 5)
		for _, x := range run(o, loadScenario(t, "cut_signin")).Sequences {
			assert.NotContains(t, x, "cut", "no earliest time, no cut")
		}
	})
	t.Run("an MFA event before a reset of its session is not the reset's", func(t *testing.T) {
		base := int64(1_709_542_800_000)
		ev := func(dt int64, typ string) Event {
			return Event{Time: base + dt, UUID: typ, Type: typ, ActorID: "00ua", ActorType: "User", ActorLogin: "a@x",
				SessionID: "idxR", Result: "SUCCESS"}
		}
		s := run(o, []Event{ev(0, "user.authentication.auth_via_mfa"), ev(10_000, "system.email.password_reset.sent_message"),
			ev(20_000, typeResetPassword), ev(30_000, typeUpdatePassword)}).Sequences
		require.Len(t, s, 2)
		assert.Equal(t, []any{"app_signin", "sspr", "success"}, []any{s[0]["flow"], s[1]["flow"], s[1]["status"]})
		assert.NotContains(t, s[1], "missing")
	})
	t.Run("enrolment is not verification", func(t *testing.T) {
		s := one(t, "enrolled_then_used")
		require.Len(t, s, 3)
		byStart := map[string]map[string]any{}
		for _, x := range s {
			byStart[x["user"].(string)+"@"+x["_time"].(string)] = x
		}
		enrol, use, failed := byStart["bob@example.com@1709542800.000"], byStart["bob@example.com@1709546400.000"], byStart["alice@example.com@1709542900.000"]
		require.NotNil(t, enrol)
		require.NotNil(t, use)
		require.NotNil(t, failed)
		assert.Equal(t, []any{"1", "0", "success"}, []any{enrol["mfa_enrolled"], enrol["mfa_verified"], enrol["status"]})
		assert.Equal(t, []any{"0", "1"}, []any{use["mfa_enrolled"], use["mfa_verified"]})
		assert.Equal(t, []any{"0", "0", "1", "failure"}, []any{failed["mfa_enrolled"], failed["mfa_verified"], failed["mfa_failed"], failed["status"]})
	})
	t.Run("maxspan boundary", func(t *testing.T) {
		s := one(t, "maxspan")
		require.Len(t, s, 2)
		assert.Equal(t, "8", s[0]["event_count"])
		assert.Equal(t, []string{"user.authentication.verify"}, s[1]["steps"])
	})
}

func TestParseArgs(t *testing.T) {
	o, err := ParseArgs([]string{"flow=signin, sspr", "by=ip", "maxpause=90s", "maxspan=1h", "mode=events", "order=desc"})
	require.NoError(t, err)
	assert.Equal(t, [numFlows]bool{FlowSignin: true, FlowSSPR: true}, o.Flows)
	assert.Equal(t, ByIP, o.By)
	assert.Equal(t, 90*time.Second, o.MaxPause)
	assert.Equal(t, time.Hour, o.MaxSpan)
	assert.Equal(t, ModeEvents, o.Mode)
	assert.Equal(t, OrderDescending, o.Order)

	o, err = ParseArgs([]string{"maxpause=600", "maxspan=1d"})
	require.NoError(t, err)
	assert.Equal(t, 10*time.Minute, o.MaxPause)
	assert.Equal(t, 24*time.Hour, o.MaxSpan)

	// The bounds themselves are accepted.
	o, err = ParseArgs([]string{"maxpause=1s", "maxspan=7d"})
	require.NoError(t, err)
	assert.Equal(t, time.Second, o.MaxPause)
	assert.Equal(t, 7*24*time.Hour, o.MaxSpan)
	o, err = ParseArgs([]string{"maxpause=24h", "maxspan=1s"})
	require.NoError(t, err)
	assert.Equal(t, 24*time.Hour, o.MaxPause)
	assert.Equal(t, time.Second, o.MaxSpan)

	for arg, want := range map[string]string{
		"maxpause=abc": `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "abc"`,
		"maxspan=-5m":  `maxspan: want a duration from 1s to 7d, like 10m, 90s or 1h, got "-5m"`,
		// Out of range: every event would become a sequence of its own (maxpause plus the
		// engine's tolerance overflowed), or the engine would hold a user's events for years.
		"maxpause=9223372036s": `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "9223372036s"`,
		"maxpause=2562047h":    `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "2562047h"`,
		"maxpause=4294967295":  `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "4294967295"`,
		"maxpause=25h":         `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "25h"`,
		"maxpause=500ms":       `maxpause: want a duration from 1s to 24h, like 10m, 90s or 1h, got "500ms"`,
		"maxspan=65535d":       `maxspan: want a duration from 1s to 7d, like 10m, 90s or 1h, got "65535d"`,
		"maxspan=8d":           `maxspan: want a duration from 1s to 7d, like 10m, 90s or 1h, got "8d"`,
		"maxspan=0":            `maxspan: want a duration from 1s to 7d, like 10m, 90s or 1h, got "0"`,
		"by=device":            `by: want user, session or ip, got "device"`,
		"flow=login":           `flow: want a comma-separated list of signin, app_signin, sspr, unlock, got "login"`,
		"mode=table":           `mode: want sequences or events, got "table"`,
		"order=random":         `order: want auto, asc or desc, got "random"`,
		"colour=blue":          `unknown argument "colour": want one of flow, by, maxpause, maxspan, mode, order, earliest`,
		"maxpause":             `argument "maxpause": want key=value with key one of flow, by, maxpause, maxspan, mode, order, earliest`,
	} {
		_, err := ParseArgs([]string{arg})
		assert.EqualError(t, err, want)
		assert.NotContains(t, err.Error(), "\n")
	}
}

func TestFieldLists(t *testing.T) {
	assert.Len(t, SequenceFields, 35)
	assert.Len(t, (&Sequence{}).Fields(), len(SequenceFields))
	assert.Equal(t, []string{"seq_id", "flow", "seq_step", "seq_status"}, EventFields)
	assert.Len(t, CompactFields, len((&Event{}).Compact()))
}

// randomEvents builds a random stream for a few users: every flow event type, outcomes,
// duplicate uuids and timestamps, gaps around maxpause and maxspan.
func randomEvents(r *rand.Rand, n int) []Event {
	types := make([]string, 0, len(classes)+1)
	for typ := range classes {
		types = append(types, typ)
	}
	slices.Sort(types)
	types = append(types, "user.session.end")
	users := []string{"00ua", "00ub", "00uc"}
	results := []string{"SUCCESS", "SUCCESS", "SUCCESS", "FAILURE", "DENY", "ALLOW", ""}
	gaps := []int64{0, 0, 1, 500, 30_000, 180_000, 599_999, 600_000, 600_001, 900_000}
	t := int64(1_700_000_000_000)
	out := make([]Event, n)
	for i := range out {
		t += gaps[r.IntN(len(gaps))]
		u := users[r.IntN(len(users))]
		e := Event{Time: t, Type: types[r.IntN(len(types))], ActorID: u, ActorType: "User", ActorLogin: u + "@x",
			UUID: fmt.Sprintf("u%d", r.IntN(n)), Result: results[r.IntN(len(results))], IP: fmt.Sprintf("10.0.0.%d", r.IntN(3)),
			SessionID: fmt.Sprintf("s%d", r.IntN(3)), Ref: int64(i)}
		if r.IntN(5) == 0 {
			e.ActorID = "unknown-actor"
			e.TargetID, e.TargetLogin = users[r.IntN(len(users))], "t@x"
		}
		out[i] = e
	}
	return out
}

// shuffleTies shuffles runs of equal timestamps, as Splunk may order them either way.
func shuffleTies(r *rand.Rand, events []Event) {
	for i := 0; i < len(events); {
		j := i
		for j < len(events) && events[j].Time == events[i].Time {
			j++
		}
		r.Shuffle(j-i, func(a, b int) { events[i+a], events[i+b] = events[i+b], events[i+a] })
		i = j
	}
}

func FuzzEngineOrder(f *testing.F) {
	f.Add(uint64(1), uint16(50), uint8(0))
	f.Add(uint64(7), uint16(400), uint8(1))
	f.Add(uint64(42), uint16(1000), uint8(2))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, by uint8) {
		r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		events := randomEvents(r, int(n%2000))
		o := DefaultOptions()
		o.By = By(by % 3)
		asc := slices.Clone(events)
		shuffleTies(r, asc)
		desc := reversed(events)
		shuffleTies(r, desc)
		a, d := run(o, asc), run(o, desc)
		if !assert.Equal(t, a, d) {
			t.FailNow()
		}
		o.Order = OrderDescending
		if !assert.Equal(t, a, run(o, desc), "explicit order hint") {
			t.FailNow()
		}
	})
}

// TestDisorderWithinTolerance feeds events whose arrival order is off by up to half a second
// (less than Options.Disorder) and expects exactly the sequences of sorted input.
func TestDisorderWithinTolerance(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	events := randomEvents(r, 3000)
	want := run(DefaultOptions(), events)
	for _, dir := range []int64{1, -1} {
		jittered := slices.Clone(events)
		keys := make(map[int64]int64, len(jittered))
		for _, e := range jittered {
			keys[e.Ref] = dir*e.Time + r.Int64N(500)
		}
		slices.SortStableFunc(jittered, func(a, b Event) int { return cmpInt(keys[a.Ref], keys[b.Ref]) })
		require.False(t, slices.IsSortedFunc(jittered, func(a, b Event) int { return int(dir) * cmpInt(a.Time, b.Time) }))
		got := run(DefaultOptions(), jittered)
		assert.Equal(t, want, got, "direction %d", dir)
		eng := New(DefaultOptions(), nil, nil)
		for i := range jittered {
			eng.Add(&jittered[i])
		}
		assert.Equal(t, int8(dir), eng.dir, "direction detected despite jitter")
		eng.Close()
	}
}

func TestFactorNames(t *testing.T) {
	tests := []struct{ byType, logged, want string }{
		{"SMS", "Phone", "SMS"},       // a send event's type names the factor exactly
		{"", "SMS_FACTOR", "SMS"},     // debugData.factor with Okta's suffix
		{"", "EMAIL_FACTOR", "EMAIL"}, // same factor as the email send event
		{"", "OKTA_VERIFY_PUSH", "OKTA_VERIFY_PUSH"},
		{"", "Email", "EMAIL"}, // Identity Engine authenticator display name
		{"", "Security Key or Biometric", "FIDO_WEBAUTHN"},
		{"", "SIGNED_NONCE", "SIGNED_NONCE"},
		{"", "", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, factorName(tt.byType, tt.logged), "%q/%q", tt.byType, tt.logged)
	}
}

// TestAddCopiesStrings feeds every event with its strings in one buffer that is overwritten
// after Add returns, as a command's row reader reuses its chunk: the sequences must not change.
func TestAddCopiesStrings(t *testing.T) {
	events := loadScenario(t, "interleaved")
	want := run(DefaultOptions(), events)
	var got result
	eng := New(DefaultOptions(), func(s *Sequence) {
		got.Sequences = append(got.Sequences, map[string]any{"row": fmt.Sprintf("%q", s.Fields())})
	}, nil)
	var wantRows []map[string]any
	ref := New(DefaultOptions(), func(s *Sequence) {
		wantRows = append(wantRows, map[string]any{"row": fmt.Sprintf("%q", s.Fields())})
	}, nil)
	buf := make([]byte, 0, 1<<16)
	for _, ev := range events {
		ref.Add(&ev)
		view := ev
		buf = buf[:0]
		for _, s := range strs(&view) {
			start := len(buf)
			buf = append(buf, *s...)
			*s = unsafe.String(unsafe.SliceData(buf[start:]), len(*s))
		}
		eng.Add(&view)
		for i := range buf {
			buf[i] = '#'
		}
	}
	eng.Close()
	ref.Close()
	require.NotEmpty(t, want.Sequences)
	require.Equal(t, wantRows, got.Sequences)
}

// TestHugeDurationsCapped sets Options beyond ParseArgs's ranges directly: the engine caps
// them instead of overflowing its window, which made every event a sequence of its own.
func TestHugeDurationsCapped(t *testing.T) {
	o := DefaultOptions()
	o.MaxPause, o.MaxSpan, o.Disorder = 9223372036*time.Second, 1<<63-1, 1<<63-1
	r := run(o, loadScenario(t, "signin_success_push"))
	require.Len(t, r.Sequences, 1, "one sign-in, not one sequence per event")
	assert.Equal(t, "success", r.Sequences[0]["status"])
}

// TestRealAppPolicyEvaluations sequences the real samples: every policy.evaluate_sign_on with
// an AppInstance target (Panther's "Okta Admin Console" evaluations) must land in an app_signin
// naming that app, and no signin may hold one.
func TestRealAppPolicyEvaluations(t *testing.T) {
	var events []Event
	appPolicies := map[int64]string{}
	for _, f := range sampleFiles {
		for _, line := range readLines(t, filepath.Join("testdata", "okta-samples", f)) {
			e := Event{Ref: int64(len(events) + 1)}
			require.NoError(t, ParseRaw(line, &e))
			if e.Type == typePolicy && e.App != "" {
				appPolicies[e.Ref] = e.App
			}
			events = append(events, e)
		}
	}
	slices.SortStableFunc(events, func(a, b Event) int { return cmpInt(a.Time, b.Time) })
	require.Len(t, appPolicies, 5, "the samples' app policy evaluations")
	flows, seqOf, seqApp := map[int64]Flow{}, map[int64]string{}, map[string]string{}
	eng := New(DefaultOptions(), func(s *Sequence) { seqApp[s.ID] = s.App }, func(ref int64, a Assignment) {
		flows[ref], seqOf[ref] = a.Flow, a.SeqID
	})
	for i := range events {
		eng.Add(&events[i])
	}
	eng.Close()
	for ref, app := range appPolicies {
		assert.Equal(t, FlowAppSignin, flows[ref], "event %d", ref)
		assert.Equal(t, app, seqApp[seqOf[ref]], "event %d names its app_signin's app", ref)
	}
}

package session

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/oktasim"
)

// Busy keys: keys that are never quiet for MaxPause, which the engine sequences while they are
// still active (advance). The reference is the engine with incremental passes off and no cap
// on a key's events: every key sequenced once, over its whole buffer, when it goes quiet (the
// engine before issue 11's busy-key work). Every run must give its rows.

// reference sequences events with every key held whole until it is quiet.
func reference(o Options, events []Event) result {
	o.MaxKeyEvents = 1 << 40
	r, _ := runStats(o, events, func(e *Engine) { e.incremental = false })
	return r
}

// busyDay returns a day of events, oldest first, in which three keys are never quiet: an
// office NAT address that thousands of users sign in from (by=ip), an admin active all day,
// signing in to apps after MFA and resetting users' passwords (by=user), and an attacker
// spraying passwords from one address at every login it knows (by=ip); a few users sign in
// now and then besides. Some events are logged twice (same uuid and time), some share a
// millisecond, and MFA events that open no flow wait for their session's next step minutes
// later, so that the machine's lookahead spans passes.
func busyDay(seed uint64, n int) []Event {
	r := rand.New(rand.NewPCG(seed, 77))
	const day = 24 * 3600 * 1000
	t0 := int64(1_717_200_000_000)
	var out []Event
	uuid := 0
	add := func(e Event) {
		uuid++
		e.UUID, e.Ref = "ev"+strconv.Itoa(uuid), int64(uuid)
		out = append(out, e)
		if r.IntN(200) == 0 { // indexed twice: the same event, which only its order tells apart
			out = append(out, e)
		}
	}
	user := func(i int) (id, login string) {
		return fmt.Sprintf("00u%017d", i), fmt.Sprintf("user%d@example.com", i)
	}
	const nat = "203.0.113.10"
	const attacker = "198.18.0.66"
	admin, adminLogin := "00uadmin0000000000001", "admin@example.com"
	mfaTypes := []string{"system.push.send_factor_verify_push", "user.authentication.auth_via_mfa", "system.sms.send_factor_verify_message"}
	for len(out) < n {
		at := t0 + r.Int64N(day)
		switch k := r.IntN(100); {
		case k < 55: // an office user's sign-in behind the NAT, then an app or two
			u := r.IntN(3000)
			id, login := user(u)
			sid := "idx" + strconv.Itoa(r.IntN(1<<30))
			ip := nat
			if r.IntN(10) == 0 {
				ip = "198.51.100." + strconv.Itoa(u%250) // from home
			}
			ev := Event{ActorID: id, ActorType: "User", ActorLogin: login, IP: ip, SessionID: sid, TransactionID: sid}
			steps := []string{typeSessionStart, typePolicy}
			if r.IntN(2) == 0 {
				steps = append(steps, mfaTypes[0], mfaTypes[1])
			}
			steps = append(steps, typeVerify)
			if r.IntN(3) == 0 {
				steps = append(steps, typeSSO)
			}
			for i, typ := range steps {
				e := ev
				e.Time, e.Type, e.Result = at, typ, "SUCCESS"
				if typ == typePolicy {
					e.Result = "ALLOW"
				}
				if typ == typeSSO {
					e.App = "Salesforce"
				}
				if i == len(steps)-1 && r.IntN(8) == 0 {
					e.Result = "FAILURE"
				}
				add(e)
				at += r.Int64N(40_000) // up to 40 s a step, often the same millisecond as the next
				if r.IntN(4) == 0 {
					at -= at % 1000
				}
			}
		case k < 75: // the admin: an app after MFA (the MFA opens no flow), or a reset for a user
			e := Event{ActorID: admin, ActorType: "User", ActorLogin: adminLogin, IP: "192.0.2.5",
				SessionID: "idxadmin" + strconv.Itoa(int(at/3_600_000)), Result: "SUCCESS"}
			if r.IntN(4) == 0 {
				id, login := user(r.IntN(3000))
				e.TargetID, e.TargetLogin = id, login
				e.Time, e.Type = at, "system.email.password_reset.sent_message"
				add(e)
				e.Time, e.Type = at+r.Int64N(120_000), typeResetPassword
				add(e)
				continue
			}
			for _, typ := range mfaTypes[:2] {
				e.Time, e.Type = at, typ
				add(e)
				at += r.Int64N(200_000) // the next step of the session up to minutes later
			}
			if r.IntN(5) > 0 {
				e.Time, e.Type, e.App = at, typeSSO, "Okta Admin Console"
				if r.IntN(3) == 0 {
					e.Type, e.Result = typePolicy, "ALLOW"
				}
				add(e)
			}
		case k < 95: // the spray: a failed sign-in for a login, every few seconds all day
			for range 1 + r.IntN(4) {
				login := "guess" + strconv.Itoa(r.IntN(500)) + "@example.com"
				add(Event{Time: at, Type: typeSessionStart, ActorType: "User", ActorLogin: login, IP: attacker,
					Result: "FAILURE", Reason: "INVALID_CREDENTIALS"})
				at += r.Int64N(3000)
			}
			if r.IntN(50) == 0 { // one guess works
				id, login := user(r.IntN(3000))
				for _, typ := range []string{typeSessionStart, typePolicy, mfaTypes[2], typeVerify} {
					add(Event{Time: at, Type: typ, ActorID: id, ActorType: "User", ActorLogin: login, IP: attacker,
						SessionID: "idxatt" + strconv.Itoa(uuid), Result: "SUCCESS"})
					at += r.Int64N(20_000)
				}
			}
		default: // someone else, now and then: an unlock, or an MFA event alone
			id, login := user(3000 + r.IntN(200))
			e := Event{Time: at, ActorID: id, ActorType: "User", ActorLogin: login, IP: "198.51.100.9",
				SessionID: "idxo" + strconv.Itoa(r.IntN(50)), Result: "SUCCESS"}
			if r.IntN(2) == 0 {
				e.Type = "system.sms.send_account_unlock_message"
				add(e)
				e.Time, e.Type = at+r.Int64N(300_000), typeUnlock
				add(e)
			} else {
				e.Type = mfaTypes[r.IntN(3)]
				add(e)
			}
		}
	}
	slices.SortStableFunc(out, func(a, b Event) int { return cmpInt(a.Time, b.Time) })
	return out
}

// oktasimDay is a simulated org's day as events, oldest first.
func oktasimDay(t testing.TB, n int, seed uint64) []Event {
	raws := oktasim.Generate(oktasim.GenOptions{Events: n, Users: max(50, n/50), Span: 24 * time.Hour, Seed: seed})
	out := make([]Event, len(raws))
	for i, raw := range raws {
		require.NoError(t, ParseRaw(raw, &out[i]))
		out[i].Ref = int64(i + 1)
	}
	return out
}

// jittered returns events in time order give or take up to maxMs milliseconds (less than
// Disorder), ties shuffled, oldest first or newest first.
func jittered(r *rand.Rand, events []Event, maxMs int64, dir int64) []Event {
	out := slices.Clone(events)
	at := make(map[int64]int64, len(out))
	for _, e := range out {
		at[e.Ref] = dir*e.Time + r.Int64N(maxMs+1)
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	slices.SortStableFunc(out, func(a, b Event) int { return cmpInt(at[a.Ref], at[b.Ref]) })
	return out
}

// incrementalCase is one way to feed the engine, all of which must give the reference's rows.
type incrementalCase struct {
	name   string
	order  func(r *rand.Rand, events []Event) []Event
	adjust func(*Engine)
	passes bool // the busy keys must have been advanced
}

var incrementalCases = []incrementalCase{
	{"oldest first", func(_ *rand.Rand, evs []Event) []Event { return evs }, nil, true},
	{"oldest first, skew within Disorder, ties shuffled", func(r *rand.Rand, evs []Event) []Event { return jittered(r, evs, 900, 1) }, nil, true},
	{"oldest first, a pass at every event", func(_ *rand.Rand, evs []Event) []Event { return evs },
		func(e *Engine) { e.passLen, e.passAge = 1, 0 }, true},
	{"oldest first, skewed, passes every 3 events or 2 s", func(r *rand.Rand, evs []Event) []Event { return jittered(r, evs, 900, 1) },
		func(e *Engine) { e.passLen, e.passAge = 3, 2000 }, true},
	{"newest first", func(_ *rand.Rand, evs []Event) []Event { return reversed(evs) }, nil, false},
	{"newest first, skewed", func(r *rand.Rand, evs []Event) []Event { return jittered(r, evs, 900, -1) }, nil, false},
}

// TestIncrementalMatchesReference: on days with keys that are never quiet, on the golden
// scenarios and on a simulated org's day, by user, session and ip, each way of feeding the
// engine gives the reference's rows, assignments and counts, never cuts a key, and (oldest
// first) advances the busy keys.
func TestIncrementalMatchesReference(t *testing.T) {
	n := 40_000
	if testing.Short() || raceEnabled {
		n = 8_000
	}
	type corpus struct {
		name   string
		events []Event
		busy   bool
	}
	corpora := []corpus{
		{"busy day", busyDay(1, n), true},
		{"oktasim day", oktasimDay(t, n/2, 3), false},
		{"random", randomEvents(rand.New(rand.NewPCG(9, 9)), 3000), false},
	}
	var golden []Event
	for _, sc := range []string{"interleaved", "sspr", "unlock", "app_signin", "app_policy", "cut_signin", "maxpause", "maxspan",
		"same_millisecond", "signin_restart_closes_previous", "admin_on_behalf", "enrolled_then_used", "signin_mfa_retry_success"} {
		evs := loadScenario(t, sc)
		for i := range evs {
			evs[i].Ref = int64(len(golden) + i + 1)
		}
		golden = append(golden, evs...)
	}
	slices.SortStableFunc(golden, func(a, b Event) int { return cmpInt(a.Time, b.Time) })
	corpora = append(corpora, corpus{"golden scenarios", golden, false})
	for _, c := range corpora {
		for _, by := range []By{ByUser, BySession, ByIP} {
			o := DefaultOptions()
			o.By = by
			want := reference(o, c.events)
			require.NotEmpty(t, want.Sequences)
			for i, ic := range incrementalCases {
				t.Run(fmt.Sprintf("%s/by=%d/%s", c.name, by, ic.name), func(t *testing.T) {
					r := rand.New(rand.NewPCG(uint64(i), uint64(by)))
					got, st := runStats(o, ic.order(r, c.events), ic.adjust)
					sameResult(t, want, got)
					require.Zero(t, st.Forced)
					if ic.passes && c.busy {
						require.Positive(t, st.Passes, "the busy keys were advanced")
					}
				})
			}
		}
	}
}

// sameResult fails with the first differences between two results (require.Equal's diff of
// results this large takes minutes).
func sameResult(t *testing.T, want, got result) {
	t.Helper()
	if want.Stats != got.Stats {
		t.Errorf("stats %+v, want %+v", got.Stats, want.Stats)
	}
	show := 0
	for i := range max(len(want.Sequences), len(got.Sequences)) {
		var w, g string
		if i < len(want.Sequences) {
			w = fmt.Sprint(want.Sequences[i])
		}
		if i < len(got.Sequences) {
			g = fmt.Sprint(got.Sequences[i])
		}
		if w != g && show < 3 {
			show++
			t.Errorf("sequence %d of %d (want %d):\n got %s\nwant %s", i, len(got.Sequences), len(want.Sequences), g, w)
		}
	}
	if !slices.Equal(want.Assignments, got.Assignments) {
		t.Errorf("assignments differ: %d, want %d", len(got.Assignments), len(want.Assignments))
	}
	require.Empty(t, got.CellMismatches)
	if t.Failed() {
		t.FailNow()
	}
}

// TestAdvanceEdges: the cases where a pass over a key still active could go wrong, each built
// so that it does unless the pass waits exactly as long as it must. Every pass runs at every
// event (passLen 1, passAge 0), and the rows must be the reference's.
func TestAdvanceEdges(t *testing.T) {
	const t0 = 1_717_200_000_000
	u := Event{ActorID: "00ubusy", ActorType: "User", ActorLogin: "busy@example.com", IP: "192.0.2.1", Result: "SUCCESS"}
	at := func(ms int64, typ, sid string, ref int64) Event {
		e := u
		e.Time, e.Type, e.SessionID, e.UUID, e.Ref = t0+ms, typ, sid, "u"+strconv.FormatInt(ref, 10), ref
		return e
	}
	tests := []struct {
		name   string
		events []Event // in arrival order
	}{
		{"an event exactly Disorder behind the watermark sorts before one of the same millisecond", []Event{
			at(0, typePolicy, "s1", 1),
			at(1000, typeSSO, "s2", 2), // the watermark: the policy evaluation is Disorder behind it
			at(0, typeSessionStart, "s1", 3),
			at(2500, typeVerify, "s1", 4),
		}},
		{"an MFA event that opens no flow waits for its session's next step, minutes later", []Event{
			at(0, "system.push.send_factor_verify_push", "s1", 1),
			at(1, "user.authentication.auth_via_mfa", "s1", 2),
			at(30_000, typeSSO, "other", 3), // other sessions' events come and pass
			at(60_000, "system.sms.send_phone_verification_message", "other", 4),
			at(300_000, typeVerify, "s1", 5), // a sign-in whose start the range cut
		}},
		{"an MFA event's reach ends at a pause, not at the last event in", []Event{
			at(0, "system.push.send_factor_verify_push", "s1", 1),
			at(500_000, typeSSO, "other", 2),
			at(1_100_001, typeVerify, "s1", 3), // more than maxpause after the last event: out of reach
		}},
		{"a start logged twice: the second sign-in, closed passes later, gets an id of its own", []Event{
			at(0, typeSessionStart, "s1", 1),
			at(0, typeSessionStart, "s1", 1), // closes the first sign-in, opens the second
			at(5000, typeSSO, "s2", 2),       // a pass: the second stays open
			at(9000, typeSSO, "s3", 3),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o := DefaultOptions()
			o.Order = OrderAscending
			want := reference(o, tc.events)
			got, st := runStats(o, tc.events, func(e *Engine) { e.passLen, e.passAge = 1, 0 })
			require.Positive(t, st.Passes)
			require.Equal(t, want, got)
		})
	}
}

// FuzzEngineIncremental: any events (randomEvents' few users are busy keys, and a slice of a
// busy day adds an office NAT, an admin and a spray), skewed by less than Disorder, keyed any
// way, with passes over active keys as often as every event or as rarely as never: the rows
// are the reference's, and no key is cut.
func FuzzEngineIncremental(f *testing.F) {
	f.Add(uint64(1), uint16(300), uint8(0), uint8(1), uint32(0))
	f.Add(uint64(2), uint16(1500), uint8(2), uint8(3), uint32(2000))
	f.Add(uint64(3), uint16(800), uint8(1), uint8(40), uint32(600_000))
	f.Add(uint64(4), uint16(2000), uint8(5), uint8(0), uint32(90_000))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, by, passLen uint8, passAge uint32) {
		r := rand.New(rand.NewPCG(seed, 3))
		events := randomEvents(r, int(n%1500))
		if by&4 != 0 {
			day := busyDay(seed, int(n%3000))
			for i := range day {
				day[i].Time = 1_700_000_000_000 + (day[i].Time-day[0].Time)%(4*3600*1000) // randomEvents' hours
				day[i].Ref += 1 << 20
			}
			events = append(events, day...)
			slices.SortStableFunc(events, func(a, b Event) int { return cmpInt(a.Time, b.Time) })
		}
		if len(events) == 0 {
			return
		}
		o := DefaultOptions()
		o.By = By(by % 3)
		want := reference(o, events)
		got, st := runStats(o, jittered(r, events, 999, 1), func(e *Engine) {
			e.passLen, e.passAge = 1+int(passLen%64), int64(passAge%700_000)
		})
		sameResult(t, want, got)
		require.Zero(t, st.Forced)
	})
}

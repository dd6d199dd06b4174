package session

import (
	"bufio"
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"testing"
)

// synth streams a realistic mix of Okta events in one time order without holding the whole
// input: sign-ins with and without MFA, failed sign-ins, app sign-ins, resets, unlocks and
// events of other types, for a pool of users, a flow starting every ~100 ms on average.
type synth struct {
	r       *rand.Rand
	dir     int64 // +1 oldest first, -1 newest first
	chunk   int64 // start of the next chunk, in stream order
	pending []Event
	users   []string
	logins  []string
	uuid    int
}

const synthChunk = 60_000 // ms of flow anchors generated at a time

func newSynth(seed uint64, dir int64) *synth {
	s := &synth{r: rand.New(rand.NewPCG(seed, 1)), dir: dir, chunk: 1_700_000_000_000}
	for i := range 50_000 {
		s.users = append(s.users, fmt.Sprintf("00u%017d", i))
		s.logins = append(s.logins, fmt.Sprintf("user%d@example.com", i))
	}
	return s
}

type synthStep struct {
	typ, result, factor string
	after               int64 // ms after the previous step
}

var synthFlows = []struct {
	weight int
	steps  []synthStep
}{
	{45, []synthStep{{typeSessionStart, "SUCCESS", "", 0}, {typePolicy, "CHALLENGE", "", 40}, {"system.push.send_factor_verify_push", "SUCCESS", "", 900}, {"user.authentication.auth_via_mfa", "SUCCESS", "OKTA_VERIFY_PUSH", 6000}, {typeVerify, "SUCCESS", "", 300}}},
	{15, []synthStep{{typeSessionStart, "SUCCESS", "", 0}, {typePolicy, "ALLOW", "", 40}, {typeVerify, "SUCCESS", "", 200}}},
	{10, []synthStep{{typeSessionStart, "FAILURE", "", 0}}},
	{12, []synthStep{{typeSSO, "SUCCESS", "", 0}}},
	{5, []synthStep{{"system.sms.send_factor_verify_message", "SUCCESS", "", 0}, {"user.authentication.auth_via_mfa", "SUCCESS", "SMS", 25_000}, {typeSSO, "SUCCESS", "", 500}}},
	{2, []synthStep{{"system.email.password_reset.sent_message", "SUCCESS", "", 0}, {typeResetPassword, "SUCCESS", "", 90_000}, {typeUpdatePassword, "SUCCESS", "", 40_000}}},
	{1, []synthStep{{"system.sms.send_account_unlock_message", "SUCCESS", "", 0}, {typeUnlock, "SUCCESS", "", 60_000}}},
	{10, []synthStep{{"user.session.end", "SUCCESS", "", 0}}},
}

// fill generates the flows anchored in the next chunk.
func (s *synth) fill() {
	total := 0
	for _, f := range synthFlows {
		total += f.weight
	}
	for range synthChunk / 100 {
		anchor := s.chunk + s.dir*s.r.Int64N(synthChunk)
		pick := s.r.IntN(total)
		var steps []synthStep
		for _, f := range synthFlows {
			if pick -= f.weight; pick < 0 {
				steps = f.steps
				break
			}
		}
		u := s.r.IntN(len(s.users))
		offsets := make([]int64, len(steps))
		for i := 1; i < len(steps); i++ {
			offsets[i] = offsets[i-1] + steps[i].after/2 + s.r.Int64N(steps[i].after+1)
		}
		span := offsets[len(offsets)-1]
		ip := "198.51.100." + strconv.Itoa(u%250)
		for i, st := range steps {
			t := anchor + offsets[i]
			if s.dir < 0 {
				t = anchor - (span - offsets[i])
			}
			s.uuid++
			e := Event{Time: t, UUID: "e" + strconv.Itoa(s.uuid), Type: st.typ, ActorID: s.users[u], ActorType: "User",
				ActorLogin: s.logins[u], ActorName: "User", IP: ip, UserAgent: "Mozilla/5.0 (Macintosh)",
				SessionID: "idx" + s.users[u][10:], Result: st.result, Factor: st.factor, Ref: int64(s.uuid)}
			if st.typ == typeSSO {
				e.App = "Salesforce"
			}
			if st.typ == typeSessionStart && st.result == "FAILURE" {
				e.Reason, e.SessionID = "INVALID_CREDENTIALS", ""
			}
			s.pending = append(s.pending, e)
		}
	}
	s.chunk += s.dir * synthChunk
	slices.SortFunc(s.pending, func(a, b Event) int { return int(s.dir) * cmpInt(a.Time, b.Time) })
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// next returns up to n events in stream order; every event before the next chunk's anchors
// is final, because flows only extend from their anchor in the stream's direction.
func (s *synth) next(dst []Event) []Event {
	dst = dst[:0]
	for len(dst) == 0 {
		s.fill()
		cut := 0
		for cut < len(s.pending) && (s.chunk-s.pending[cut].Time)*s.dir > 0 {
			cut++
		}
		dst = append(dst, s.pending[:cut]...)
		s.pending = append(s.pending[:0], s.pending[cut:]...)
	}
	return dst
}

func BenchmarkEngine(b *testing.B) {
	for _, dir := range []int64{1, -1} {
		name := map[int64]string{1: "oldest_first", -1: "newest_first"}[dir]
		b.Run(name, func(b *testing.B) {
			g := newSynth(1, dir)
			var events []Event
			for len(events) < 200_000 {
				events = append(events, g.next(nil)...)
			}
			span := (events[len(events)-1].Time - events[0].Time) * dir
			eng := New(DefaultOptions(), func(*Sequence) {}, nil)
			b.ReportAllocs()
			b.ResetTimer()
			shift := int64(0)
			for i := 0; i < b.N; i++ {
				j := i % len(events)
				if j == 0 && i > 0 {
					shift += dir * (span + 3_600_000)
				}
				e := events[j]
				e.Time += shift
				eng.Add(&e)
			}
			eng.Close()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

func BenchmarkParseRaw(b *testing.B) {
	line := readLines(b, "testdata/okta-samples/okta-openapi-examples.ndjson")[0] // 2.2 KB
	var e Event
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseRaw(line, &e); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkPeakMemory5M streams 5 000 000 synthetic events newest first through one engine
// and reports the peak live heap (sampled every 10 000 events) and the process's peak RSS.
// Run it alone: go test -run '^$' -bench PeakMemory5M -benchtime 1x ./app/session
func BenchmarkPeakMemory5M(b *testing.B) {
	for b.Loop() {
		runtime.GC()
		g := newSynth(2, -1)
		sequences := 0
		eng := New(DefaultOptions(), func(*Sequence) { sequences++ }, nil)
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		var buf []Event
		for n := 0; n < 5_000_000; {
			buf = g.next(buf)
			for i := range buf {
				eng.Add(&buf[i])
				if n++; n%10_000 == 0 {
					metrics.Read(sample)
					peak = max(peak, sample[0].Value.Uint64())
				}
			}
		}
		eng.Close()
		st := eng.Stats()
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		b.ReportMetric(float64(vmHWM())/(1<<20), "peak-RSS-MiB")
		b.ReportMetric(float64(st.Events), "events")
		b.ReportMetric(float64(sequences), "sequences")
	}
}

// vmHWM returns the process's peak resident set size from /proc, 0 where there is none.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmHWM:")); ok {
			kb, _ := strconv.ParseInt(string(bytes.Fields(v)[0]), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestSynthOrders checks the benchmark's generator: both directions stream sorted events and
// the engine finds the same sequences in them.
func TestSynthOrders(t *testing.T) {
	var asc, desc []Event
	ga, gd := newSynth(3, 1), newSynth(3, -1)
	for len(asc) < 20_000 {
		asc = append(asc, ga.next(nil)...)
	}
	for len(desc) < 20_000 {
		desc = append(desc, gd.next(nil)...)
	}
	if !slices.IsSortedFunc(asc, func(a, b Event) int { return cmpInt(a.Time, b.Time) }) ||
		!slices.IsSortedFunc(desc, func(a, b Event) int { return cmpInt(b.Time, a.Time) }) {
		t.Fatal("generator out of order")
	}
	r := run(DefaultOptions(), asc)
	if r.Stats.Sequences < 5000 || r.Stats.Forced != 0 {
		t.Fatalf("unexpected mix: %+v", r.Stats)
	}
	if rr := run(DefaultOptions(), reversed(asc)); !slices.EqualFunc(r.Sequences, rr.Sequences, func(a, b map[string]any) bool {
		return fmt.Sprint(a) == fmt.Sprint(b)
	}) {
		t.Fatal("orders differ on synthetic data")
	}
}

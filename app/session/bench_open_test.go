package session

import (
	"fmt"
	"runtime"
	"testing"
)

// openFlowEvent returns the user.session.start of user i as Okta logs it for a browser sign-in:
// uuid, user id, login and display name, address, user agent, session and transaction ids, and
// the client's geography and network.
func openFlowEvent(i int, t int64) Event {
	return Event{
		Time: t, UUID: fmt.Sprintf("%08x-598c-11ef-8478-2b7584bf8d5a", i), Type: typeSessionStart,
		ActorID: fmt.Sprintf("00u%017d", i), ActorType: "User", ActorLogin: fmt.Sprintf("user%d@example.com", i),
		ActorName: fmt.Sprintf("User %d", i), IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255),
		UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36",
		SessionID: fmt.Sprintf("idx%022d", i), Result: "SUCCESS",
		TransactionID: fmt.Sprintf("Xkc%024d", i), Country: "United States", City: "Dublin", ASN: "394089", ISP: "google",
		DTHash: fmt.Sprintf("%064x", i), Risk: "LOW",
	}
}

// BenchmarkOpenFlow measures what one open flow costs: users each with a sign-in started and
// not yet ended (the 1 M users of a busy morning, all inside maxpause), reporting the live heap
// per open flow once they are buffered.
// Run it alone: go test -run '^$' -bench OpenFlow -benchtime 1x ./app/session
func BenchmarkOpenFlow(b *testing.B) {
	b.Run("with_signals", func(b *testing.B) { benchmarkOpenFlow(b, true) })
	b.Run("without_signals", func(b *testing.B) { benchmarkOpenFlow(b, false) })
}

// benchmarkOpenFlow is BenchmarkOpenFlow with or without the signals (transaction id,
// geography, network, dtHash, risk) that issue 12 added to an event.
func benchmarkOpenFlow(b *testing.B, signals bool) {
	const users = 200_000
	for b.Loop() {
		events := make([]Event, users)
		for i := range events {
			events[i] = openFlowEvent(i, 1_700_000_000_000+int64(i)) // 200 s: all open
			if !signals {
				e := &events[i]
				e.TransactionID, e.Country, e.City, e.ASN, e.ISP, e.DTHash, e.Risk = "", "", "", "", "", "", ""
			}
		}
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		eng := New(DefaultOptions(), func(*Sequence) {}, nil)
		for i := range events {
			eng.Add(&events[i])
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/users, "B/open-flow")
		runtime.KeepAlive(events)
		eng.Close()
	}
}

// BenchmarkDistinctIPs is one user whose every event comes from another address: one flow of
// n events, each adding a value to src_ip (the hostile input of issue 11).
func BenchmarkDistinctIPs(b *testing.B) {
	for _, n := range []int{25_000, 100_000, 200_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			events := distinctIPEvents(n)
			b.ResetTimer()
			for b.Loop() {
				eng := New(DefaultOptions(), func(*Sequence) {}, nil)
				for i := range events {
					eng.Add(&events[i])
				}
				eng.Close()
			}
		})
	}
}

// distinctIPEvents is a sign-in start and n-1 MFA challenges for one user, 10 ms apart (one
// flow, inside maxspan), each from a new address.
func distinctIPEvents(n int) []Event {
	events := make([]Event, n)
	for i := range events {
		typ := "system.push.send_factor_verify_push"
		if i == 0 {
			typ = typeSessionStart
		}
		events[i] = Event{Time: 1_700_000_000_000 + int64(i)*10, UUID: fmt.Sprintf("u%d", i), Type: typ,
			ActorID: "00uvictim", ActorType: "User", ActorLogin: "victim@example.com", Result: "SUCCESS",
			IP: fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), SessionID: "idxS"}
	}
	return events
}

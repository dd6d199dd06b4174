package session

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPackRoundTrip packs events whose repeated values are interned until the interner is
// full, and whose later values must then be copied with each event: every field must read
// back as it was, whichever way it was kept.
func TestPackRoundTrip(t *testing.T) {
	var a arena
	c := classOf(typeSessionStart)
	ua := strings.Repeat("Mozilla/5.0 ", 20) // 240 bytes: the interner fills after ~4400 values
	var events []Event
	for i := range 6000 {
		events = append(events, Event{Time: int64(i + 1), Ref: int64(i), UUID: "u" + strconv.Itoa(i),
			ActorID: "00u" + strconv.Itoa(i%7), ActorType: []string{"User", "SystemPrincipal"}[i%2],
			ActorLogin: "a@example.com", ActorName: "Name " + strconv.Itoa(i%3),
			TargetID: strconv.Itoa(i % 5), App: []string{"", "Salesforce"}[i%2], IP: "10.0.0." + strconv.Itoa(i%250),
			UserAgent: ua + strconv.Itoa(i), SessionID: "s", Result: []string{"SUCCESS", "FAILURE", ""}[i%3],
			Reason: []string{"", "INVALID_CREDENTIALS"}[i%2], Factor: []string{"", "SMS"}[i%2],
			TransactionID: "t" + strconv.Itoa(i), Behaviors: []string{"", "New IP,New Device"}[i%2], DTHash: "h",
			Risk: riskLevels[i%4], Country: "Ireland", City: "Dublin", ASN: "701", ISP: "verizon", Proxy: []string{"", "true"}[i%2]})
	}
	packed := make([]packed, len(events))
	for i := range events {
		a.pack(&packed[i], &events[i], c)
	}
	require.Greater(t, a.in.size+len(ua)+8, maxInternBytes, "the interner should have filled")
	in := &a.in
	for i, p := range packed {
		ev := events[i]
		got := Event{Time: p.time, Ref: p.ref, UUID: p.str(pUUID), ActorID: p.str(pActorID), ActorType: p.actorType(in),
			ActorLogin: p.str(pActorLogin), ActorName: p.actorName(in), TargetID: p.str(pTargetID),
			TargetLogin: p.str(pTargetLogin), App: p.str(pApp), IP: p.str(pIP), UserAgent: p.userAgent(in),
			SessionID: p.str(pSessionID), Result: p.result(in), Reason: p.str(pReason), Factor: p.str(pFactor),
			TransactionID: p.str(pTxn), Behaviors: p.str(pBehaviors), DTHash: p.str(pDTHash), Risk: riskLevels[p.risk()],
			Country: p.str(pCountry), City: p.str(pCity), ASN: p.str(pASN), ISP: p.str(pISP)}
		if p.flags&flagProxy != 0 {
			got.Proxy = "true"
		}
		require.Equal(t, ev, got, "event %d", i)
		require.Equal(t, outcomeOf(ev.Result), p.outcome)
		require.Equal(t, ev.ActorType == "User", p.ids[0] == idUser, "User is numbered idUser")
	}
}

// TestBufPool checks that key buffers come back from the pool large enough and empty.
func TestBufPool(t *testing.T) {
	var p bufPool
	var b []packed
	for i := range 300 {
		if len(b) == cap(b) {
			b = p.grow(b)
		}
		b = append(b, packed{time: int64(i)})
	}
	for i := range b {
		require.Equal(t, int64(i), b[i].time)
	}
	p.put(b)
	for k := range p {
		for _, s := range p[k] {
			require.GreaterOrEqual(t, cap(s), 1<<k)
			require.Empty(t, s)
			for _, x := range s[:cap(s)] {
				require.Equal(t, packed{}, x, "a pooled buffer keeps no event")
			}
		}
	}
}

// TestClassOf checks the table classOf reads against the classes map, for every known type,
// prefixes and extensions of them and types outside every flow.
func TestClassOf(t *testing.T) {
	tests := []string{"", "x", "user.session.end", "user.session.star", "user.session.startx", "USER.SESSION.START"}
	for typ := range classes {
		tests = append(tests, typ, typ[:len(typ)-1], typ+".", strings.ToUpper(typ))
	}
	for _, typ := range tests {
		require.Same(t, classes[typ], classOf(typ), "%q", typ)
		require.Equal(t, classes[typ] != nil, Sequenced(typ), "%q", typ)
	}
}

// TestFnvInt checks that fnvInt hashes what strconv.AppendInt writes after a zero byte, which
// is how sequence ids have always been derived.
func TestFnvInt(t *testing.T) {
	values := []int64{0, 1, 9, 10, -1, -10, 1709542800123, -1709542800123, math.MaxInt64, math.MinInt64}
	for p := int64(1); p < math.MaxInt64/10; p *= 10 {
		values = append(values, p-1, p, p+1, 2*p-1, -p)
	}
	// Random values of every length, for the fast path's digit lanes.
	r := rand.New(rand.NewPCG(7, 8))
	for n := int64(10); n < math.MaxInt64/10; n *= 10 {
		for range 200 {
			values = append(values, r.Int64N(n))
		}
	}
	for _, v := range values {
		want := fnvBytes(fnvOffset, strconv.AppendInt([]byte{0}, v, 10))
		require.Equal(t, want, fnvInt(fnvOffset, v), "%d", v)
	}
}

// TestIDString checks ids against fmt's hex, and that ids cut from one block stay as written.
func TestIDString(t *testing.T) {
	var m machine
	r := rand.New(rand.NewPCG(9, 10))
	hs := []uint64{0, 1, 9, 10, 15, 16, 0x0123456789abcdef, 0xfedcba9876543210, math.MaxUint64, 0xa0a0a0a0a0a0a0a0, 0x9999999999999999}
	for range 3 * idBlockSize / 16 {
		hs = append(hs, r.Uint64())
	}
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = m.idString(h)
		require.Equal(t, fmt.Sprintf("%016x", h), ids[i], "%#x", h)
	}
	for i, h := range hs {
		require.Equal(t, fmt.Sprintf("%016x", h), ids[i], "%#x, after more ids", h)
	}
}

// TestPackLong packs an event whose strings exceed the 64 KiB a packed event holds: the
// strings that fit, in field order, are kept whole, the rest dropped.
func TestPackLong(t *testing.T) {
	var a arena
	ev := Event{Time: 1, UUID: "u1", ActorID: "00ua", ActorLogin: "a@x", UserAgent: strings.Repeat("A", 70_000),
		SessionID: "s", Reason: strings.Repeat("r", 40_000), Factor: strings.Repeat("f", 30_000), City: "Dublin"}
	var p packed
	a.in.full = true // the user agent would otherwise be interned, not copied
	a.pack(&p, &ev, classOf(typeSessionStart))
	require.Equal(t, "u1", p.str(pUUID))
	require.Equal(t, "00ua", p.str(pActorID))
	require.Equal(t, "a@x", p.str(pActorLogin))
	require.Equal(t, "", p.userAgent(&a.in), "70 000 bytes do not fit")
	require.Equal(t, "s", p.str(pSessionID))
	require.Equal(t, ev.Reason, p.str(pReason))
	require.Equal(t, "", p.str(pFactor), "does not fit after the reason")
	require.Equal(t, "Dublin", p.str(pCity))
}

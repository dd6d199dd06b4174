package session

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRecordRoundTrip checks that ReadRecord gives back every field AppendRecord wrote, long,
// empty, binary or not, and leaves Time and Ref alone.
func TestRecordRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	words := []string{"", "a", "SUCCESS", "a,b", `a"b`, "a\nb", "é", "\x00\xff", strings.Repeat("x", 127), strings.Repeat("y", 128), strings.Repeat("z", 70_000)}
	var buf []byte
	for range 2_000 {
		var want Event
		for i := 1; i < numCompact; i++ {
			*compactEventField(&want, i) = words[rng.IntN(len(words))]
		}
		buf = want.AppendRecord(buf[:0])
		got := Event{Time: 42, Ref: 7}
		require.NoError(t, got.ReadRecord(buf))
		want.Time, want.Ref = 42, 7
		require.Equal(t, want, got)
	}
}

// TestRecordRejectsOtherBytes checks that a record cut short, one with bytes after its last
// field, or a length past its end is an error, not an Event read from the wrong bytes.
func TestRecordRejectsOtherBytes(t *testing.T) {
	ev := Event{UUID: "u", Type: "user.session.start", ActorID: "00u1", Proxy: "true"}
	rec := ev.AppendRecord(nil)
	var got Event
	require.NoError(t, got.ReadRecord(rec))
	for _, bad := range [][]byte{
		nil,
		rec[:len(rec)-1],
		append(append([]byte(nil), rec...), 0),
		append([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, rec[1:]...),
		append([]byte{200, 1}, rec[1:]...),
	} {
		require.Error(t, new(Event).ReadRecord(bad), "%q", bad)
	}
}

// TestCompactStrings checks that compactStrings covers the Event's compact string fields, in
// CompactFields order, and that Time and Ref lie outside; and that the positions named for
// AppendRecord are the fields they name.
func TestCompactStrings(t *testing.T) {
	e := Event{Time: 1, Ref: 2}
	fields := compactStrings(&e)
	for i := range fields {
		fields[i] = CompactFields[i+1]
	}
	require.Equal(t, Event{Time: 1, Ref: 2, UUID: "os_uuid", Type: "os_type", ActorID: "os_actor_id",
		ActorType: "os_actor_type", ActorLogin: "os_actor_login", ActorName: "os_actor_name",
		TargetID: "os_target_id", TargetLogin: "os_target_login", App: "os_app", IP: "os_ip",
		UserAgent: "os_ua", SessionID: "os_session", Result: "os_result", Reason: "os_reason",
		Factor: "os_factor", TransactionID: "os_txn", Behaviors: "os_behaviors", DTHash: "os_dt_hash",
		Risk: "os_risk", Country: "os_country", City: "os_city", ASN: "os_asn", ISP: "os_isp",
		Proxy: "os_proxy"}, e)
	require.Equal(t, "os_type", CompactFields[compactType])
	require.Equal(t, "os_risk", CompactFields[compactRisk])
	require.Equal(t, "os_proxy", CompactFields[compactProxy])
}

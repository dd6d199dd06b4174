package session

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/stretchr/testify/require"
)

// TestWriteCellsThroughRowWriter writes sequences with WriteCells into an scp.RowWriter, whose
// Decimal and SharedValues it uses, and the same sequences' Fields as plain rows: the bodies
// must be identical, negative and extreme times included. WriteCells into a plain CellWriter
// must give the cells of Fields too.
func TestWriteCellsThroughRowWriter(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	times := []int64{0, 1, 999, 1000, 1717287262996, -1, -1500, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	pick := func(vs ...string) []string {
		var out []string
		for _, v := range vs {
			if r.IntN(2) == 0 {
				out = append(out, v)
			}
		}
		return out
	}
	var fast, plain scp.RowWriter
	require.NoError(t, fast.SetFields(SequenceFields...))
	require.NoError(t, plain.SetFields(SequenceFields...))
	for i := range 2000 {
		start, end := times[r.IntN(len(times))], times[r.IntN(len(times))]
		if i%2 == 0 {
			start, end = 1717287262000+r.Int64N(1e6), 1717287262000+r.Int64N(2e6)
		}
		s := &Sequence{
			ID: "0123456789abcdef", Flow: Flow(r.IntN(int(numFlows))), Status: []string{StatusSuccess, StatusFailure, StatusDenied, StatusIncomplete}[r.IntN(4)],
			StoppedAt: typePolicy, Missing: pick(typeSessionStart, typePolicy, typeVerify), UserID: "00u1", User: `a "b", c`,
			SessionID: "102x", SrcIP: pick("10.0.0.1", "10.0.0.2"), UserAgent: pick("Mozilla/5.0 (X11; Linux)", "curl/8"),
			App: "Salesforce", Channel: "sms", Start: start, End: end, EventCount: r.IntN(100) - 1,
			Steps: pick(typeSessionStart, typePolicy, "system.push.send_factor_verify_push", typeVerify), MFAFactors: pick("OKTA_VERIFY_PUSH", "SMS"),
			MFASent: r.IntN(3), MFAVerified: r.IntN(12), MFAFailed: -r.IntN(2), Reasons: pick("INVALID_CREDENTIALS", "$bad$"), UUIDs: pick("u1", "u2", "u3"),
		}
		s.WriteCells(&fast)
		require.NoError(t, fast.EndRow())
		require.NoError(t, plain.WriteRow(s.Fields()))
		// Through a CellWriter that does not write numbers itself (bytesDecimal's path).
		var cells cellRecorder
		s.WriteCells(&cells)
		require.Equal(t, s.Fields(), [][]string(cells), "start %d end %d", s.Start, s.End)
		c := s.Clone()
		require.Equal(t, bytesDecimal{}, c.bytes, "a clone shares nothing with the writer")
		require.Equal(t, plainShared{}, c.plain)
	}
	require.Equal(t, string(plain.Body()), string(fast.Body()))
}

package session

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDistinctValuesLinear feeds hostile flows and counts the comparisons and set lookups the
// machine makes to keep its lists of distinct values and ids (machine.probes): they must grow
// with the events, not with their square. One user with a new address per event took 11 CPU-s
// for 100 000 events and 59 for 200 000 when every new value was compared with all before it.
func TestDistinctValuesLinear(t *testing.T) {
	const n = 20_000
	t.Run("a new address per event", func(t *testing.T) {
		var got *Sequence
		eng := New(DefaultOptions(), func(s *Sequence) { got = s.Clone() }, nil)
		events := distinctIPEvents(n)
		for i := range events {
			eng.Add(&events[i])
		}
		eng.Close()
		require.NotNil(t, got)
		assert.Len(t, got.SrcIP, n, "every address listed once")
		assert.Equal(t, "10.0.0.0", got.SrcIP[0])
		assert.Equal(t, fmt.Sprintf("10.0.%d.%d", (n-1)>>8&255, (n-1)&255), got.SrcIP[n-1], "in time order")
		assert.LessOrEqual(t, eng.m.probes, 16*n, "comparisons per event stay bounded")
	})
	t.Run("a sequence per event", func(t *testing.T) {
		// Failed sign-ins, each a sequence of its own, one key: the ids told apart in one run.
		events := distinctIPEvents(n)
		for i := range events {
			events[i].Type, events[i].Result = typeSessionStart, "FAILURE"
		}
		seqs := 0
		ids := map[string]bool{}
		eng := New(DefaultOptions(), func(s *Sequence) { seqs++; ids[s.ID] = true }, nil)
		for i := range events {
			eng.Add(&events[i])
		}
		eng.Close()
		assert.Equal(t, n, seqs)
		assert.Len(t, ids, n, "ids stay distinct")
		assert.LessOrEqual(t, eng.m.probes, 16*n, "comparisons per event stay bounded")
	})
}

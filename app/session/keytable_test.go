package session

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestKeyTableMatchesMap inserts and deletes keys at random, crowding the table through
// several growths, and checks every key against a map after each step.
func TestKeyTableMatchesMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	tab := newKeyTable()
	ref := map[string]*keyBuf{}
	for step := range 20_000 {
		key := strconv.Itoa(r.IntN(3000))
		h, kb := tab.find(key)
		require.Equal(t, ref[key], kb, "step %d key %s", step, key)
		if kb == nil {
			kb = &keyBuf{key: key, hash: h}
			tab.insert(kb)
			ref[key] = kb
		} else if r.IntN(2) == 0 {
			tab.delete(kb)
			delete(ref, key)
		}
		require.Equal(t, len(ref), tab.n)
	}
	for key, kb := range ref {
		_, got := tab.find(key)
		require.Same(t, kb, got)
	}
}

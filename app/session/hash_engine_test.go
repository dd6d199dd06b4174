package session

import (
	"hash/fnv"
	"strings"
	"testing"
)

// TestFnv64a checks the unrolled fnv64a against hash/fnv for every length around its turns
// of four bytes, from a start other than the offset too.
func TestFnv64a(t *testing.T) {
	src := strings.Repeat("00u1a2b3c4d5e6f7g8h9\x00signin\xff", 3)
	for n := range len(src) {
		s := src[:n]
		f := fnv.New64a()
		f.Write([]byte(s))
		if got, want := fnv64a(fnvOffset, s), f.Sum64(); got != want {
			t.Errorf("%q: got %#x, want %#x", s, got, want)
		}
		f.Reset()
		f.Write([]byte("app_signin\x00" + s))
		if got, want := fnv64a(flowHashes[FlowAppSignin], s), f.Sum64(); got != want {
			t.Errorf("app_signin %q: got %#x, want %#x", s, got, want)
		}
	}
}

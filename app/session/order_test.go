package session

import (
	"cmp"
	"slices"
	"testing"
)

// orderItems keeps a buffer already in order, reverses one in reverse order (Splunk's newest
// first) and sorts anything else: the result is always what a sort gives.
func TestOrderItems(t *testing.T) {
	byTime := func(a, b *packed) int { return cmp.Compare(a.time, b.time) }
	for _, times := range [][]int64{
		nil, {5}, {1, 2, 3, 4}, {4, 3, 2, 1}, {3, 3, 2, 2, 1}, {1, 1, 2, 2, 3}, {2, 1, 3}, {1, 3, 2},
		{5, 4, 4, 6}, {7, 7, 7}, {9, 1, 8, 2, 7, 3},
	} {
		items := make([]*packed, len(times))
		for i, tm := range times {
			items[i] = &packed{time: tm, ref: int64(i)}
		}
		orderItems(items, byTime)
		got := make([]int64, len(items))
		for i, it := range items {
			got[i] = it.time
		}
		want := slices.Sorted(slices.Values(times))
		if !slices.Equal(got, want) {
			t.Errorf("%v: got %v, want %v", times, got, want)
		}
	}
}

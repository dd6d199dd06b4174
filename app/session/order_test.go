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

// TestOrderItemsTies checks the ties, where orderItems calls its order function: whatever the
// events' order within a millisecond, the result is what a sort by (time, ref) gives.
func TestOrderItemsTies(t *testing.T) {
	byTimeRef := func(a, b *packed) int {
		if c := cmp.Compare(a.time, b.time); c != 0 {
			return c
		}
		return cmp.Compare(a.ref, b.ref)
	}
	for _, tc := range []struct{ times, refs []int64 }{
		{[]int64{3, 3, 2, 2, 1}, []int64{0, 1, 2, 3, 4}}, // newest first, ties in order: sort
		{[]int64{3, 3, 2, 2, 1}, []int64{1, 0, 3, 2, 4}}, // newest first, ties reversed: reverse
		{[]int64{1, 1, 2, 2, 3}, []int64{0, 1, 2, 3, 4}}, // in order
		{[]int64{1, 1, 2, 2, 3}, []int64{1, 0, 2, 3, 4}}, // a tie out of order
		{[]int64{5, 5, 5}, []int64{2, 1, 0}},
		{[]int64{5, 5, 5}, []int64{1, 2, 0}},
	} {
		items := make([]*packed, len(tc.times))
		for i := range items {
			items[i] = &packed{time: tc.times[i], ref: tc.refs[i]}
		}
		want := slices.Clone(items)
		slices.SortFunc(want, byTimeRef)
		orderItems(items, byTimeRef)
		if !slices.Equal(items, want) {
			t.Errorf("times %v refs %v: not sorted by (time, ref)", tc.times, tc.refs)
		}
	}
}

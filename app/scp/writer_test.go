package scp

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSharedValuesWritesWhatValuesWrites writes the same rows through Values and through
// SharedValues, with lists that recur (the same strings), lists equal in content but made anew,
// lists that need escaping and lists too short to share: the bodies must be identical.
func TestSharedValuesWritesWhatValuesWrites(t *testing.T) {
	steps := []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify"}
	lists := [][]string{
		steps, steps[:2], steps, nil, {"one"}, steps[1:], {`a "quoted", value`, "$x$", "line\nbreak"},
		{`a "quoted", value`, "$x$", "line\nbreak"}, steps[:2], {"", ""}, {"", "x"},
	}
	for i := range 300 {
		// Lists equal to others but with their own strings, and many distinct ones that push
		// earlier lists out of their slots.
		lists = append(lists, []string{strings.Clone(steps[0]), strings.Clone(steps[1])},
			[]string{steps[0], strings.Repeat("x", i%40)}, steps)
	}
	var plain, shared RowWriter
	for round := range 2 {
		plain.Reset()
		shared.Reset()
		require.NoError(t, plain.SetFields("n", "list", "after"))
		require.NoError(t, shared.SetFields("n", "list", "after"))
		for _, l := range lists {
			plain.Value("1")
			plain.Values(l)
			plain.Value("z")
			require.NoError(t, plain.EndRow())
			shared.Value("1")
			shared.SharedValues(l)
			shared.Value("z")
			require.NoError(t, shared.EndRow(), "round %d list %q", round, l)
		}
		require.Equal(t, string(plain.Body()), string(shared.Body()), "round %d", round)
	}

	// Before SetFields, as Values: the row is refused.
	var w RowWriter
	w.SharedValues(steps)
	assert.ErrorIs(t, w.EndRow(), ErrNoFields)
}

func TestSameStrings(t *testing.T) {
	a := []string{"x", "yz"}
	assert.True(t, sameStrings(a, a))
	assert.True(t, sameStrings(a, append([]string(nil), a...)))
	assert.False(t, sameStrings(a, []string{"x", strings.Clone("yz")}), "equal content, other address")
	assert.False(t, sameStrings(a, a[:1]))
	assert.False(t, sameStrings(a, []string{"x", a[1][:1]}))
	assert.True(t, sameStrings(nil, []string{}))
}

// decimalReference is Decimal's cell through fmt and big-enough arithmetic.
func decimalReference(v int64, scale int) string {
	scale = min(scale, 18)
	sign, u := "", uint64(v)
	if v < 0 {
		sign, u = "-", -u
	}
	if scale <= 0 {
		return fmt.Sprintf("%s%d,,", sign, u)
	}
	pow := uint64(1)
	for range scale {
		pow *= 10
	}
	return fmt.Sprintf("%s%d.%0*d,,", sign, u/pow, scale, u%pow)
}

func TestDecimal(t *testing.T) {
	// Around the fast paths' edges too: one digit, and the 13-digit epoch milliseconds.
	values := []int64{0, 1, 5, 9, 10, 11, 99, 100, 999, 1000, 1001, 1717287262996, -1, -5, -9, -10, -1000, -1717287262996,
		1e12 - 1, 1e12, 1e12 + 1, 1e13 - 1, 1e13, 1e13 + 1, -1e12, 1e12 + 9, 9999999999000, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	for p := int64(1); p <= 1e18; p *= 10 {
		values = append(values, p-1, p, p+1, -p)
	}
	r := rand.New(rand.NewPCG(13, 14))
	for range 2000 {
		values = append(values, r.Int64(), -r.Int64N(1e15), r.Int64N(1e4))
	}
	var w RowWriter
	require.NoError(t, w.SetFields("n"))
	for _, v := range values {
		for _, scale := range []int{-1, 0, 1, 2, 3, 4, 9, 18, 19, 25} {
			start := len(w.body)
			w.Decimal(v, scale)
			require.Equal(t, decimalReference(v, scale), string(w.body[start:]), "%d scale %d", v, scale)
			require.NoError(t, w.EndRow())
		}
	}
	assert.Equal(t, "n,__mv_n\r\n1717200000.123,\r\n", func() string {
		var w RowWriter
		require.NoError(t, w.SetFields("n"))
		w.Decimal(1717200000123, 3)
		require.NoError(t, w.EndRow())
		return string(w.Body())
	}())
	var none RowWriter
	none.Decimal(1, 0)
	assert.ErrorIs(t, none.EndRow(), ErrNoFields)
}

func TestDecimalDigits(t *testing.T) {
	assert.Equal(t, 1, decimalDigits(0))
	assert.Equal(t, 20, decimalDigits(math.MaxUint64))
	for u := uint64(1); u <= 1e19; u *= 10 {
		for _, v := range []uint64{u - 1, u, u + 1, 2 * u, 5*u - 1} {
			assert.Equal(t, len(fmt.Sprint(v)), decimalDigits(v), "%d", v)
		}
		if u > math.MaxUint64/10 {
			break
		}
	}
	for v := uint64(1); v != 0; v <<= 1 {
		for _, x := range []uint64{v - 1, v, v + 1} {
			assert.Equal(t, len(fmt.Sprint(x)), decimalDigits(x), "%d", x)
		}
	}
}

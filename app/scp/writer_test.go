package scp

import (
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

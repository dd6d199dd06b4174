package session

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// epochInputs are _time spellings for the fast path and for everything it hands over.
var epochInputs = []string{
	"1717287262.996", "1717287262", "1717287262.", "1717287262.9", "1717287262.99", "1717287262.9999",
	"0", "0.5", "1.000", "1099511627776", "1099511627777", "9999999999999", "10995116277760",
	"00000000000001.5", "+1717287262.996", "-1.5", "-0", "", ".5", "17172x", "1717287262.9x9",
	"1717287262.99x", "1717287262,996", "1717287262.996.1", " 1717287262", "1717287262 ",
	"12345678901234567890", "1_000", "\xff",
	// Ten digits and a point, the form read eight digits at a time.
	"0000000000.000", "9999999999.999", "1717287262.9999999", "1717287262.0", "1717287262.00",
	"171728726/.996", "17172872:2.996", "/717287262.996", ":717287262.996", "1717287262./96",
	"1717287262.99:", "1717287262.:96", "1717287262.-96", "1717287262.996x", "1717287262.996 ",
	"1717287\x002.996", "171728\xb6262.996", "1717287262.99\xb6", "17172872621.996",
}

// TestEightDigits checks the word-at-a-time parse against strconv for every byte at every
// position of a valid number.
func TestEightDigits(t *testing.T) {
	for pos := range 8 {
		for c := range 256 {
			b := []byte("12345678")
			b[pos] = byte(c)
			got, ok := eightDigits(binary.LittleEndian.Uint64(b))
			want, err := strconv.ParseUint(string(b), 10, 64)
			ok2 := err == nil
			require.Equal(t, ok2, ok, "%q", b)
			if ok {
				require.Equal(t, want, got, "%q", b)
			}
		}
	}
	for _, s := range []string{"00000000", "99999999", "10000000", "00000001", "17172872"} {
		got, ok := eightDigits(binary.LittleEndian.Uint64([]byte(s)))
		want, _ := strconv.ParseUint(s, 10, 64)
		require.True(t, ok, s)
		require.Equal(t, want, got, s)
	}
}

func TestParseEpochMatchesSlowPath(t *testing.T) {
	for _, s := range epochInputs {
		got, err := parseEpoch([]byte(s))
		want, wantErr := parseEpochSlow(s)
		assert.Equal(t, want, got, "%q", s)
		if wantErr != nil {
			assert.EqualError(t, err, wantErr.Error(), "%q", s)
		} else {
			assert.NoError(t, err, "%q", s)
		}
	}
	ms, err := parseEpoch([]byte("1717287262.996"))
	require.NoError(t, err)
	assert.Equal(t, int64(1717287262996), ms)
	_, err = parseEpoch([]byte("1099511627777"))
	assert.ErrorIs(t, err, errTimestamp)
}

func FuzzParseEpoch(f *testing.F) {
	for _, s := range epochInputs {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := parseEpoch([]byte(s))
		want, wantErr := parseEpochSlow(s)
		if got != want || (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
			t.Fatalf("parseEpoch(%q) = %d, %v; the slow path says %d, %v", s, got, err, want, wantErr)
		}
	})
}

// appendEpochReference is appendEpoch through fmt.
func appendEpochReference(b []byte, ms int64) []byte {
	switch {
	case ms == math.MinInt64:
		// Its negation overflows: what the first version (through strconv) wrote.
		return append(b, "--9223372036854775.(0("...)
	case ms < 0:
		return appendEpochReference(append(b, '-'), -ms)
	}
	return fmt.Appendf(b, "%d.%03d", ms/1000, ms%1000)
}

func TestAppendEpochMatchesReference(t *testing.T) {
	values := []int64{0, 1, 9, 10, 99, 100, 999, 1000, 1001, 9999, 10000, 99999, 100000, 1717287262996,
		-1, -999, -1000, -1717287262996, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1}
	for p := int64(1); p > 0 && p < math.MaxInt64/10; p *= 10 {
		values = append(values, p-1, p, p+1, -p)
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 10000 {
		values = append(values, r.Int64(), -r.Int64(), r.Int64N(1<<41), r.Int64N(100_000))
	}
	for _, ms := range values {
		want := string(appendEpochReference([]byte("x"), ms))
		require.Equal(t, want, string(appendEpoch([]byte("x"), ms)), "%d", ms)
	}
	assert.Equal(t, "1717287262.996", formatEpoch(1717287262996))
	assert.Equal(t, "0.005", formatEpoch(5))
}

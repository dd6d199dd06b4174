package backfill

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBound(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2026-11-20", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20T08:30", time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)},
		{"2026-11-20T08:30Z", time.Date(2026, 11, 20, 8, 30, 0, 0, time.UTC)},
		{"2026-11-20T08:30+01:00", time.Date(2026, 11, 20, 7, 30, 0, 0, time.UTC)},
		{"2026-11-20T08:30:15Z", time.Date(2026, 11, 20, 8, 30, 15, 0, time.UTC)},
		{"2026-11-20T08:30:15.123Z", time.Date(2026, 11, 20, 8, 30, 15, 123e6, time.UTC)},
		{"2026-11-20T08:30:15.123456789Z", time.Date(2026, 11, 20, 8, 30, 15, 123e6, time.UTC)},
		{"2026-11-20T08:30:15-05:00", time.Date(2026, 11, 20, 13, 30, 15, 0, time.UTC)},
		{"2026-11-20T08:30:15", time.Date(2026, 11, 20, 8, 30, 15, 0, time.UTC)},
	}
	for _, tt := range tests {
		got, err := ParseBound(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, time.UTC, got.Location(), tt.in)
	}
	for _, bad := range []string{"", "-2d", "now", "yesterday", "2026-13-01", "2026-11-31", "1732060800", "2026-11-20 08:30:15Z x", string(make([]byte, 100))} {
		_, err := ParseBound(bad)
		assert.ErrorIs(t, err, ErrBound, "%q", bad)
	}
}

package okta

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	at := func(ns int) time.Time { return time.Date(2020, 2, 14, 22, 18, 51, ns, time.UTC) }
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2020-02-14T22:18:51Z", at(0)},
		{"2020-02-14T22:18:51.843Z", at(843000000)},
		{"2020-02-14T22:18:51.84Z", at(840000000)},
		{"2020-02-14T22:18:51.843123Z", at(843123000)},
		{"2020-02-14T22:18:51.843123456Z", at(843123456)},
		{"2020-02-14T22:18:51.8431234569Z", at(843123456)}, // finer than ns: truncated
		{"2020-02-14T23:18:51.843+01:00", at(843000000)},
		{"2020-02-14T17:48:51-04:30", at(0)},
		{"2020-02-14t22:18:51z", at(0)},
		{"2020-02-14 22:18:51.843", at(843000000)},                             // exports: no T, no zone = UTC
		{"2020-02-14 22:18:51.843000000", at(843000000)},                       // panther form
		{"2020-02-15T00:18:51.000+02:00", at(0)},                               // crosses midnight
		{"2024-02-29T00:00:00Z", time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)}, // leap day
	}
	for _, tt := range tests {
		got, err := ParseTime(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got, tt.in)
		assert.Equal(t, time.UTC, got.Location(), tt.in)
	}
	for _, bad := range []string{
		"", "2020-02-14", "2020-02-14T22:18", "2020-02-14X22:18:51Z", "2020-02-14T22:18:51.Z",
		"2020-13-14T22:18:51Z", "2020-02-30T22:18:51Z", "2023-02-29T00:00:00Z", "2020-02-14T24:00:00Z",
		"2020-02-14T22:60:51Z", "2020-02-14T22:18:60Z", "2020-02-14T22:18:51+0100", "2020-02-14T22:18:51+24:00",
		"2020-02-14T22:18:51 UTC", "2020-02-14T22:18:51Zjunk", "20x0-02-14T22:18:51Z", "1581718731843", "0000-01-01T00:00:00+01:00", "9999-12-31T23:00:00-01:00",
	} {
		_, err := ParseTime(bad)
		assert.ErrorIs(t, err, errTimestamp, "%q", bad)
	}
}

// The arithmetic that replaced time.Date gives the same instant as time.Date, and the same
// month lengths, for every day of the years where calendars get tricky and for every offset
// at the edges of the range.
func TestParseTimeMatchesTimeDate(t *testing.T) {
	for _, year := range []int{0, 1, 4, 99, 100, 399, 400, 1600, 1900, 1969, 1970, 1971, 2000, 2024, 2100, 2400, 9999} {
		for month := 1; month <= 12; month++ {
			want := time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
			require.Equal(t, want, daysIn(year, month), "%04d-%02d", year, month)
			for day := 1; day <= want; day++ {
				for _, zone := range []string{"Z", "+23:59", "-23:59", "+05:30"} {
					s := fmt.Sprintf("%04d-%02d-%02dT23:59:58.123456789%s", year, month, day, zone)
					ref, err := time.Parse(time.RFC3339Nano, s)
					require.NoError(t, err)
					got, err := ParseTime(s)
					if y := ref.UTC().Year(); y < 0 || y > 9999 {
						require.Error(t, err, s)
						continue
					}
					require.NoError(t, err, s)
					require.True(t, got == ref.UTC(), "%s: got %v, want %v", s, got, ref.UTC())
				}
			}
		}
	}
}

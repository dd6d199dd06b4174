package backfill

import (
	"errors"
	"fmt"
	"time"

	"github.com/oktasight/oktasight/app/okta"
)

// ErrBound is wrapped by ParseBound's errors.
var ErrBound = errors.New("want an ISO 8601 date or time, e.g. 2026-11-20 or 2026-11-20T08:00:00Z")

// ParseBound reads a --since or --until value (or a stanza's backfill_since/backfill_until):
// an ISO 8601 date (midnight UTC) or date and time (with or without a fraction; "Z" or an
// offset, none meaning UTC). Relative values such as -2d are refused on purpose: the range is
// part of the checkpoint key, and a range that moved with the clock would never find the
// progress of an interrupted run, nor its completion. The result is UTC, to the millisecond.
func ParseBound(v string) (time.Time, error) {
	if len(v) > 64 {
		return time.Time{}, fmt.Errorf("%w: got %d characters", ErrBound, len(v))
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		return t.UTC(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	t, err := okta.ParseTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: got %q", ErrBound, clip(v, 64))
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

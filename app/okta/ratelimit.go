package okta

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// RateLimit is what a response says of the endpoint's rate-limit window.
type RateLimit struct {
	Limit, Remaining int       // requests allowed in the window, and left in it
	Reset            time.Time // when the window ends (UTC, whole seconds)
	Valid            bool      // false when a header is missing or malformed
}

// Concurrency reports whether this is the shape Okta gives a 429 for too many concurrent
// requests: Limit and Remaining 0, with a Reset that is only an estimate.
func (r RateLimit) Concurrency() bool { return r.Valid && r.Limit == 0 }

// ParseRateLimit reads X-Rate-Limit-Limit, X-Rate-Limit-Remaining and X-Rate-Limit-Reset
// (epoch seconds). Valid is false unless all three are present, are whole numbers, and
// Remaining is not above Limit.
func ParseRateLimit(h http.Header) RateLimit {
	limit, ok1 := headerInt(h, "X-Rate-Limit-Limit")
	remaining, ok2 := headerInt(h, "X-Rate-Limit-Remaining")
	reset, ok3 := headerInt(h, "X-Rate-Limit-Reset")
	if !ok1 || !ok2 || !ok3 || remaining > limit || reset <= 0 || reset > maxEpoch {
		return RateLimit{}
	}
	return RateLimit{Limit: int(limit), Remaining: int(remaining), Reset: time.Unix(reset, 0).UTC(), Valid: true}
}

// maxEpoch bounds Reset to the year 9999 so that a hostile value cannot overflow durations.
const maxEpoch = 253402300799

// maxCount bounds Limit and Remaining so that arithmetic on them cannot overflow.
const maxCount = 1 << 30

func headerInt(h http.Header, key string) (int64, bool) {
	v := strings.TrimSpace(h.Get(key))
	if v == "" || v[0] == '+' || v[0] == '-' {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	if key != "X-Rate-Limit-Reset" && n > maxCount {
		return 0, false
	}
	return n, true
}

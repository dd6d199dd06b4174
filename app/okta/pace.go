package okta

import (
	"time"
)

// Pacing constants.
const (
	// maxResetWait caps a wait for a window to reset: Okta's windows are a minute long, so a
	// Reset further away is a clock or server fault, not a reason to stall for hours.
	maxResetWait = 5 * time.Minute
	// smallestLimit is the lowest per-minute /api/v1/logs limit Okta documents (developer
	// orgs); without rate-limit headers we pace as if the org had it.
	smallestLimit = 20
)

// pacer keeps the client within its share of the endpoint's rate limit. After each response
// it works out the earliest time the next request may go: once the window's use (Limit -
// Remaining, counting every client of the org) reaches the share, not before the window resets;
// until then the budget left is spread evenly over the time left, leaving one gap at the end,
// so a backlog is read at the full share without bursts and without running into the next
// window.
type pacer struct {
	pct       int
	notBefore time.Time // on the client's clock
}

// share is the number of requests per window this client may use.
func (p *pacer) share(limit int) int {
	return max(1, limit*p.pct/100)
}

// fallback is the gap between requests when responses carry no usable rate-limit headers.
func (p *pacer) fallback() time.Duration {
	return time.Minute / time.Duration(p.share(smallestLimit))
}

// observe records the response to a request sent at sent that arrived at now (client clock);
// serverNow is its Date header (zero if none), used so that a skewed client clock does not
// misplace the window's end; ok tells a page from an error answer; jitter is in [0,1). Gaps
// are measured from the previous request's start, so the time a request takes is part of
// its gap rather than added to it.
func (p *pacer) observe(rl RateLimit, serverNow, sent, now time.Time, ok bool, jitter float64) {
	if !rl.Valid {
		// A page without headers (a proxy that strips them?) sets a slow fixed pace. An error
		// answer without them, often from a load balancer, leaves the wait to the backoff.
		if ok {
			p.notBefore = sent.Add(p.fallback())
		}
		return
	}
	if rl.Concurrency() {
		return // says nothing about the window; the caller backs off
	}
	toReset := untilReset(rl.Reset, serverNow, now)
	share := p.share(rl.Limit)
	used := rl.Limit - rl.Remaining
	switch {
	case used >= share && toReset <= 0:
		// The window should have reset already but the server says it is spent: a stale or
		// skewed Reset. Go slowly rather than hammer it.
		p.notBefore = now.Add(p.fallback())
	case used >= share:
		p.notBefore = now.Add(toReset + resetSlack(jitter))
	case toReset <= 0:
		p.notBefore = now
	default:
		left := share - used
		end := now.Add(toReset)
		p.notBefore = sent.Add(end.Sub(sent) / time.Duration(left+1))
	}
}

// untilReset estimates the time left in the window. The response's Date measures it on the
// server's clock, immune to skew of ours; a Date that puts Reset outside any plausible window
// (a test server that dates its answers by another clock than its limiter's) is ignored.
func untilReset(reset, serverNow, now time.Time) time.Duration {
	if !serverNow.IsZero() {
		if d := reset.Sub(serverNow); d >= -time.Second && d <= maxResetWait {
			return max(d, 0)
		}
	}
	return min(reset.Sub(now), maxResetWait)
}

// delay is how long to wait at now before the next request.
func (p *pacer) delay(now time.Time) time.Duration {
	return max(p.notBefore.Sub(now), 0)
}

// resetSlack is added to a wait for a window's reset: Reset has whole-second precision, and
// clients that all wake at the same instant would collide.
func resetSlack(jitter float64) time.Duration {
	return 250*time.Millisecond + time.Duration(jitter*float64(750*time.Millisecond))
}

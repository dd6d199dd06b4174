// Package clock owns waiting: the real clock, a sleep that ends as soon as its context does,
// and the capped, jittered exponential backoff every retrying client uses.
package clock

import (
	"context"
	"math/rand/v2"
	"time"
)

// Clock is a view of time that tests can replace, so no test sleeps for real.
type Clock interface {
	Now() time.Time
	// Sleep waits for d, or returns ctx.Err() as soon as ctx ends.
	Sleep(ctx context.Context, d time.Duration) error
}

// Real is the wall clock.
type Real struct{}

// Now is time.Now.
func (Real) Now() time.Time { return time.Now() }

// Sleep is the package's Sleep.
func (Real) Sleep(ctx context.Context, d time.Duration) error { return Sleep(ctx, d) }

// Sleep waits for d, or returns ctx.Err() as soon as ctx ends (at once if it already has).
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff is the wait before retry n (from 0): first doubled n times, capped at limit, with
// the upper half random so that clients that failed together do not retry together.
func Backoff(n int, first, limit time.Duration) time.Duration {
	d := limit
	if n < 30 {
		d = min(first<<n, limit)
	}
	half := d / 2
	return half + rand.N(half+1)
}

package clock

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestSleepEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, Sleep(ctx, time.Hour), context.Canceled, "a cancelled context ends the wait at once")
	assert.ErrorIs(t, Sleep(ctx, 0), context.Canceled)
	assert.NoError(t, Sleep(context.Background(), 0))
	assert.NoError(t, Real{}.Sleep(context.Background(), time.Nanosecond))
}

func TestBackoffBounds(t *testing.T) {
	first, limit := 500*time.Millisecond, 30*time.Second
	for n := range 40 {
		want := limit
		if n < 30 {
			want = min(first<<n, limit)
		}
		for range 20 {
			d := Backoff(n, first, limit)
			assert.GreaterOrEqual(t, d, want/2, "n=%d", n)
			assert.LessOrEqual(t, d, want, "n=%d", n)
		}
	}
}

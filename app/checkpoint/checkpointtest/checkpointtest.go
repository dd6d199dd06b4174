// Package checkpointtest is the one behaviour suite every checkpoint.Store must pass, so the
// file store and the KV-store one cannot drift apart.
package checkpointtest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// OddKeys are stanza names a store must keep apart and round-trip: separators, spaces,
// non-ASCII, escapes and a name longer than any readable prefix.
var OddKeys = []string{
	"oktainput://prod",
	"oktainput://prod ",
	"oktainput:/prod",
	"oktainput://pröd",
	"oktainput://prod/../x",
	"a:b:",
	"with space and %2F and ?q=1#frag",
	`back\slash "quoted"`,
	"oktainput://" + strings.Repeat("x", 300),
	"oktainput://" + strings.Repeat("x", 300) + "y",
}

// Sample is a complete checkpoint for key.
func Sample(key string) *checkpoint.Checkpoint {
	return &checkpoint.Checkpoint{
		Version: checkpoint.Version, Stanza: key, OrgURL: "https://acme.okta.com", StartDate: "-7d",
		Filter: `eventType sw "user."`, Q: "",
		NextURL:       "https://acme.okta.com/api/v1/logs?after=1700000000000_1&limit=1000&sortOrder=ASCENDING",
		LastPublished: "2026-11-20T10:00:00.123Z", LastUUID: "u9", Seen: []string{"u8", "u9"},
		Events: 42, UpdatedAt: time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC),
	}
}

// Run checks the Store contract on fresh stores made by newStore.
func Run(t *testing.T, newStore func(t *testing.T) checkpoint.Store) {
	ctx := context.Background()

	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		_, err := s.Load(ctx, "oktainput://prod")
		require.ErrorIs(t, err, checkpoint.ErrNotFound)
		want := Sample("oktainput://prod")
		require.NoError(t, s.Save(ctx, "oktainput://prod", want))
		got, err := s.Load(ctx, "oktainput://prod")
		require.NoError(t, err)
		assert.Equal(t, want, got)
	})

	t.Run("NotFound", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.Save(ctx, "oktainput://a", Sample("oktainput://a")))
		_, err := s.Load(ctx, "oktainput://b")
		require.ErrorIs(t, err, checkpoint.ErrNotFound, "another key's checkpoint is not this one's")
		var ce *checkpoint.CorruptError
		assert.False(t, errors.As(err, &ce))
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := newStore(t)
		cp := Sample("k")
		require.NoError(t, s.Save(ctx, "k", cp))
		cp2 := Sample("k")
		cp2.Events, cp2.NextURL, cp2.Seen = 43, cp.NextURL+"&x=2", nil
		require.NoError(t, s.Save(ctx, "k", cp2))
		got, err := s.Load(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, cp2, got, "the second save replaces the first entirely (no merged seen list)")
	})

	t.Run("OddKeys", func(t *testing.T) {
		s := newStore(t)
		for i, k := range OddKeys {
			cp := Sample(k)
			cp.Events = int64(i)
			require.NoError(t, s.Save(ctx, k, cp), "key %q", k)
		}
		for i, k := range OddKeys {
			got, err := s.Load(ctx, k)
			require.NoError(t, err, "key %q", k)
			assert.Equal(t, k, got.Stanza)
			assert.EqualValues(t, i, got.Events, "key %q got another key's checkpoint", k)
		}
	})

	t.Run("Unusable", func(t *testing.T) {
		tests := []struct {
			name   string
			mutate func(*checkpoint.Checkpoint)
			want   string
		}{
			{"no version", func(cp *checkpoint.Checkpoint) { cp.Version = 0 }, "no format version"},
			{"newer version", func(cp *checkpoint.Checkpoint) { cp.Version = checkpoint.Version + 1 }, "upgrade the app"},
			{"other input", func(cp *checkpoint.Checkpoint) { cp.Stanza = "oktainput://other" }, `belongs to input "oktainput://other"`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				cp := Sample("k")
				tt.mutate(cp)
				require.NoError(t, s.Save(ctx, "k", cp))
				_, err := s.Load(ctx, "k")
				var ce *checkpoint.CorruptError
				require.True(t, errors.As(err, &ce), "want a CorruptError, got %v", err)
				assert.Contains(t, err.Error(), tt.want)
			})
		}
	})

	t.Run("ConcurrentKeys", func(t *testing.T) {
		s := newStore(t)
		const workers, saves = 8, 5
		var wg sync.WaitGroup
		errs := make(chan error, workers*saves)
		for w := range workers {
			wg.Go(func() {
				key := fmt.Sprintf("oktainput://w%d", w)
				for i := range saves {
					cp := Sample(key)
					cp.Events = int64(w*100 + i)
					if err := s.Save(ctx, key, cp); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		for w := range workers {
			key := fmt.Sprintf("oktainput://w%d", w)
			got, err := s.Load(ctx, key)
			require.NoError(t, err)
			assert.EqualValues(t, w*100+saves-1, got.Events, "key %s keeps its own last save", key)
		}
	})
}

// WriteRaw stores data as key's saved checkpoint text, bypassing Save's encoding.
type WriteRaw func(t *testing.T, key string, data []byte)

// RunRaw checks that checkpoint text a store can hold but not use (torn, garbage, wrong
// shape) loads as a *checkpoint.CorruptError, never as a fresh start.
func RunRaw(t *testing.T, newStore func(t *testing.T) (checkpoint.Store, WriteRaw)) {
	tests := []struct{ name, data, want string }{
		{"torn", `{"version":1,"stanza":"k","next_url":"https://acme.okta.com/api/v1/lo`, "unexpected EOF"},
		{"garbage", "\x00\x01not json", "invalid character"},
		{"array", `[1,2]`, "cannot unmarshal"},
		{"no version", `{"stanza":"k"}`, "no format version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, write := newStore(t)
			write(t, "k", []byte(tt.data))
			_, err := s.Load(context.Background(), "k")
			var ce *checkpoint.CorruptError
			require.True(t, errors.As(err, &ce), "want a CorruptError, got %v", err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

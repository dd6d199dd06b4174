package splunkd

import (
	"encoding/json"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/checkpoint/checkpointtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The checkpoint suite runs against checkpoint.KVStore over this client and a fake splunkd
// whose KV store answers the first call to each document with 503: saves and loads ride it out.
func TestCheckpointKVStoreOverSplunkd(t *testing.T) {
	var retried atomic.Int64
	newStore := func(t *testing.T) (*harness, checkpoint.Store) {
		h := newHarness(t)
		var mu sync.Mutex
		seen := map[string]bool{}
		h.srv.Lock()
		h.srv.KV[checkpoint.KVCollection] = map[string][]byte{}
		h.srv.Fail = func(r *http.Request) int {
			mu.Lock()
			defer mu.Unlock()
			if id := r.Method + " " + r.URL.Path; !seen[id] {
				seen[id] = true
				return http.StatusServiceUnavailable
			}
			return 0
		}
		h.srv.Unlock()
		t.Cleanup(func() { retried.Add(int64(len(h.sleeps.all()))) })
		return h, &checkpoint.KVStore{KV: h.c}
	}
	checkpointtest.Run(t, func(t *testing.T) checkpoint.Store {
		_, s := newStore(t)
		return s
	})
	checkpointtest.RunRaw(t, func(t *testing.T) (checkpoint.Store, checkpointtest.WriteRaw) {
		h, s := newStore(t)
		return s, func(t *testing.T, key string, data []byte) {
			doc, err := json.Marshal(map[string]string{"_key": s.(*checkpoint.KVStore).DocumentKey(key), "stanza": key, "checkpoint": string(data)})
			require.NoError(t, err)
			h.srv.Lock()
			h.srv.KV[checkpoint.KVCollection][s.(*checkpoint.KVStore).DocumentKey(key)] = doc
			h.srv.Unlock()
		}
	})
	assert.Positive(t, retried.Load(), "the 503s were retried")
}

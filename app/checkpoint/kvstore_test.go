package checkpoint_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
	"testing"

	"github.com/oktasight/oktasight/app/checkpoint"
	"github.com/oktasight/oktasight/app/checkpoint/checkpointtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeKV is an in-memory KV store with splunkd's semantics: documents are JSON, a missing
// one is fs.ErrNotExist, and Err (when set) fails every call.
type fakeKV struct {
	mu   sync.Mutex
	docs map[string][]byte // collection + "/" + key
	Err  error
}

func newFakeKV() *fakeKV { return &fakeKV{docs: map[string][]byte{}} }

func (f *fakeKV) KVGet(_ context.Context, coll, key string, v any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	doc, ok := f.docs[coll+"/"+key]
	if !ok {
		return fmt.Errorf("KV store collection %s: read %q: %w", coll, key, fs.ErrNotExist)
	}
	return json.Unmarshal(doc, v)
}

func (f *fakeKV) KVPut(_ context.Context, coll, key string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return f.Err
	}
	f.docs[coll+"/"+key] = doc
	return nil
}

func TestFileStoreSuite(t *testing.T) {
	checkpointtest.Run(t, func(t *testing.T) checkpoint.Store { return &checkpoint.FileStore{Dir: t.TempDir()} })
	checkpointtest.RunRaw(t, func(t *testing.T) (checkpoint.Store, checkpointtest.WriteRaw) {
		s := &checkpoint.FileStore{Dir: t.TempDir()}
		return s, func(t *testing.T, key string, data []byte) {
			require.NoError(t, os.WriteFile(s.Path(key), data, 0o600))
		}
	})
}

func TestKVStoreSuite(t *testing.T) {
	checkpointtest.Run(t, func(t *testing.T) checkpoint.Store { return &checkpoint.KVStore{KV: newFakeKV()} })
	checkpointtest.RunRaw(t, func(t *testing.T) (checkpoint.Store, checkpointtest.WriteRaw) {
		kv := newFakeKV()
		s := &checkpoint.KVStore{KV: kv}
		return s, func(t *testing.T, key string, data []byte) {
			doc, err := json.Marshal(map[string]string{"stanza": key, "checkpoint": string(data)})
			require.NoError(t, err)
			kv.docs[checkpoint.KVCollection+"/"+s.DocumentKey(key)] = doc
		}
	})
}

func TestKVStoreDocument(t *testing.T) {
	ctx := context.Background()
	kv := newFakeKV()
	s := &checkpoint.KVStore{KV: kv, Collection: "custom"}
	key := "oktainput://prod"
	require.NoError(t, s.Save(ctx, key, checkpointtest.Sample(key)))

	dk := s.DocumentKey(key)
	assert.Regexp(t, `^oktainput___prod-[0-9a-f]{8}$`, dk, "URL-safe, readable, hashed")
	raw, ok := kv.docs["custom/"+dk]
	require.True(t, ok, "saved under the configured collection: %v", kv.docs)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(raw, &doc))
	assert.Equal(t, key, doc["stanza"])
	assert.Equal(t, "2026-11-20T10:00:01Z", doc["updated_at"])
	assert.Contains(t, doc["checkpoint"], `"next_url":"https://acme.okta.com/api/v1/logs?after=`)
}

func TestKVStoreUnusableDocuments(t *testing.T) {
	ctx := context.Background()
	tests := []struct{ name, doc, want string }{
		{"no checkpoint field", `{"stanza":"k"}`, "holds no checkpoint"},
		{"checkpoint not text", `{"stanza":"k","checkpoint":{"version":1}}`, "cannot unmarshal"},
		{"not an object", `"just a string"`, "cannot unmarshal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := newFakeKV()
			s := &checkpoint.KVStore{KV: kv}
			kv.docs[checkpoint.KVCollection+"/"+s.DocumentKey("k")] = []byte(tt.doc)
			_, err := s.Load(ctx, "k")
			var ce *checkpoint.CorruptError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, "KV store oktasight_checkpoints/"+s.DocumentKey("k"), ce.Path)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestKVStoreFailuresAreNotFreshStarts(t *testing.T) {
	ctx := context.Background()
	kv := newFakeKV()
	kv.Err = errors.New("KV store collection oktasight_checkpoints: HTTP 503 Service Unavailable")
	s := &checkpoint.KVStore{KV: kv}
	_, err := s.Load(ctx, "k")
	require.Error(t, err)
	assert.NotErrorIs(t, err, checkpoint.ErrNotFound, "an unreachable KV store must stop the input, not restart it from start_date")
	assert.Contains(t, err.Error(), "503")
	err = s.Save(ctx, "k", checkpointtest.Sample("k"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "save checkpoint")
}

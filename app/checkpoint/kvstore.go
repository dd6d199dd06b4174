package checkpoint

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// KVCollection is the KV-store collection (default/collections.conf) that holds checkpoints.
const KVCollection = "oktasight_checkpoints"

// KV is the part of a splunkd client a KVStore needs (splunkd.Client has it). KVGet's error
// must match fs.ErrNotExist when the key has no document; KVPut replaces the whole document.
type KV interface {
	KVGet(ctx context.Context, collection, key string, v any) error
	KVPut(ctx context.Context, collection, key string, v any) error
}

// KVStore keeps checkpoints in splunkd's KV store, so an input can move between heavy
// forwarders or search-head-cluster members and resume where it stopped.
type KVStore struct {
	KV         KV
	Collection string // KVCollection when empty
}

// kvDocument is one checkpoint in the collection. The checkpoint is kept as its JSON text,
// not as KV fields, so it is validated exactly as a checkpoint file is and the KV store's
// type conversions never touch it.
type kvDocument struct {
	Stanza     string `json:"stanza"`
	Checkpoint string `json:"checkpoint"`
	UpdatedAt  string `json:"updated_at,omitempty"`
}

func (s *KVStore) collection() string {
	if s.Collection == "" {
		return KVCollection
	}
	return s.Collection
}

// DocumentKey is the _key of key's document: the same readable name plus hash a checkpoint
// file gets, so stanza names with '/', ':' or spaces need no escaping in KV-store URLs.
func (s *KVStore) DocumentKey(key string) string {
	return strings.TrimSuffix((&FileStore{}).Path(key), ".json")
}

// kvPrefix starts the Path of a KV-store checkpoint in errors.
const kvPrefix = "KV store "

func (s *KVStore) where(key string) string {
	return kvPrefix + s.collection() + "/" + s.DocumentKey(key)
}

// Load reads key's checkpoint.
func (s *KVStore) Load(ctx context.Context, key string) (*Checkpoint, error) {
	var raw json.RawMessage
	err := s.KV.KVGet(ctx, s.collection(), s.DocumentKey(key), &raw)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	var doc kvDocument
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, &CorruptError{Path: s.where(key), Err: err}
	}
	if doc.Checkpoint == "" {
		return nil, &CorruptError{Path: s.where(key), Err: errors.New("the document holds no checkpoint")}
	}
	return decode(s.where(key), key, []byte(doc.Checkpoint))
}

// Save writes key's checkpoint; the KV store replaces a document as a whole, so a reader
// sees the old or the new checkpoint, never a mix.
func (s *KVStore) Save(ctx context.Context, key string, cp *Checkpoint) error {
	data, err := encode(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	doc := kvDocument{Stanza: key, Checkpoint: string(data)}
	if !cp.UpdatedAt.IsZero() {
		doc.UpdatedAt = cp.UpdatedAt.UTC().Format(time.RFC3339Nano)
	}
	if err := s.KV.KVPut(ctx, s.collection(), s.DocumentKey(key), doc); err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	return nil
}

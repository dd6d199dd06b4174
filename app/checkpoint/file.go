package checkpoint

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// FileStore keeps one JSON file per key in Dir (splunkd's checkpoint_dir for the scheme).
type FileStore struct {
	Dir string

	// made says Dir was there at the last save: the next save skips MkdirAll's stat, a
	// measurable share of a save. A directory removed since is made again (see Save).
	made atomic.Bool
}

// Path is the file that holds key's checkpoint: a readable name plus a short hash, so two
// stanza names that differ only in characters a file name cannot hold never share a file.
func (s *FileStore) Path(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 100 {
			break
		}
	}
	sum := sha256.Sum256([]byte(key))
	return filepath.Join(s.Dir, b.String()+"-"+hex.EncodeToString(sum[:4])+".json")
}

// Load reads key's checkpoint.
func (s *FileStore) Load(_ context.Context, key string) (*Checkpoint, error) {
	path := s.Path(key)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	return decode(path, key, data)
}

func decode(path, key string, data []byte) (*Checkpoint, error) {
	var cp Checkpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&cp); err != nil {
		return nil, &CorruptError{Path: path, Err: err}
	}
	switch {
	case cp.Version < 1:
		return nil, &CorruptError{Path: path, Err: errors.New("no format version")}
	case cp.Version > Version:
		return nil, &CorruptError{Path: path, Err: fmt.Errorf("format version %d is newer than this oktainput understands (%d): upgrade the app", cp.Version, Version)}
	case cp.Stanza != "" && cp.Stanza != key:
		return nil, &CorruptError{Path: path, Err: fmt.Errorf("it belongs to input %q, not %q", cp.Stanza, key)}
	}
	return &cp, nil
}

// Save writes key's checkpoint atomically: a temporary file in the same directory, fsynced,
// renamed over the old one, and (where the system allows it: file_*.go) the directory fsynced
// so the rename survives a power cut.
func (s *FileStore) Save(_ context.Context, key string, cp *Checkpoint) error {
	if !s.made.Load() {
		if err := os.MkdirAll(s.Dir, 0o700); err != nil {
			return fmt.Errorf("checkpoint directory: %w", err)
		}
		s.made.Store(true)
	}
	data, err := encode(cp)
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	data = append(data, '\n')
	path := s.Path(key)
	pattern := ".tmp-" + filepath.Base(path) + "-*"
	tmp, err := os.CreateTemp(s.Dir, pattern)
	if errors.Is(err, fs.ErrNotExist) {
		// The directory went away since the last save (an admin cleaning up?): make it again.
		if err := os.MkdirAll(s.Dir, 0o700); err != nil {
			return fmt.Errorf("checkpoint directory: %w", err)
		}
		tmp, err = os.CreateTemp(s.Dir, pattern)
	}
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	if err := replace(tmp.Name(), path); err != nil {
		return fmt.Errorf("save checkpoint %s: %w", path, err)
	}
	done = true
	if err := syncDir(s.Dir); err != nil {
		return fmt.Errorf("sync checkpoint directory %s: %w", s.Dir, err)
	}
	return nil
}

package checkpoint

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sample(key string) *Checkpoint {
	return &Checkpoint{
		Version: Version, Stanza: key, OrgURL: "https://acme.okta.com", StartDate: "-7d",
		NextURL:       "https://acme.okta.com/api/v1/logs?after=1700000000000_1&limit=1000&sortOrder=ASCENDING",
		LastPublished: "2026-11-20T10:00:00.123Z", LastUUID: "u9", Seen: []string{"u8", "u9"},
		Events: 42, UpdatedAt: time.Date(2026, 11, 20, 10, 0, 1, 0, time.UTC),
	}
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: filepath.Join(t.TempDir(), "nested", "dir")}
	_, err := s.Load(ctx, "oktainput://prod")
	require.ErrorIs(t, err, ErrNotFound)

	want := sample("oktainput://prod")
	require.NoError(t, s.Save(ctx, "oktainput://prod", want))
	got, err := s.Load(ctx, "oktainput://prod")
	require.NoError(t, err)
	assert.Equal(t, want, got)

	want.Events = 43
	require.NoError(t, s.Save(ctx, "oktainput://prod", want))
	got, err = s.Load(ctx, "oktainput://prod")
	require.NoError(t, err)
	assert.EqualValues(t, 43, got.Events)

	entries, err := os.ReadDir(s.Dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestFileStorePathsDoNotCollide(t *testing.T) {
	s := &FileStore{Dir: "/cp"}
	keys := []string{"oktainput://prod", "oktainput://prod ", "oktainput:/prod", "oktainput://pröd", "oktainput://prod/../x"}
	seen := map[string]string{}
	for _, k := range keys {
		p := s.Path(k)
		assert.Equal(t, "/cp", filepath.Dir(p), "key %q stays inside the directory", k)
		if other, dup := seen[p]; dup {
			t.Errorf("keys %q and %q share %s", k, other, p)
		}
		seen[p] = k
	}
}

func TestFileStoreRefusesUnusableCheckpoints(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name, content, want string
	}{
		{"torn", `{"version":1,"stanza":"k","next_url":"https://acme.okta.com/api/v1/lo`, "unexpected EOF"},
		{"garbage", "\x00\x01not json", "invalid character"},
		{"no version", `{"stanza":"k"}`, "no format version"},
		{"newer", `{"version":99,"stanza":"k"}`, "upgrade the app"},
		{"other input", `{"version":1,"stanza":"other"}`, `belongs to input "other"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &FileStore{Dir: t.TempDir()}
			require.NoError(t, os.WriteFile(s.Path("k"), []byte(tt.content), 0o600))
			_, err := s.Load(ctx, "k")
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "got %v", err)
			assert.Equal(t, s.Path("k"), ce.Path)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "move the file away")
		})
	}
}

func TestFileStoreSaveFailsLoudly(t *testing.T) {
	dir := t.TempDir()
	blocker := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	s := &FileStore{Dir: filepath.Join(blocker, "sub")}
	err := s.Save(context.Background(), "k", sample("k"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "checkpoint directory")
}

func TestSeen(t *testing.T) {
	s := NewSeen(2, 5)
	s.AddPage([]string{"a", "b"})
	s.AddPage([]string{"c", "d"})
	assert.True(t, s.Contains("a"))
	s.AddPage([]string{"e"})
	assert.False(t, s.Contains("a"), "only the last two pages are kept")
	assert.Equal(t, []string{"c", "d", "e"}, s.List())

	s.AddPage([]string{"f", "g", "h", "i"})
	assert.Equal(t, []string{"e", "f", "g", "h", "i"}, s.List())
	s.AddPage([]string{"j"})
	assert.Equal(t, []string{"f", "g", "h", "i", "j"}, s.List(), "the last two pages")

	big := NewSeen(2, 3)
	big.AddPage([]string{"1", "2", "3", "4", "5"})
	assert.Equal(t, []string{"3", "4", "5"}, big.List(), "a page larger than the bound keeps its newest uuids")

	r := NewSeen(2, 3)
	r.LoadList([]string{"x", "y", "z", "w"})
	assert.Equal(t, []string{"y", "z", "w"}, r.List())
	assert.True(t, r.Contains("w"))
	assert.False(t, r.Contains("x"))
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"version":1,"stanza":"k","next_url":"x","seen":["a"]}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := decode("p", "k", data)
		if err == nil {
			if cp.Version < 1 || cp.Version > Version {
				t.Fatalf("accepted version %d", cp.Version)
			}
			return
		}
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Fatalf("error is not a CorruptError: %v", err)
		}
	})
}

func TestCorruptErrorSaysWhatToDo(t *testing.T) {
	file := &CorruptError{Path: "/cp/prod.json", Err: errors.New("bad")}
	assert.Contains(t, file.Error(), "move the file away")
	kv := &CorruptError{Path: kvPrefix + "oktasight_checkpoints/prod-1a2b", Err: errors.New("bad")}
	assert.Contains(t, kv.Error(), "delete that document from the collection")
	assert.NotContains(t, kv.Error(), "move the file")
}

// A uuid served on two pages stays known until the newer page is forgotten too.
func TestSeenUUIDOnTwoPages(t *testing.T) {
	s := NewSeen(2, 100)
	s.AddPage([]string{"a", "b"})
	s.AddPage([]string{"b", "c"})
	s.AddPage([]string{"d"})
	assert.False(t, s.Contains("a"))
	assert.True(t, s.Contains("b"), "still on the newer remembered page")
	s.AddPage([]string{"e"})
	assert.False(t, s.Contains("b"))
	assert.Equal(t, []string{"d", "e"}, s.List())
}

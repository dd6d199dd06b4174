package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/okta"
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
	s.AddPage([]string{"a", "b"}, time.Time{})
	s.AddPage([]string{"c", "d"}, time.Time{})
	assert.True(t, s.Contains("a", time.Time{}))
	s.AddPage([]string{"e"}, time.Time{})
	assert.False(t, s.Contains("a", time.Time{}), "only the last two pages are kept")
	assert.Equal(t, []string{"c", "d", "e"}, s.List())

	s.AddPage([]string{"f", "g", "h", "i"}, time.Time{})
	assert.Equal(t, []string{"e", "f", "g", "h", "i"}, s.List())
	s.AddPage([]string{"j"}, time.Time{})
	assert.Equal(t, []string{"f", "g", "h", "i", "j"}, s.List(), "the last two pages")

	big := NewSeen(2, 3)
	big.AddPage([]string{"1", "2", "3", "4", "5"}, time.Time{})
	assert.Equal(t, []string{"3", "4", "5"}, big.List(), "a page larger than the bound keeps its newest uuids")

	r := NewSeen(2, 3)
	r.LoadList([]string{"x", "y", "z", "w"})
	assert.Equal(t, []string{"y", "z", "w"}, r.List())
	assert.True(t, r.Contains("w", time.Time{}))
	assert.False(t, r.Contains("x", time.Time{}))
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
	s.AddPage([]string{"a", "b"}, time.Time{})
	s.AddPage([]string{"b", "c"}, time.Time{})
	s.AddPage([]string{"d"}, time.Time{})
	assert.False(t, s.Contains("a", time.Time{}))
	assert.True(t, s.Contains("b", time.Time{}), "still on the newer remembered page")
	s.AddPage([]string{"e"}, time.Time{})
	assert.False(t, s.Contains("b", time.Time{}))
	assert.Equal(t, []string{"d", "e"}, s.List())
}

// A page's newest time answers for events published after it without a lookup; at the
// boundary millisecond, with no time, and after many lookups (an index) the answer is exact.
func TestSeenUsesPublishedTimes(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s := NewSeen(2, 1999)
	var page []string
	for i := range 1000 {
		page = append(page, fmt.Sprintf("u%04d", i))
	}
	s.AddPage(page, t0)
	tests := []struct {
		uuid      string
		published time.Time
		want      bool
	}{
		{"u0999", t0, true},                        // same millisecond as the page's newest event
		{"u0000", t0.Add(-time.Hour), true},        // older: looked up
		{"u0500", time.Time{}, true},               // time unknown: looked up
		{"u1000", t0, false},                       // not there
		{"u0999", t0.Add(time.Millisecond), false}, // newer than the whole page: never on it
	}
	for round := range 5 { // 4 lookups a round: the fifth round is answered by the index
		for _, tt := range tests {
			assert.Equal(t, tt.want, s.Contains(tt.uuid, tt.published), "round %d: %s at %v", round, tt.uuid, tt.published)
		}
	}
	require.NotNil(t, s.pages[0].index, "a page looked up often builds its index")

	// Trimming the oldest uuids drops the index with them.
	var second []string
	for i := range 1498 {
		second = append(second, fmt.Sprintf("v%04d", i))
	}
	s.AddPage(second, t0.Add(time.Second)) // 2498 in all: the first page's oldest 499 go
	assert.Nil(t, s.pages[0].index)
	for round := range 20 {
		assert.False(t, s.Contains("u0000", t0), "round %d: trimmed away", round)
		assert.False(t, s.Contains("u0498", time.Time{}), "round %d: trimmed away", round)
		assert.True(t, s.Contains("u0499", t0), "round %d", round)
		assert.True(t, s.Contains("v1497", t0.Add(time.Second)), "round %d", round)
	}
}

// AddEvents remembers a page's uuids with its latest published time, as AddPage does.
func TestSeenAddEvents(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s := NewSeen(2, 100)
	s.AddEvents(nil) // an empty page adds nothing
	s.AddEvents([]okta.Event{{UUID: "a", Published: t0.Add(time.Second)}, {UUID: "b", Published: t0}})
	assert.Equal(t, []string{"a", "b"}, s.List())
	assert.True(t, s.Contains("a", t0.Add(time.Second)))
	assert.True(t, s.Contains("b", t0))
	assert.False(t, s.Contains("a", t0.Add(2*time.Second)), "newer than the page's latest event")
	s.AddEvents([]okta.Event{{UUID: "c", Published: t0}})
	s.AddEvents([]okta.Event{{UUID: "d", Published: t0}})
	assert.Equal(t, []string{"c", "d"}, s.List(), "only the last two pages are kept")
}

// A save after the first skips making the directory; should the directory have been removed
// meanwhile, the save makes it again rather than fail.
func TestFileStoreRemakesARemovedDirectory(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: filepath.Join(t.TempDir(), "cp")}
	require.NoError(t, s.Save(ctx, "k", sample("k")))
	require.NoError(t, os.RemoveAll(s.Dir))
	want := sample("k")
	want.Events = 44
	require.NoError(t, s.Save(ctx, "k", want))
	got, err := s.Load(ctx, "k")
	require.NoError(t, err)
	assert.EqualValues(t, 44, got.Events)
	st, err := os.Stat(s.Dir)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), st.Mode().Perm())
}

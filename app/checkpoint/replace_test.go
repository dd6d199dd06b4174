package checkpoint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// looseTempDir is t.TempDir without failing the test when removal fails: wine 8 (make
// wine-check runs these tests on Windows builds there) lacks the file-disposition call Go
// 1.26's RemoveAll uses, so t.TempDir's cleanup would fail every test that ran under it.
func looseTempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "checkpoint-test-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// TestFileStoreSavesOverAnExistingCheckpoint is the save an input makes after every page:
// the new checkpoint replaces the old one and no temporary file stays behind. On Windows the
// rename is MoveFileEx over an existing file, and the directory cannot be fsynced.
func TestFileStoreSavesOverAnExistingCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: filepath.Join(looseTempDir(t), "cp")}
	for events := int64(1); events <= 3; events++ {
		cp := sample("oktainput://prod")
		cp.Events = events
		require.NoError(t, s.Save(ctx, "oktainput://prod", cp), "save %d", events)
		got, err := s.Load(ctx, "oktainput://prod")
		require.NoError(t, err)
		assert.Equal(t, events, got.Events)
	}
	entries, err := os.ReadDir(s.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1, "only the checkpoint itself")
	assert.Equal(t, filepath.Base(s.Path("oktainput://prod")), entries[0].Name())
	raw, err := os.ReadFile(s.Path("oktainput://prod"))
	require.NoError(t, err)
	assert.False(t, strings.Contains(string(raw), "\r"), "the checkpoint's line ends are LF on every platform")
}

// TestFileStoreSavesWhileTheCheckpointIsOpen: another process (a virus scanner, an admin's
// editor) reading the checkpoint must not fail the save. Windows refuses a rename over a file
// opened without FILE_SHARE_DELETE, which is how Go and most programs open files, until it is
// closed; POSIX systems rename at once.
func TestFileStoreSavesWhileTheCheckpointIsOpen(t *testing.T) {
	ctx := context.Background()
	s := &FileStore{Dir: looseTempDir(t)}
	require.NoError(t, s.Save(ctx, "k", sample("k")))
	reader, err := os.Open(s.Path("k"))
	require.NoError(t, err)
	released := make(chan struct{})
	go func() {
		time.Sleep(300 * time.Millisecond)
		reader.Close()
		close(released)
	}()
	want := sample("k")
	want.Events = 77
	require.NoError(t, s.Save(ctx, "k", want), "the save waits for the reader instead of failing")
	<-released
	got, err := s.Load(ctx, "k")
	require.NoError(t, err)
	assert.EqualValues(t, 77, got.Events)
}

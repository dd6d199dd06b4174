package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// watchRole makes the test binary a helper process of TestWatchParentStopsWhenParentExits.
const watchRole = "OKTAINPUT_TEST_WATCH_ROLE"

// TestWatchParentStopsWhenParentExits runs a real process tree: the test starts a "parent",
// which starts a "child" that watches it and then exits, as splunkd does when it crashes.
// The child must see its context cancelled. The same test runs on Linux and, under wine,
// on Windows (make wine-check).
func TestWatchParentStopsWhenParentExits(t *testing.T) {
	if role := os.Getenv(watchRole); role != "" {
		watchHelper(role, os.Getenv("OKTAINPUT_TEST_WATCH_FILE"))
		return
	}
	exe, err := os.Executable()
	require.NoError(t, err)
	// Not t.TempDir: under wine 8 its cleanup fails (see app/checkpoint's looseTempDir).
	dir, err := os.MkdirTemp("", "oktainput-watch-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "watch")
	parent := exec.Command(exe, "-test.run=^TestWatchParentStopsWhenParentExits$")
	parent.Env = append(os.Environ(), watchRole+"=parent", "OKTAINPUT_TEST_WATCH_FILE="+file)
	out, err := parent.CombinedOutput()
	require.NoError(t, err, "parent: %s", out)

	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := os.ReadFile(file)
		if strings.Contains(string(got), "stopped") {
			return
		}
		if strings.Contains(string(got), "timeout") || time.Now().After(deadline) {
			t.Fatalf("the child did not stop after its parent exited; its log: %q", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// watchHelper is the parent (starts the child, waits until it watches, exits) or the child
// (watches, then writes "stopped" when its context ends, "timeout" if it never does).
func watchHelper(role, file string) {
	switch role {
	case "parent":
		exe, _ := os.Executable()
		child := exec.Command(exe, "-test.run=^TestWatchParentStopsWhenParentExits$")
		child.Env = append(os.Environ(), watchRole+"=child")
		if err := child.Start(); err != nil {
			os.Exit(2)
		}
		for i := 0; i < 400; i++ { // the child writes "watching" once its watch is set
			if b, _ := os.ReadFile(file); strings.Contains(string(b), "watching") {
				os.Exit(0)
			}
			time.Sleep(50 * time.Millisecond)
		}
		os.Exit(3)
	case "child":
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		ctx, stop := watchParent(context.Background(), log)
		defer stop()
		_ = os.WriteFile(file, []byte("watching\n"), 0o600)
		select {
		case <-ctx.Done():
			_ = os.WriteFile(file, []byte("watching\nstopped\n"), 0o600)
		case <-time.After(30 * time.Second):
			_ = os.WriteFile(file, []byte("watching\ntimeout\n"), 0o600)
		}
		os.Exit(0)
	}
}

// TestWatchParentKeepsRunningWithItsParent: a child whose parent (this test) lives on keeps
// running.
func TestWatchParentKeepsRunningWithItsParent(t *testing.T) {
	exe, err := os.Executable()
	require.NoError(t, err)
	dir, err := os.MkdirTemp("", "oktainput-watch-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	file := filepath.Join(dir, "watch")
	child := exec.Command(exe, "-test.run=^TestWatchParentStopsWhenParentExits$")
	child.Env = append(os.Environ(), watchRole+"=child", "OKTAINPUT_TEST_WATCH_FILE="+file)
	require.NoError(t, child.Start())
	t.Cleanup(func() { child.Process.Kill(); child.Wait() })
	for i := 0; ; i++ {
		if b, _ := os.ReadFile(file); strings.Contains(string(b), "watching") {
			break
		}
		require.Less(t, i, 400, "the child never started watching")
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(3 * parentCheckEvery)
	got, _ := os.ReadFile(file)
	assert.Equal(t, "watching\n", string(got), "the child stopped although its parent is alive")
}

func TestWatchParentCancel(t *testing.T) {
	ctx, stop := watchParent(context.Background(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	stop()
	require.Error(t, ctx.Err(), "stop cancels the context")
}

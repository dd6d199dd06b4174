package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/oktasim"
)

// buildBinary compiles oktainput once for the process-level tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "oktainput")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

type simOrg struct {
	srv    *oktasim.Server
	url    string
	caFile string
	events [][]byte
}

func newSimOrg(t *testing.T, n int) *simOrg {
	t.Helper()
	events := oktasim.Generate(oktasim.GenOptions{Users: 300, Events: n, Start: time.Now().Add(-48 * time.Hour).Truncate(time.Hour), Span: 24 * time.Hour, Seed: 7})
	srv, err := oktasim.NewServer(oktasim.Options{Token: token, RateLimit: 1_000_000}, events)
	require.NoError(t, err)
	hs := httptest.NewTLSServer(srv)
	t.Cleanup(hs.Close)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600))
	return &simOrg{srv: srv, url: hs.URL, caFile: ca, events: events}
}

func (o *simOrg) command(bin, dir string) *exec.Cmd {
	cmd := exec.Command(bin, "run", "--org-url", o.url, "--ca-file", o.caFile, "--checkpoint-dir", filepath.Join(dir, "cp"),
		"--out", filepath.Join(dir, "events.ndjson"), "--start-date", "-7d", "--page-limit", "1000", "--once")
	cmd.Env = []string{"OKTA_API_TOKEN=" + token}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	return cmd
}

// delivered counts each uuid in the output file and checks every line is a whole event.
func delivered(t *testing.T, path string) (counts map[string]int, lines int) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	counts = map[string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev struct {
			UUID string `json:"uuid"`
		}
		require.NoError(t, json.Unmarshal(sc.Bytes(), &ev), "line %d is a whole event", lines+1)
		counts[ev.UUID]++
		lines++
	}
	require.NoError(t, sc.Err())
	return counts, lines
}

func uuidOf(t *testing.T, raw []byte) string {
	var ev struct {
		UUID string `json:"uuid"`
	}
	require.NoError(t, json.Unmarshal(raw, &ev))
	return ev.UUID
}

// TestCrashSafety kills the real binary with SIGKILL at random moments while it catches up a
// backlog, then lets it finish: every event must be in the output, and a kill may repeat at
// most the one page that was in hand.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	const total, kills, page = 100_000, 20, 1000
	bin := buildBinary(t)
	org := newSimOrg(t, total)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	landed := 0
	for i := 0; i < kills; i++ {
		cmd := org.command(bin, dir)
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(30+rng.IntN(120)) * time.Millisecond):
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			<-done
			landed++
		case err := <-done:
			require.NoError(t, err, "run %d ended on its own: %s", i, cmd.Stderr)
		}
	}
	cmd := org.command(bin, dir)
	require.NoError(t, cmd.Run(), "final run: %s", cmd.Stderr)

	counts, lines := delivered(t, filepath.Join(dir, "events.ndjson"))
	missing := 0
	for _, raw := range org.events {
		if counts[uuidOf(t, raw)] == 0 {
			missing++
		}
	}
	require.Zero(t, missing, "every event is delivered")
	require.Len(t, counts, total, "no event that Okta did not send")
	dups := lines - total
	t.Logf("%d SIGKILLs landed; %d duplicate lines (bound %d)", landed, dups, landed*page)
	assert.LessOrEqual(t, dups, landed*page, "a kill repeats at most the page in hand")
	assert.Positive(t, landed, "the test must actually kill the input mid-run")
}

// TestGracefulStopHasNoDuplicates sends SIGTERM repeatedly: each stop finishes the page in
// hand and saves the checkpoint, so nothing is ever delivered twice.
func TestGracefulStopHasNoDuplicates(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	const total = 30_000
	bin := buildBinary(t)
	org := newSimOrg(t, total)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(3, 4))
	stopped := 0
	for i := 0; i < 8; i++ {
		cmd := org.command(bin, dir)
		require.NoError(t, cmd.Start())
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-time.After(time.Duration(40+rng.IntN(100)) * time.Millisecond):
			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			err := <-done
			require.NoError(t, err, "SIGTERM exits 0: %s", cmd.Stderr)
			stopped++
		case err := <-done:
			require.NoError(t, err, fmt.Sprint(cmd.Stderr))
		}
	}
	cmd := org.command(bin, dir)
	require.NoError(t, cmd.Run(), "final run: %s", cmd.Stderr)
	counts, lines := delivered(t, filepath.Join(dir, "events.ndjson"))
	assert.Len(t, counts, total)
	assert.Equal(t, total, lines, "no duplicates after %d graceful stops", stopped)
}

package main

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Memory bounds after an oversized answer (a hostile server or a broken proxy): the peak while
// a 2 GiB page streams in, and what a long-running input keeps afterwards.
const (
	maxPeakMiB     = 400
	maxRetainedMiB = 100
	retainWithin   = 60 * time.Second
	hugePage       = 2 << 30
)

// TestOversizedPageMemory runs the real binary, polling, against an org whose first answer is
// a 2 GiB page (streamed, or a gzip bomb of it); the page is refused, retried, and the next
// answer is a normal page. The binary's VmHWM must stay within maxPeakMiB, and its VmRSS must
// fall to maxRetainedMiB within retainWithin, read from /proc/<pid>/status.
func TestOversizedPageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams gigabytes to the real binary")
	}
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc/<pid>/status (Linux)")
	}
	bin := goBuild(t, "oktainput", ".")
	for _, tt := range []struct {
		name string
		gzip bool
	}{{"2 GiB page", false}, {"gzip bomb", true}} {
		t.Run(tt.name, func(t *testing.T) {
			org := newHugeOrg(t, tt.gzip)
			dir := t.TempDir()
			cmd := exec.Command(bin, "run", "--org-url", org.srv.URL, "--ca-file", writeCA(t, org.srv),
				"--checkpoint-dir", filepath.Join(dir, "cp"), "--out", filepath.Join(dir, "events.ndjson"),
				"--start-date", "-1d", "--poll-interval", "1")
			cmd.Env = []string{"OKTA_API_TOKEN=" + token}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			t.Cleanup(func() { _ = cmd.Process.Kill() })

			// Wait until the normal page is written and Okta was asked again: caught up.
			deadline := time.Now().Add(2 * time.Minute)
			for org.servedAfterHuge() < 2 {
				require.True(t, time.Now().Before(deadline), "not caught up within 2 minutes: %s", &stderr)
				select {
				case err := <-done:
					t.Fatalf("oktainput ended: %v: %s", err, &stderr) // Wait has returned: stderr is complete
				case <-time.After(50 * time.Millisecond):
				}
			}
			caughtUp := time.Now()
			var rss int
			for {
				rss = procStatusKiB(t, cmd.Process.Pid, "VmRSS") >> 10
				if rss <= maxRetainedMiB || time.Since(caughtUp) > retainWithin {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			peak := procStatusKiB(t, cmd.Process.Pid, "VmHWM") >> 10
			t.Logf("%s: peak VmHWM %d MiB; VmRSS %d MiB %.1f s after catching up; %d MiB of the huge page (uncompressed) written",
				tt.name, peak, rss, time.Since(caughtUp).Seconds(), org.hugeSent()>>20)
			assert.LessOrEqual(t, peak, maxPeakMiB, "peak RSS while the huge page streamed (MiB)")
			assert.LessOrEqual(t, rss, maxRetainedMiB, "RSS kept %s after the huge page (MiB)", retainWithin)

			require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
			select {
			case err := <-done:
				require.NoError(t, err, "stops with exit 0: %s", &stderr)
			case <-time.After(30 * time.Second):
				t.Fatal("did not stop within 30 s of SIGTERM")
			}
			assert.Contains(t, stderr.String(), "WARN oktainput retry", "the huge page is refused and retried")
			assert.NotContains(t, stderr.String(), "ERROR")
		})
	}
}

// procStatusKiB reads one "Name: N kB" line of /proc/<pid>/status.
func procStatusKiB(t *testing.T, pid int, name string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	require.NoError(t, err)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err, line)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", name, pid)
	return 0
}

// hugeOrg answers its first request with a 2 GiB page of events, then a page of ten events,
// then empty pages.
type hugeOrg struct {
	srv  *httptest.Server
	gzip bool

	mu       sync.Mutex
	requests int
	sent     int64 // bytes of the huge page written
}

func newHugeOrg(t *testing.T, gz bool) *hugeOrg {
	o := &hugeOrg{gzip: gz}
	o.srv = httptest.NewTLSServer(http.HandlerFunc(o.serve))
	t.Cleanup(o.srv.Close)
	return o
}

func (o *hugeOrg) servedAfterHuge() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.requests - 1
}

func (o *hugeOrg) hugeSent() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sent
}

// eventRun is about size bytes of events, each followed by a comma: part of a page that
// never ends.
func eventRun(size int) []byte {
	var b bytes.Buffer
	pad := strings.Repeat("x", 900)
	for i := 0; b.Len() < size-2048; i++ {
		fmt.Fprintf(&b, `{"uuid":"huge-%07d","published":"2026-11-20T08:00:00.000Z","eventType":"user.session.start","pad":"%s"},`, i, pad)
	}
	return b.Bytes()
}

// gzipMember compresses b as one gzip member; members written one after another are one
// stream to a reader, so a few kilobytes stand for gigabytes.
func gzipMember(b []byte) []byte {
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return out.Bytes()
}

var (
	hugeRun     = sync.OnceValue(func() []byte { return eventRun(16 << 20) })
	hugeRunGzip = sync.OnceValues(func() ([]byte, int) { // compressed and uncompressed sizes
		run := eventRun(1 << 20)
		return gzipMember(run), len(run)
	})
)

func (o *hugeOrg) serve(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.requests++
	n := o.requests
	o.mu.Unlock()
	if r.Header.Get("Authorization") != "SSWS "+token {
		http.Error(w, `{"errorCode":"E0000011"}`, http.StatusUnauthorized)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Rate-Limit-Limit", "10000") // a large budget: no pacing between requests
	w.Header().Set("X-Rate-Limit-Remaining", "9999")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(time.Minute).Unix(), 10))
	w.Header().Set("Link", fmt.Sprintf(`<https://%s/api/v1/logs?after=%d>; rel="next"`, r.Host, n))
	switch {
	case n == 1:
		o.streamHuge(w)
	case n == 2:
		var b strings.Builder
		b.WriteByte('[')
		for i := range 10 {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"uuid":"small-%d","published":"2026-11-20T08:00:%02d.000Z","eventType":"user.session.start"}`, i, i)
		}
		b.WriteByte(']')
		_, _ = w.Write([]byte(b.String()))
	default:
		_, _ = w.Write([]byte("[]"))
	}
}

// streamHuge writes a page of hugePage bytes (uncompressed), or until the client hangs up.
func (o *hugeOrg) streamHuge(w http.ResponseWriter) {
	chunk, open := hugeRun(), []byte("[")
	size := len(chunk)
	if o.gzip {
		w.Header().Set("Content-Encoding", "gzip")
		chunk, size = hugeRunGzip()
		open = gzipMember(open)
	}
	if _, err := w.Write(open); err != nil {
		return
	}
	for sent := 0; sent < hugePage; sent += size {
		if _, err := w.Write(chunk); err != nil {
			return
		}
		o.mu.Lock()
		o.sent += int64(size)
		o.mu.Unlock()
	}
}

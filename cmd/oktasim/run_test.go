package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const token = "00cmd-test-token"

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGenerate(t *testing.T) {
	dir := t.TempDir()
	run := func(name string, extra ...string) []byte {
		out := filepath.Join(dir, name)
		args := append([]string{"generate", "-events", "250", "-users", "20", "-seed", "4", "-out", out}, extra...)
		var stderr bytes.Buffer
		require.Equal(t, 0, Run(t.Context(), args, io.Discard, &stderr, env(nil)), stderr.String())
		b, err := os.ReadFile(out)
		require.NoError(t, err)
		return b
	}
	a, b := run("a.ndjson"), run("b.ndjson")
	assert.Equal(t, a, b, "same seed, same bytes")
	lines := strings.Split(strings.TrimSuffix(string(a), "\n"), "\n")
	require.Len(t, lines, 250)
	for _, l := range lines {
		require.True(t, json.Valid([]byte(l)), l)
	}
	assert.Contains(t, lines[0], `"published":"2026-11-20T`, "the default start is fixed")

	c := run("c.ndjson", "-start", "2025-01-02T00:00:00Z", "-span", "1h")
	assert.Contains(t, string(c), `"published":"2025-01-02T00:`)
	assert.NotContains(t, string(c), `"published":"2025-01-02T01:`)

	var stdout bytes.Buffer
	require.Equal(t, 0, Run(t.Context(), []string{"generate", "-events", "3"}, &stdout, io.Discard, env(nil)))
	assert.Equal(t, 3, strings.Count(stdout.String(), "\n"), "stdout without -out")
}

func TestUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"no command", nil, nil, "usage"},
		{"unknown command", []string{"fly"}, nil, "unknown command"},
		{"unknown flag", []string{"generate", "-bogus"}, nil, "bogus"},
		{"bad start", []string{"generate", "-start", "yesterday"}, nil, "-start"},
		{"no token", []string{"serve"}, nil, "OKTASIM_TOKEN is empty"},
		{"other token env", []string{"serve", "-token-env", "MY_TOKEN"}, map[string]string{"OKTASIM_TOKEN": "x"}, "MY_TOKEN is empty"},
		{"bad faults", []string{"serve", "-faults", "500:2"}, map[string]string{"OKTASIM_TOKEN": token}, "fault"},
		{"ca-out without tls", []string{"serve", "-ca-out", "x.pem"}, map[string]string{"OKTASIM_TOKEN": token}, "-ca-out needs -tls"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			assert.Equal(t, 2, Run(t.Context(), tt.args, io.Discard, &stderr, env(tt.env)))
			assert.Contains(t, stderr.String(), tt.want)
			assert.NotContains(t, stderr.String(), token)
		})
	}
}

func TestParseStart(t *testing.T) {
	now := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Time
		ok   bool
	}{
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), true},
		{"-30m", now.Add(-30 * time.Minute), true},
		{"-12h", now.Add(-12 * time.Hour), true},
		{"-7d", now.Add(-7 * 24 * time.Hour), true},
		{"-2w", now.Add(-14 * 24 * time.Hour), true},
		{"-7x", time.Time{}, false},
		{"7d", time.Time{}, false},
		{"-d", time.Time{}, false},
		{"", time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseStart(tt.in, now)
		if !tt.ok {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Equal(got), "%s: %s", tt.in, got)
	}
}

// TestServe runs the server as demo.sh does: TLS, CA file, token from the environment, the
// one stdout line; then a signal (context cancel) ends it with exit 0 and stats on stderr.
func TestServe(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	outR, outW := io.Pipe()
	var stderr safeBuffer
	code := make(chan int, 1)
	go func() {
		code <- Run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-tls", "-ca-out", ca, "-token-env", "OKTA_API_TOKEN",
			"-backlog", "1500", "-users", "30", "-seed", "7", "-limit", "600", "-start", "-1d"},
			outW, &stderr, env(map[string]string{"OKTA_API_TOKEN": token}))
		outW.Close()
	}()
	line, err := bufio.NewReader(outR).ReadString('\n')
	require.NoError(t, err, stderr.String())
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "oktasim listening on ")
	require.True(t, ok, line)
	assert.Regexp(t, `^https://127\.0\.0\.1:\d+$`, url)

	pem, err := os.ReadFile(ca)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(pem))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	next := url + "/api/v1/logs?since=" + time.Now().Add(-25*time.Hour).UTC().Format(time.RFC3339) + "&limit=1000"
	total := 0
	for range 10 {
		req, _ := http.NewRequest(http.MethodGet, next, nil)
		req.Header.Set("Authorization", "SSWS "+token)
		resp, err := client.Do(req)
		require.NoError(t, err)
		var evs []json.RawMessage
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&evs))
		resp.Body.Close()
		require.Equal(t, 200, resp.StatusCode)
		assert.Equal(t, "600", resp.Header.Get("X-Rate-Limit-Limit"))
		if len(evs) == 0 {
			break
		}
		total += len(evs)
		for _, l := range resp.Header.Values("Link") {
			if u, ok := strings.CutSuffix(l, `>; rel="next"`); ok {
				next = strings.TrimPrefix(u, "<")
			}
		}
	}
	assert.Equal(t, 1500, total, "the whole backlog, within the last day")

	cancel()
	select {
	case c := <-code:
		assert.Equal(t, 0, c, stderr.String())
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop")
	}
	assert.Contains(t, stderr.String(), "stats requests=3 rate_limited=0")
	assert.Contains(t, stderr.String(), "events_served=1500")
	assert.NotContains(t, stderr.String(), token)
}

// safeBuffer is a bytes.Buffer the server's goroutines and the test may use at once.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

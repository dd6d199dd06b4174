package main

import (
	"bytes"
	"context"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// signalWriter collects what is written and calls on once, the first time the text holds want.
type signalWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want string
	on   func()
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.buf.Write(p)
	if w.on != nil && strings.Contains(w.buf.String(), w.want) {
		w.on()
		w.on = nil
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// statsLines returns the stats lines of a stderr.
func statsLines(stderr string) []string {
	var lines []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.Contains(l, "oktainput stats ") {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestStopDuringRetryWaitWritesStats stops an input while it waits to retry an Okta that
// answers 503: its last word must be a stats line saying it had not caught up, or the
// ingest-health dashboard shows a stuck input as healthy (or not at all).
func TestStopDuringRetryWaitWritesStats(t *testing.T) {
	f := newFakeOkta(t, 5)
	f.status = http.StatusServiceUnavailable
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stderr := &signalWriter{want: "WARN oktainput retry", on: cancel}
	var stdout bytes.Buffer
	in := f.inputXML(t.TempDir(), f.stanza("prod", "interval", ""))
	code := Run(ctx, nil, strings.NewReader(in), &stdout, stderr, func(string) string { return "" })
	require.Equal(t, 0, code, "a stop is not a failure: %s", stderr)
	lines := statsLines(stderr.String())
	require.NotEmpty(t, lines, "a stats line when the input stops: %s", stderr)
	last := lines[len(lines)-1]
	assert.Contains(t, last, "stanza=oktainput://prod")
	assert.Contains(t, last, "caught_up=false")
	assert.Contains(t, last, "events=0")
	assert.Regexp(t, `retries=[1-9]`, last, "the retries the input spent before the stop")
	assertLag(t, last, time.Since(base))
}

// assertLag checks a stats line's lag_seconds against want, to the minute: a stuck input's lag
// is how far its newest delivered event (here: its start_date) is behind, never 0.
func assertLag(t *testing.T, line string, want time.Duration) {
	t.Helper()
	m := regexp.MustCompile(`\blag_seconds=([0-9.]+)`).FindStringSubmatch(line)
	require.NotNil(t, m, "a lag in %s", line)
	lag, err := strconv.ParseFloat(m[1], 64)
	require.NoError(t, err)
	assert.InDelta(t, want.Seconds(), lag, 60, line)
}

// TestInputStoppedByAnErrorWritesStats: an input that an Okta error stops (a revoked token)
// writes a stats line with caught_up=false after its ERROR, run after run, so the dashboard
// does not keep showing the last good line of a scheduled input that now fails every minute.
func TestInputStoppedByAnErrorWritesStats(t *testing.T) {
	f := newFakeOkta(t, 5)
	f.status = http.StatusUnauthorized
	r := run(context.Background(), f.inputXML(t.TempDir(), f.stanza("prod")))
	require.Equal(t, 1, r.code, r.stderr)
	assert.Contains(t, r.stderr, "ERROR oktainput stopped")
	lines := statsLines(r.stderr)
	require.Len(t, lines, 1, r.stderr)
	assert.Contains(t, lines[0], "stanza=oktainput://prod")
	assert.Contains(t, lines[0], "events=0")
	assert.Contains(t, lines[0], "caught_up=false")
	assertLag(t, lines[0], time.Since(base))
}

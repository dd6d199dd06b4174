package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// blockingSplunkd accepts every request and answers none until the client goes away: a
// splunkd busy restarting, as it is right after it masks a token and restarts the input.
func blockingSplunkd(t *testing.T) (*httptest.Server, <-chan string) {
	asked := make(chan string, 16)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- r.Method + " " + r.URL.Path
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, asked
}

// stanzaXML is splunkd's configuration of one oktainput stanza whose token is in storage/passwords.
func stanzaXML(splunkdURL, dir string, extra string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><input><server_host>hf1</server_host><server_uri>` + splunkdURL +
		`</server_uri><session_key>sessionkey123</session_key><checkpoint_dir>` + dir + `</checkpoint_dir><configuration>` +
		`<stanza name="oktainput://prod" app="oktasight"><param name="org_url">https://acme.okta.com</param>` +
		`<param name="api_token">********</param>` + extra + `</stanza></configuration></input>`
}

// TestSIGTERMWhileReadingSecretsIsQuiet stops the real binary while it waits for splunkd to
// return its secrets: a stop, not a failure, so no ERROR and exit 0.
func TestSIGTERMWhileReadingSecretsIsQuiet(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and signals the real binary")
	}
	bin := goBuild(t, "oktainput", ".")
	sp, asked := blockingSplunkd(t)
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(stanzaXML(sp.URL, t.TempDir(), ""))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case req := <-asked:
		assert.Contains(t, req, "storage/passwords", "the input is reading its secret")
	case <-time.After(30 * time.Second):
		t.Fatal("the input never asked splunkd for its secret")
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		assert.NoError(t, err, "a stop exits 0; stderr: %s", &stderr)
	case <-time.After(30 * time.Second):
		t.Fatal("no exit within 30 s of SIGTERM")
	}
	assert.NotContains(t, stderr.String(), "ERROR")
	assert.Empty(t, stdout.String(), "no events, and no half a stream")
}

// A stop while a backfill lists what the index holds (an export search splunkd has not
// answered yet) is quiet too: the backfill resumes at the next start.
func TestStopDuringBackfillDedupIsQuiet(t *testing.T) {
	f := newFakeOkta(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.sp.Lock()
	f.sp.Fail = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "jobs/export") {
			cancel() // the stop arrives while the search runs
			<-r.Context().Done()
			return http.StatusServiceUnavailable
		}
		return 0
	}
	f.sp.Unlock()
	in := f.inputXML(t.TempDir(), f.stanza("prod", "backfill_since", base.Format(time.RFC3339),
		"backfill_until", base.Add(time.Hour).Format(time.RFC3339)))
	r := run(ctx, in)
	assert.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "ERROR")
}

// The standalone backfill command stopped while its export search runs: exit 0, no ERROR.
func TestStopDuringBackfillCommandIsQuiet(t *testing.T) {
	f := newFakeOkta(t, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f.sp.Lock()
	f.sp.Fail = func(r *http.Request) int {
		cancel()
		<-r.Context().Done()
		return http.StatusServiceUnavailable
	}
	f.sp.Unlock()
	dir := t.TempDir()
	var outb, errb bytes.Buffer
	env := map[string]string{"OKTA_API_TOKEN": token, "SPLUNKD_TOKEN": "sessionkey123"}
	code := Run(ctx, []string{"backfill", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir,
		"--out", filepath.Join(dir, "out.ndjson"), "--splunkd-url", f.sp.URL,
		"--since", base.Format(time.RFC3339), "--until", base.Add(time.Hour).Format(time.RFC3339)},
		strings.NewReader(""), &outb, &errb, func(k string) string { return env[k] })
	assert.Equal(t, 0, code, errb.String())
	assert.NotContains(t, errb.String(), "ERROR")
	assert.Contains(t, errb.String(), "run it again to resume")
}

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/oktasim"
	"github.com/oktasight/oktasight/app/splunkd/splunkdtest"
)

const hecToken = "hec-TOKEN-7c1e0f-recognisable"

// fakeHEC is a Splunk HTTP Event Collector with indexer acknowledgement.
type fakeHEC struct {
	mu     sync.Mutex
	events []json.RawMessage
	acks   int
}

func (h *fakeHEC) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Authorization") != "Splunk "+hecToken {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `{"text":"Invalid token","code":4}`)
		return
	}
	switch r.URL.Path {
	case "/services/collector/event":
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		dec := json.NewDecoder(body)
		h.mu.Lock()
		defer h.mu.Unlock()
		for dec.More() {
			var ev struct {
				Event      json.RawMessage `json:"event"`
				Sourcetype string          `json:"sourcetype"`
			}
			if err := dec.Decode(&ev); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			h.events = append(h.events, ev.Event)
		}
		h.acks++
		fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, h.acks)
	case "/services/collector/ack":
		var req struct {
			Acks []int `json:"acks"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		out := map[string]bool{}
		for _, a := range req.Acks {
			out[fmt.Sprint(a)] = true
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
	default:
		http.NotFound(w, r)
	}
}

func TestStandaloneToHEC(t *testing.T) {
	f := newFakeOkta(t, 2100)
	h := &fakeHEC{}
	hs := httptest.NewServer(h)
	defer hs.Close()
	dir := t.TempDir()
	args := []string{"run", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir, "--start-date", base.Format(time.RFC3339),
		"--once", "--hec-url", hs.URL, "--hec-ack"}
	var out, errb bytes.Buffer
	env := map[string]string{"OKTA_API_TOKEN": token, "HEC_TOKEN": hecToken}
	code := Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	require.Equal(t, 0, code, errb.String())
	assert.Empty(t, out.String(), "events go to HEC, not stdout")
	h.mu.Lock()
	got := h.events
	h.mu.Unlock()
	require.Len(t, got, 2100)
	for i, ev := range got {
		require.JSONEq(t, string(f.events[i]), string(ev))
	}
	assert.NotContains(t, errb.String(), hecToken)
	assertNoSecret(t, "stderr", errb.String())

	errb.Reset()
	env["HEC_TOKEN"] = ""
	code = Run(context.Background(), args, strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
	assert.Equal(t, 2, code)
	assert.Contains(t, errb.String(), "set the HEC token in the environment variable HEC_TOKEN")
}

// TestBackfillCommand reads a closed range of a simulated org with bounded requests, then
// finds the range done on a second run.
func TestBackfillCommand(t *testing.T) {
	now := time.Now().UTC()
	start := now.Add(-6 * time.Hour).Truncate(time.Hour)
	events := oktasim.Generate(oktasim.GenOptions{Users: 50, Events: 3000, Start: start, Span: 2 * time.Hour, Seed: 5})
	sim, err := oktasim.NewServer(oktasim.Options{Token: token, RateLimit: 1 << 20}, events)
	require.NoError(t, err)
	hs := httptest.NewTLSServer(sim)
	defer hs.Close()
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: hs.Certificate().Raw}), 0o600))
	dir := t.TempDir()
	out := filepath.Join(dir, "backfill.ndjson")
	since, until := start.Add(30*time.Minute), start.Add(90*time.Minute)
	args := []string{"backfill", "--org-url", hs.URL, "--ca-file", ca, "--checkpoint-dir", dir, "--out", out,
		"--since", since.Format(time.RFC3339), "--until", until.Format(time.RFC3339)}
	r := run(context.Background(), "", args...)
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var want int
	for _, ev := range events {
		var e struct{ Published time.Time }
		require.NoError(t, json.Unmarshal(ev, &e))
		if !e.Published.Before(since) && e.Published.Before(until) {
			want++
		}
	}
	lines := strings.Count(string(data), "\n")
	assert.Equal(t, want, lines, "exactly the events of [since, until)")
	assert.Contains(t, r.stderr, "oktainput backfill stanza=oktainput://standalone")

	r = run(context.Background(), "", args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "already done")
	data2, _ := os.ReadFile(out)
	assert.Equal(t, len(data), len(data2), "a completed range is not read again")

	// --redo with splunkd reachable: every event of the range is already indexed, none is written.
	sp := splunkdtest.New(t, "oktasight", "sessionkey123")
	var export strings.Builder
	for i, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e struct{ UUID string }
		require.NoError(t, json.Unmarshal([]byte(line), &e))
		last := i == lines-1
		fmt.Fprintf(&export, `{"preview":false,"offset":%d,"lastrow":%v,"result":{"uuid":%q}}`+"\n", i, last, e.UUID)
	}
	sp.Lock()
	sp.ExportBody = export.String()
	sp.Unlock()
	var outb, errb bytes.Buffer
	env := map[string]string{"OKTA_API_TOKEN": token, "SPLUNKD_TOKEN": "sessionkey123"}
	code := Run(context.Background(), append(args, "--redo", "--splunkd-url", sp.URL), strings.NewReader(""), &outb, &errb, func(k string) string { return env[k] })
	require.Equal(t, 0, code, errb.String())
	assert.Contains(t, errb.String(), fmt.Sprintf("skipped_indexed=%d written=0", want))
	data3, _ := os.ReadFile(out)
	assert.Equal(t, len(data), len(data3), "nothing already indexed is written again")

	r = run(context.Background(), "", "backfill", "--org-url", hs.URL, "--checkpoint-dir", dir, "--since", until.Format(time.RFC3339), "--until", since.Format(time.RFC3339))
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "ERROR oktainput backfill")
}

// TestOAuthEndToEnd runs the input with auth_type=oauth against a fake Okta that issues an
// access token for a private_key_jwt client assertion and accepts only that token.
func TestOAuthEndToEnd(t *testing.T) {
	f := newFakeOkta(t, 40)
	const access = "eyJ.access-token-recognisable.sig"
	var tokenRequests int
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth2/v1/token", func(w http.ResponseWriter, r *http.Request) {
		require.NoError(t, r.ParseForm())
		if r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("client_assertion") == "" ||
			r.PostForm.Get("scope") != "okta.logs.read" {
			w.WriteHeader(400)
			fmt.Fprint(w, `{"error":"invalid_request"}`)
			return
		}
		tokenRequests++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3600,"access_token":%q,"scope":"okta.logs.read"}`, access)
	})
	mux.HandleFunc("/api/v1/logs", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+access {
			w.WriteHeader(401)
			fmt.Fprint(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorId":"x"}`)
			return
		}
		r.Header.Set("Authorization", "SSWS "+token) // the fake's log handler speaks SSWS
		f.serve(w, r)
	})
	org := httptest.NewTLSServer(mux)
	defer org.Close()
	ca := writeCA(t, org)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	keyPEM := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	dir := t.TempDir()
	in := f.inputXML(dir, f.stanza("prod", "org_url", org.URL, "ca_file", ca, "api_token", "", "auth_type", "oauth",
		"client_id", "0oaTEST", "private_key", keyPEM, "key_id", "k1"))
	r := run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, parseStream(t, r.stdout), 40)
	assert.Equal(t, 1, tokenRequests, "one token for the whole run")
	assert.NotContains(t, r.stderr, access)
	assert.NotContains(t, r.stderr, "PRIVATE KEY")
	f.sp.Lock()
	stored := f.sp.Passwords["oktasight:prod#private_key:"]
	f.sp.Unlock()
	assert.Equal(t, strings.TrimSpace(keyPEM), strings.TrimSpace(stored), "the key is in Splunk's encrypted store")
}

func writeCA(t *testing.T, s *httptest.Server) string {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Certificate().Raw}), 0o600))
	return ca
}

// connectProxy is an HTTP CONNECT proxy that requires credentials.
type connectProxy struct {
	mu       sync.Mutex
	tunnels  []string
	refuse   bool
	password string // default "proxy-secret-pw"
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	pw := p.password
	if pw == "" {
		pw = "proxy-secret-pw"
	}
	want := "Basic " + basic("bob", pw)
	if p.refuse || r.Header.Get("Proxy-Authorization") != want {
		w.WriteHeader(http.StatusProxyAuthRequired)
		return
	}
	p.mu.Lock()
	p.tunnels = append(p.tunnels, r.Host)
	p.mu.Unlock()
	up, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	conn, buf, err := w.(http.Hijacker).Hijack()
	if err != nil {
		up.Close()
		return
	}
	go func() { _, _ = io.Copy(up, buf); up.Close() }()
	_, _ = io.Copy(conn, up)
	conn.Close()
}

func basic(u, p string) string {
	r, _ := http.NewRequest("GET", "http://x", nil)
	r.SetBasicAuth(u, p)
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}

func TestRunThroughProxy(t *testing.T) {
	f := newFakeOkta(t, 25)
	p := &connectProxy{}
	ps := httptest.NewServer(p)
	defer ps.Close()
	dir := t.TempDir()
	in := f.inputXML(dir, f.stanza("prod", "proxy_url", ps.URL, "proxy_username", "bob", "proxy_password", "proxy-secret-pw"))
	r := run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, parseStream(t, r.stdout), 25)
	p.mu.Lock()
	tunnels := p.tunnels
	p.mu.Unlock()
	require.NotEmpty(t, tunnels, "Okta was reached through the proxy")
	assert.Equal(t, strings.TrimPrefix(f.srv.URL, "https://"), tunnels[0])
	assert.NotContains(t, r.stderr, "proxy-secret-pw")

	p.refuse = true
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r = run(ctx, f.inputXML(t.TempDir(), f.stanza("prod2", "proxy_url", ps.URL, "proxy_username", "bob", "proxy_password", "proxy-secret-pw")))
	assert.Contains(t, r.stderr, "Proxy Authentication Required", "a refusing proxy is named in the retry warnings")
	assert.NotContains(t, r.stderr, "proxy-secret-pw")
}

func TestStandaloneXMLStream(t *testing.T) {
	f := newFakeOkta(t, 1100)
	dir := t.TempDir()
	r := run(context.Background(), "", "run", "--format", "xml", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir,
		"--start-date", base.Format(time.RFC3339), "--hec-index", "okta", "--once")
	require.Equal(t, 0, r.code, r.stderr)
	evs := parseStream(t, r.stdout)
	require.Len(t, evs, 1100, "the XML stream splunkd would read")
	assert.Equal(t, string(f.events[0]), evs[0].Data)
	assert.Equal(t, "okta", evs[0].Index)
	assert.Equal(t, "OktaIM2:log", evs[0].Sourcetype)

	r = run(context.Background(), "", "run", "--format", "csv", "--org-url", f.srv.URL, "--checkpoint-dir", dir)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--format: want ndjson or xml")
}

// TestStanzaBackfill: an input with backfill_since/until reads that past range beside its
// polling, into the same XML stream, and does nothing more once the range is complete.
func TestStanzaBackfill(t *testing.T) {
	f := newFakeOkta(t, 0) // only for its fake splunkd
	now := time.Now().UTC()
	start := now.Add(-6 * time.Hour).Truncate(time.Hour)
	events := oktasim.Generate(oktasim.GenOptions{Users: 40, Events: 2000, Start: start, Span: 2 * time.Hour, Seed: 9})
	sim, err := oktasim.NewServer(oktasim.Options{Token: token, RateLimit: 1 << 20}, events)
	require.NoError(t, err)
	hs := httptest.NewTLSServer(sim)
	defer hs.Close()
	ca := writeCA(t, hs)
	since, until := start.Add(20*time.Minute), start.Add(50*time.Minute)
	want := 0
	for _, ev := range events {
		var e struct{ Published time.Time }
		require.NoError(t, json.Unmarshal(ev, &e))
		if !e.Published.Before(since) && e.Published.Before(until) {
			want++
		}
	}
	stanza := f.stanza("prod", "org_url", hs.URL, "ca_file", ca, "start_date", now.Add(-time.Minute).Format(time.RFC3339),
		"backfill_since", since.Format(time.RFC3339), "backfill_until", until.Format(time.RFC3339), "backfill_dedup", "none")
	dir := t.TempDir()
	r := run(context.Background(), f.inputXML(dir, stanza))
	require.Equal(t, 0, r.code, r.stderr)
	evs := parseStream(t, r.stdout)
	assert.Len(t, evs, want, "polling starts after the backlog; the backfill brings exactly its range")
	assert.Contains(t, r.stderr, "oktainput backfill stanza=oktainput://prod")

	r = run(context.Background(), f.inputXML(dir, stanza))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, parseStream(t, r.stdout), "a completed backfill is not read again")

	// With dedup against the index and splunkd unable to answer, the backfill does not start.
	f.sp.Lock()
	f.sp.Fail = func(r *http.Request) int {
		if strings.Contains(r.URL.Path, "export") {
			return http.StatusServiceUnavailable
		}
		return 0
	}
	f.sp.Unlock()
	stanza2 := f.stanza("prod2", "org_url", hs.URL, "ca_file", ca, "start_date", now.Add(-time.Minute).Format(time.RFC3339),
		"backfill_since", since.Format(time.RFC3339), "backfill_until", until.Format(time.RFC3339))
	r = run(context.Background(), f.inputXML(t.TempDir(), stanza2))
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "cannot list the events already in index okta")
	assert.Empty(t, parseStream(t, r.stdout), "nothing is written blind")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"encoding/xml"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/splunkd/splunkdtest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// token is recognisable so the tests can prove it never leaks.
const token = "00SECRET-token-Zq7xV2pL9mK4-never-print"

// fakeOkta serves /api/v1/logs in polling mode over TLS, like Okta: a cursor in `after`, a
// next link on every page, rate-limit headers, and Okta's error JSON for a bad token.
type fakeOkta struct {
	mu       sync.Mutex
	events   [][]byte
	status   int // when set, every request fails with it
	requests int
	onServe  func(n int) // called after each page is served, with the request count
	srv      *httptest.Server
	caFile   string
	sp       *splunkdtest.Server // the splunkd that holds the inputs' secrets
}

func newFakeOkta(t *testing.T, n int) *fakeOkta {
	f := &fakeOkta{}
	f.add(n)
	f.srv = httptest.NewTLSServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	f.sp = splunkdtest.New(t, "oktasight", "sessionkey123")
	f.caFile = filepath.Join(t.TempDir(), "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: f.srv.Certificate().Raw})
	require.NoError(t, os.WriteFile(f.caFile, pemBytes, 0o600))
	return f
}

var base = time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)

// add appends n events whose bytes carry details that re-encoding would change.
func (f *fakeOkta) add(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for range n {
		i := len(f.events)
		pub := base.Add(time.Duration(i) * 1500 * time.Millisecond).Format("2006-01-02T15:04:05.000Z")
		f.events = append(f.events, fmt.Appendf(nil,
			`{"actor":{"id":"00u%d","type":"User","displayName":"<Ann & \"Bo\">"},  "uuid":"e-%06d","published":"%s","eventType":"user.session.start","zeta":1.50,"unknownField":{"é":[]}}`,
			i%7, i, pub))
	}
}

func (f *fakeOkta) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests++
	n := f.requests
	w.Header().Set("X-Rate-Limit-Limit", "10000")
	w.Header().Set("X-Rate-Limit-Remaining", "9999")
	w.Header().Set("X-Rate-Limit-Reset", strconv.FormatInt(time.Now().Add(time.Second).Unix(), 10))
	if r.Header.Get("Authorization") != "SSWS "+token || f.status == http.StatusUnauthorized {
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oaeTESTID","errorCauses":[]}`)
		return
	}
	if f.status != 0 {
		f.mu.Unlock()
		w.WriteHeader(f.status)
		fmt.Fprint(w, `{"errorCode":"E0000006","errorSummary":"You do not have permission to perform the requested action","errorId":"oaeFORBID","errorCauses":[]}`)
		return
	}
	q := r.URL.Query()
	from := 0
	if a := q.Get("after"); a != "" {
		from, _ = strconv.Atoi(a)
	} else if s := q.Get("since"); s != "" {
		since, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			f.mu.Unlock()
			http.Error(w, "bad since", 400)
			return
		}
		for from < len(f.events) && base.Add(time.Duration(from)*1500*time.Millisecond).Before(since) {
			from++
		}
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit <= 0 {
		limit = 100
	}
	to := min(from+limit, len(f.events))
	page := f.events[from:to]
	body := append([]byte("["), bytes.Join(page, []byte(","))...)
	body = append(body, ']')
	next := fmt.Sprintf("https://%s/api/v1/logs?after=%d&limit=%d&sortOrder=ASCENDING", r.Host, to, limit)
	cb := f.onServe
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Add("Link", fmt.Sprintf(`<https://%s%s>; rel="self"`, r.Host, r.URL.RequestURI()))
	w.Header().Add("Link", `<`+next+`>; rel="next"`)
	w.Write(body)
	if cb != nil {
		cb(n)
	}
}

func (f *fakeOkta) stanza(name string, extra ...string) string {
	params := map[string]string{
		"org_url": f.srv.URL, "api_token": token, "start_date": base.Format(time.RFC3339),
		"page_limit": "1000", "ca_file": f.caFile, "index": "okta", "host": "hf1", "interval": "60",
	}
	for i := 0; i+1 < len(extra); i += 2 {
		params[extra[i]] = extra[i+1]
	}
	f.sp.Lock()
	f.sp.Inputs["oktainput/"+name] = map[string]string{}
	f.sp.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, `<stanza name="oktainput://%s" app="oktasight">`, name)
	for k, v := range params {
		if v == "" {
			continue
		}
		fmt.Fprintf(&b, `<param name="%s">`, k)
		xml.EscapeText(&b, []byte(v))
		b.WriteString(`</param>`)
	}
	b.WriteString(`</stanza>`)
	return b.String()
}

func (f *fakeOkta) inputXML(dir string, stanzas ...string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><input><server_host>hf1</server_host><server_uri>` + f.sp.URL + `</server_uri>` +
		`<session_key>sessionkey123</session_key><checkpoint_dir>` + dir + `</checkpoint_dir><configuration>` +
		strings.Join(stanzas, "") + `</configuration></input>`
}

type result struct {
	code           int
	stdout, stderr string
}

func run(ctx context.Context, stdin string, args ...string) result {
	var out, errb bytes.Buffer
	env := map[string]string{"OKTA_API_TOKEN": token}
	code := Run(ctx, args, strings.NewReader(stdin), &out, &errb, func(k string) string { return env[k] })
	return result{code, out.String(), errb.String()}
}

type streamEvent struct {
	Stanza     string    `xml:"stanza,attr"`
	Unbroken   string    `xml:"unbroken,attr"`
	Time       string    `xml:"time"`
	Source     string    `xml:"source"`
	Sourcetype string    `xml:"sourcetype"`
	Index      string    `xml:"index"`
	Host       string    `xml:"host"`
	Data       string    `xml:"data"`
	Done       *struct{} `xml:"done"`
}

func parseStream(t *testing.T, out string) []streamEvent {
	t.Helper()
	if out == "" {
		return nil
	}
	var s struct {
		Events []streamEvent `xml:"event"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out), &s), "stdout is one <stream> document")
	return s.Events
}

func assertNoSecret(t *testing.T, where, s string) {
	t.Helper()
	assert.NotContains(t, s, token, "the API token leaked into %s", where)
	assert.NotContains(t, s, token[5:20], "part of the API token leaked into %s", where)
}

func TestSchemeGolden(t *testing.T) {
	r := run(context.Background(), "", "--scheme")
	require.Equal(t, 0, r.code, r.stderr)
	golden := filepath.Join("testdata", "scheme.xml")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(r.stdout), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), r.stdout)

	var s struct {
		Title                 string `xml:"title"`
		UseExternalValidation bool   `xml:"use_external_validation"`
		UseSingleInstance     bool   `xml:"use_single_instance"`
		StreamingMode         string `xml:"streaming_mode"`
		Args                  []struct {
			Name             string `xml:"name,attr"`
			RequiredOnCreate bool   `xml:"required_on_create"`
		} `xml:"endpoint>args>arg"`
	}
	require.NoError(t, xml.Unmarshal([]byte(r.stdout), &s))
	assert.Equal(t, "Okta System Log", s.Title)
	assert.True(t, s.UseExternalValidation)
	assert.False(t, s.UseSingleInstance)
	assert.Equal(t, "xml", s.StreamingMode)
	var names, required []string
	for _, a := range s.Args {
		names = append(names, a.Name)
		if a.RequiredOnCreate {
			required = append(required, a.Name)
		}
	}
	assert.Equal(t, []string{"org_url", "api_token", "start_date", "poll_interval", "page_limit", "rate_limit_pct", "filter", "q", "ca_file",
		"auth_type", "client_id", "private_key", "key_id", "dpop", "scopes", "proxy_url", "proxy_username", "proxy_password", "backfill_since", "backfill_until", "backfill_dedup", "checkpoint_store"}, names)
	assert.Equal(t, []string{"org_url"}, required, "the credential depends on auth_type; validation checks it")
}

func validationXML(params map[string]string) string {
	var b strings.Builder
	b.WriteString(`<items><server_host>hf1</server_host><server_uri>https://127.0.0.1:8089</server_uri><session_key>k</session_key><checkpoint_dir>/tmp</checkpoint_dir><item name="prod">`)
	for k, v := range params {
		fmt.Fprintf(&b, `<param name="%s">`, k)
		xml.EscapeText(&b, []byte(v))
		b.WriteString(`</param>`)
	}
	b.WriteString(`</item></items>`)
	return b.String()
}

func TestValidateArguments(t *testing.T) {
	f := newFakeOkta(t, 3)
	good := map[string]string{"org_url": f.srv.URL, "api_token": token, "ca_file": f.caFile, "start_date": "-7d"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		params map[string]string
		status int
		want   string // "" = valid
	}{
		{"valid", good, 0, ""},
		{"http org", with("org_url", "http://acme.okta.com"), 0, "must use https"},
		{"org with path", with("org_url", "https://acme.okta.com/app/x"), 0, "must not have a path"},
		{"page_limit", with("page_limit", "5000"), 0, "page_limit"},
		{"rate_limit_pct", with("rate_limit_pct", "0"), 0, "rate_limit_pct"},
		{"start in the future", with("start_date", "2999-01-01T00:00:00Z"), 0, "start_date"},
		{"too many q terms", with("q", "a b c d e f g h i j k"), 0, "q"},
		{"revoked token", good, http.StatusUnauthorized, "E0000011"},
		{"no permission", good, http.StatusForbidden, "E0000006"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.mu.Lock()
			f.status = tt.status
			f.mu.Unlock()
			r := run(context.Background(), validationXML(tt.params), "--validate-arguments")
			assertNoSecret(t, "stdout", r.stdout)
			assertNoSecret(t, "stderr", r.stderr)
			if tt.want == "" {
				assert.Equal(t, 0, r.code, r.stdout+r.stderr)
				assert.Empty(t, r.stdout)
				return
			}
			assert.Equal(t, 1, r.code)
			var e struct {
				Message string `xml:"message"`
			}
			require.NoError(t, xml.Unmarshal([]byte(r.stdout), &e), "reply is Splunk's error XML: %q", r.stdout)
			assert.Contains(t, e.Message, tt.want)
		})
	}
}

func TestRunDeliversEveryEventOnceAcrossRuns(t *testing.T) {
	f := newFakeOkta(t, 2500)
	dir := t.TempDir()
	in := f.inputXML(dir, f.stanza("prod"))

	r := run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	evs := parseStream(t, r.stdout)
	require.Len(t, evs, 2500)
	for i, e := range evs {
		require.Equal(t, string(f.events[i]), e.Data, "event %d is delivered byte for byte", i)
		want := base.Add(time.Duration(i) * 1500 * time.Millisecond)
		require.Equal(t, fmt.Sprintf("%d.%03d", want.Unix(), want.Nanosecond()/1e6), e.Time)
		require.Equal(t, "oktainput://prod", e.Stanza)
		require.Equal(t, "1", e.Unbroken)
		require.NotNil(t, e.Done)
		require.Equal(t, "OktaIM2:log", e.Sourcetype)
		require.Equal(t, "okta:"+strings.TrimPrefix(f.srv.URL, "https://"), e.Source)
		require.Equal(t, "okta", e.Index)
		require.Equal(t, "hf1", e.Host)
	}
	assert.Contains(t, r.stderr, "INFO oktainput stats stanza=oktainput://prod")
	assert.Contains(t, r.stderr, "events=2500")
	assert.Contains(t, r.stderr, "caught_up=true")

	r = run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, parseStream(t, r.stdout), "a second run delivers nothing again")

	f.add(10)
	r = run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	evs = parseStream(t, r.stdout)
	require.Len(t, evs, 10)
	assert.Equal(t, string(f.events[2500]), evs[0].Data)
	assertCheckpointsClean(t, dir)
}

func assertCheckpointsClean(t *testing.T, dir string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		require.NoError(t, err)
		if d.IsDir() {
			return nil
		}
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		assertNoSecret(t, path, string(data))
		assert.True(t, json.Valid(data), "%s is JSON", path)
		return nil
	})
	require.NoError(t, err)
}

func TestRunStopsOnRevokedTokenWithoutLeakingIt(t *testing.T) {
	f := newFakeOkta(t, 5)
	f.status = http.StatusUnauthorized
	dir := t.TempDir()
	r := run(context.Background(), f.inputXML(dir, f.stanza("prod")))
	assert.Equal(t, 1, r.code)
	assert.Empty(t, parseStream(t, r.stdout))
	assert.Contains(t, r.stderr, "ERROR oktainput stopped")
	assert.Contains(t, r.stderr, "E0000011")
	assertNoSecret(t, "stdout", r.stdout)
	assertNoSecret(t, "stderr", r.stderr)
	assertCheckpointsClean(t, dir)
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		assert.Regexp(t, `^(DEBUG|INFO|WARN|ERROR) `, line, "every stderr line carries a splunkd level")
	}
}

func TestRunBadStanzaDoesNotStopTheOthers(t *testing.T) {
	f := newFakeOkta(t, 20)
	dir := t.TempDir()
	r := run(context.Background(), f.inputXML(dir, f.stanza("bad", "org_url", "http://acme.okta.com"), f.stanza("good")))
	assert.Equal(t, 1, r.code, "one input failed")
	assert.Contains(t, r.stderr, `stanza=oktainput://bad`)
	assert.Contains(t, r.stderr, "must use https")
	assert.Len(t, parseStream(t, r.stdout), 20)
}

func TestRunStopFinishesThePageAndSavesTheCheckpoint(t *testing.T) {
	f := newFakeOkta(t, 5000)
	dir := t.TempDir()
	in := f.inputXML(dir, f.stanza("prod", "page_limit", "500"))
	ctx, cancel := context.WithCancel(context.Background())
	f.onServe = func(n int) {
		if n == 3 {
			cancel() // SIGTERM while the third page is in hand
		}
	}
	r := run(ctx, in)
	require.Equal(t, 0, r.code, r.stderr)
	first := parseStream(t, r.stdout)
	require.NotEmpty(t, first)
	assert.LessOrEqual(t, len(first), 1500, "the stop is honoured after the page in hand")
	assert.Zero(t, len(first)%500, "whole pages only")

	f.onServe = nil
	r = run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	rest := parseStream(t, r.stdout)
	all := append(first, rest...)
	require.Len(t, all, 5000, "nothing lost, nothing repeated")
	for i, e := range all {
		require.Equal(t, string(f.events[i]), e.Data)
	}
}

func TestStandaloneRun(t *testing.T) {
	f := newFakeOkta(t, 1200)
	dir := t.TempDir()
	out := filepath.Join(dir, "events.ndjson")
	args := []string{"run", "--org-url", f.srv.URL, "--checkpoint-dir", filepath.Join(dir, "cp"), "--out", out,
		"--ca-file", f.caFile, "--start-date", base.Format(time.RFC3339), "--once"}
	r := run(context.Background(), "", args...)
	require.Equal(t, 0, r.code, r.stderr)
	assert.Empty(t, r.stdout)
	r = run(context.Background(), "", args...)
	require.Equal(t, 0, r.code, r.stderr)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	require.Len(t, lines, 1200)
	for i, l := range lines {
		require.Equal(t, string(f.events[i]), l)
	}

	r = run(context.Background(), "", "run", "--org-url", f.srv.URL)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--checkpoint-dir is required")

	r = run(context.Background(), "", append(args, "--stop-grace", "0s")...)
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "--stop-grace: 0s is not a positive duration")

	var errb bytes.Buffer
	code := Run(context.Background(), []string{"run", "--org-url", f.srv.URL, "--checkpoint-dir", dir, "--once"}, strings.NewReader(""), &bytes.Buffer{}, &errb, func(string) string { return "" })
	assert.Equal(t, 2, code)
	assert.Contains(t, errb.String(), "set the environment variable OKTA_API_TOKEN")
}

func TestUnknownArguments(t *testing.T) {
	r := run(context.Background(), "", "--bogus")
	assert.Equal(t, 2, r.code)
	assert.Contains(t, r.stderr, "unknown arguments")
	assert.Empty(t, r.stdout, "stdout belongs to the protocol")
}

func TestRunMovesSecretsIntoSplunksStore(t *testing.T) {
	f := newFakeOkta(t, 30)
	dir := t.TempDir()
	r := run(context.Background(), f.inputXML(dir, f.stanza("prod")))
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, parseStream(t, r.stdout), 30)
	f.sp.Lock()
	stored, masked := f.sp.Passwords["oktasight:prod:"], f.sp.Inputs["oktainput/prod"]["api_token"]
	f.sp.Unlock()
	assert.Equal(t, token, stored, "the token is in storage/passwords (realm oktasight, user prod)")
	assert.Equal(t, "********", masked, "inputs.conf now holds the mask")

	// splunkd now starts the input with the mask: the token comes from the store.
	f.add(5)
	r = run(context.Background(), f.inputXML(dir, f.stanza("prod", "api_token", "********")))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, parseStream(t, r.stdout), 5)
	assertNoSecret(t, "stderr", r.stderr)

	// Validation of an edited input with the mask checks the stored token against Okta.
	v := strings.Replace(validationXML(map[string]string{"org_url": f.srv.URL, "api_token": "********", "ca_file": f.caFile}),
		"https://127.0.0.1:8089", f.sp.URL, 1)
	v = strings.Replace(v, "<session_key>k</session_key>", "<session_key>sessionkey123</session_key>", 1)
	v = strings.Replace(v, `<item name="prod">`, `<item name="oktainput://prod">`, 1)
	vr := run(context.Background(), v, "--validate-arguments")
	assert.Equal(t, 0, vr.code, vr.stdout+vr.stderr)
}

func TestRunStopsWhenSplunkdIsUnreachable(t *testing.T) {
	f := newFakeOkta(t, 3)
	in := strings.Replace(f.inputXML(t.TempDir(), f.stanza("prod")), f.sp.URL, "https://127.0.0.1:1", 1)
	r := run(context.Background(), in)
	assert.Equal(t, 1, r.code)
	assert.Empty(t, parseStream(t, r.stdout), "no events without the secret store")
	assert.Contains(t, r.stderr, "cannot store it in Splunk's encrypted store")
	assertNoSecret(t, "stderr", r.stderr)
}

func TestRunWithKVStoreCheckpoint(t *testing.T) {
	f := newFakeOkta(t, 1500)
	f.sp.Lock()
	f.sp.KV["oktasight_checkpoints"] = map[string][]byte{}
	f.sp.Unlock()
	dir := t.TempDir()
	in := f.inputXML(dir, f.stanza("prod", "checkpoint_store", "kvstore"))
	r := run(context.Background(), in)
	require.Equal(t, 0, r.code, r.stderr)
	require.Len(t, parseStream(t, r.stdout), 1500)
	f.sp.Lock()
	docs := len(f.sp.KV["oktasight_checkpoints"])
	f.sp.Unlock()
	assert.Equal(t, 1, docs, "the checkpoint is a KV-store document")
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries, "and not a file")

	// Another forwarder (a fresh checkpoint_dir) resumes from the KV store.
	f.add(7)
	r = run(context.Background(), f.inputXML(t.TempDir(), f.stanza("prod", "checkpoint_store", "kvstore")))
	require.Equal(t, 0, r.code, r.stderr)
	assert.Len(t, parseStream(t, r.stdout), 7)
}

package splunkd

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oktasight/oktasight/app/splunkd/splunkdtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Recognisable secrets: no error or log line may ever contain them.
const (
	sessionKey = "SESSIONKEY-7f3c9a+do/not=log"
	oktaToken  = "00OKTATOKEN-b41d2e+do/not=log"
)

// syncBuffer collects log output from concurrent calls.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// sleeps records the waits a client asked for instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

type harness struct {
	srv    *splunkdtest.Server
	c      *Client
	logs   *syncBuffer
	sleeps *sleeps
}

// newHarness is a client trusting the fake splunkd's certificate, logging at debug level.
func newHarness(t *testing.T) *harness {
	h := &harness{srv: splunkdtest.New(t, "oktasight", sessionKey), logs: &syncBuffer{}, sleeps: &sleeps{}}
	var err error
	h.c, err = New(Config{
		ServerURI: h.srv.URL, SessionKey: sessionKey, App: "oktasight",
		HTTPClient: h.srv.Client(),
		Logger:     slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Sleep:      h.sleeps.sleep,
	})
	require.NoError(t, err)
	return h
}

func TestNewRefusesBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no uri", Config{SessionKey: "k", App: "a"}, "server_uri"},
		{"ftp", Config{ServerURI: "ftp://h:1", SessionKey: "k", App: "a"}, "server_uri"},
		{"path", Config{ServerURI: "https://h:1/x", SessionKey: "k", App: "a"}, "host:port only"},
		{"credentials", Config{ServerURI: "https://u:pw@h:1", SessionKey: "k", App: "a"}, "host:port only"},
		{"no key", Config{ServerURI: "https://h:1", App: "a"}, "session_key"},
		{"no app", Config{ServerURI: "https://h:1", SessionKey: "k"}, "app name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), ":pw@")
		})
	}
}

func TestPasswords(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)

	_, err := h.c.GetPassword(ctx, "oktasight", "prod")
	require.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Contains(t, err.Error(), "oktasight:prod:")

	require.NoError(t, h.c.SetPassword(ctx, "oktasight", "prod", oktaToken))
	got, err := h.c.GetPassword(ctx, "oktasight", "prod")
	require.NoError(t, err)
	assert.Equal(t, oktaToken, got)

	// A second set finds the credential (409) and updates it.
	require.NoError(t, h.c.SetPassword(ctx, "oktasight", "prod", oktaToken+"-v2"))
	got, err = h.c.GetPassword(ctx, "oktasight", "prod")
	require.NoError(t, err)
	assert.Equal(t, oktaToken+"-v2", got)

	var paths []string
	for _, r := range h.srv.Requests() {
		paths = append(paths, r.Method+" "+r.Path)
		assert.Equal(t, "Splunk "+sessionKey, r.Auth)
	}
	assert.Equal(t, []string{
		"GET /servicesNS/nobody/oktasight/storage/passwords/oktasight:prod:",
		"POST /servicesNS/nobody/oktasight/storage/passwords",
		"GET /servicesNS/nobody/oktasight/storage/passwords/oktasight:prod:",
		"POST /servicesNS/nobody/oktasight/storage/passwords",
		"POST /servicesNS/nobody/oktasight/storage/passwords/oktasight:prod:",
		"GET /servicesNS/nobody/oktasight/storage/passwords/oktasight:prod:",
	}, paths)
	create := h.srv.Requests()[1].Form
	assert.Equal(t, []string{"prod"}, create["name"])
	assert.Equal(t, []string{"oktasight"}, create["realm"])

	_, err = h.c.GetPassword(ctx, "oktasight", "a:b")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "must not contain ':'")
	assert.Error(t, h.c.SetPassword(ctx, "oktasight", "prod", ""), "an empty secret is refused")
}

func TestExpiredSessionKey(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.srv.Lock()
	h.srv.SessionKey = "a-newer-key" // splunkd restarted: ours is no longer valid
	h.srv.Unlock()

	_, err := h.c.GetPassword(ctx, "oktasight", "prod")
	require.ErrorIs(t, err, ErrUnauthorized)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, http.StatusUnauthorized, e.Status)
	assert.Contains(t, err.Error(), "call not properly authenticated", "splunkd's own message is kept")
	assert.Contains(t, err.Error(), "session key")

	err = h.c.KVPut(ctx, "oktasight_checkpoints", "k", map[string]string{"a": "b"})
	require.ErrorIs(t, err, ErrUnauthorized)
	assert.Empty(t, h.sleeps.all(), "401 is not retried")
}

func TestMaskInputParam(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.srv.Lock()
	h.srv.Inputs["oktainput/prod"] = map[string]string{"org_url": "https://acme.okta.com", "api_token": oktaToken}
	h.srv.Unlock()

	require.NoError(t, h.c.MaskInputParam(ctx, "oktainput", "oktainput://prod", "api_token", "********"))
	h.srv.Lock()
	assert.Equal(t, map[string]string{"org_url": "https://acme.okta.com", "api_token": "********"}, h.srv.Inputs["oktainput/prod"])
	h.srv.Unlock()
	reqs := h.srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, "/servicesNS/nobody/oktasight/data/inputs/oktainput/prod", last.Path)
	assert.Equal(t, map[string][]string{"api_token": {"********"}}, last.Form, "only the masked setting is posted")

	err := h.c.MaskInputParam(ctx, "oktainput", "missing", "api_token", "********")
	require.ErrorIs(t, err, ErrNotFound)
	assert.Contains(t, err.Error(), "oktainput://missing")
	assert.Error(t, h.c.MaskInputParam(ctx, "oktainput", "prod", "api_token", ""))
}

func TestExport(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	t1 := t0.Add(24 * time.Hour)
	tests := []struct {
		name    string
		body    string
		want    []map[string]string
		wantErr string
	}{
		{
			name: "results",
			body: `{"preview":true,"offset":0,"result":{"uuid":"preview-only"}}` + "\n" +
				`{"preview":false,"offset":0,"result":{"uuid":"u1","tags":["a","b"]}}` + "\n" +
				`{"preview":false,"offset":1,"lastrow":true,"result":{"uuid":"u2","n":3}}` + "\n",
			want: []map[string]string{{"uuid": "u1", "tags": "a\nb"}, {"uuid": "u2", "n": "3"}},
		},
		{name: "no results", body: "", want: nil},
		{name: "info message", body: `{"preview":false,"messages":[{"type":"INFO","text":"Your timerange was substituted"}]}` + "\n", want: nil},
		{
			name:    "cut inside a line",
			body:    `{"preview":false,"offset":0,"result":{"uuid":"u1"}}` + "\n" + `{"preview":false,"offset":1,"result":{"uu`,
			want:    []map[string]string{{"uuid": "u1"}},
			wantErr: "cut off inside result 2",
		},
		{
			name:    "no last row",
			body:    `{"preview":false,"offset":0,"result":{"uuid":"u1"}}` + "\n",
			want:    []map[string]string{{"uuid": "u1"}},
			wantErr: "without the last row",
		},
		{
			name:    "fatal",
			body:    `{"preview":false,"messages":[{"type":"FATAL","text":"Error in 'search' command: Unable to parse the search"}]}` + "\n",
			wantErr: "Unable to parse the search",
		},
		{name: "garbage", body: "<html>proxy error</html>\n", wantErr: "result 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.Lock()
			h.srv.ExportBody = tt.body
			h.srv.Unlock()
			var got []map[string]string
			err := h.c.Export(ctx, `index=okta sourcetype="OktaIM2:log" | fields uuid`, t0, t1, func(f map[string]string) error {
				got = append(got, f)
				return nil
			})
			assert.Equal(t, tt.want, got)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				return
			}
			require.NoError(t, err)
			reqs := h.srv.Requests()
			r := reqs[len(reqs)-1]
			assert.Equal(t, "/servicesNS/nobody/oktasight/search/v2/jobs/export", r.Path)
			assert.Equal(t, []string{`search index=okta sourcetype="OktaIM2:log" | fields uuid`}, r.Form["search"])
			assert.Equal(t, []string{"1793491200.000"}, r.Form["earliest_time"])
			assert.Equal(t, []string{"1793577600.000"}, r.Form["latest_time"])
		})
	}
}

func TestExportCallbackErrorStops(t *testing.T) {
	h := newHarness(t)
	h.srv.Lock()
	h.srv.ExportBody = `{"result":{"uuid":"u1"}}` + "\n" + `{"result":{"uuid":"u2"}}` + "\n" + `{"lastrow":true,"result":{"uuid":"u3"}}` + "\n"
	h.srv.Unlock()
	stop := errors.New("enough")
	n := 0
	err := h.c.Export(context.Background(), "| makeresults", time.Time{}, time.Time{}, func(map[string]string) error {
		n++
		return stop
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, n)
}

// A connection that drops mid-stream (chunked body cut) is an error even at a line boundary.
func TestExportConnectionDropped(t *testing.T) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"preview":false,"offset":0,"result":{"uuid":"u1"}}`+"\n")
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}))
	defer srv.Close()
	c, err := New(Config{ServerURI: srv.URL, SessionKey: sessionKey, App: "oktasight", HTTPClient: srv.Client()})
	require.NoError(t, err)
	n := 0
	err = c.Export(context.Background(), "index=okta", time.Time{}, time.Time{}, func(map[string]string) error { n++; return nil })
	require.Error(t, err)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, 1, n)
}

func TestKV(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t)
	h.srv.Lock()
	h.srv.KV["oktasight_checkpoints"] = map[string][]byte{}
	h.srv.Unlock()

	type doc struct {
		A string `json:"a"`
		N int    `json:"n"`
	}
	var got doc
	err := h.c.KVGet(ctx, "oktasight_checkpoints", "k/1", &got)
	require.ErrorIs(t, err, ErrNotFound)
	assert.ErrorIs(t, err, fs.ErrNotExist)

	require.NoError(t, h.c.KVPut(ctx, "oktasight_checkpoints", "k/1", doc{A: "x", N: 1}), "created on 404")
	require.NoError(t, h.c.KVPut(ctx, "oktasight_checkpoints", "k/1", doc{A: "y", N: 2}), "updated in place")
	require.NoError(t, h.c.KVGet(ctx, "oktasight_checkpoints", "k/1", &got))
	assert.Equal(t, doc{A: "y", N: 2}, got)
	h.srv.Lock()
	assert.Len(t, h.srv.KV["oktasight_checkpoints"], 1)
	h.srv.Unlock()
	assert.Empty(t, h.sleeps.all())

	err = h.c.KVPut(ctx, "missing_collection", "k", doc{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "KV store collection missing_collection")
	assert.Contains(t, err.Error(), "Collection: missing_collection not found")

	assert.Error(t, h.c.KVPut(ctx, "oktasight_checkpoints", "k", []int{1}), "a document must be an object")

	var wrong []int
	err = h.c.KVGet(ctx, "oktasight_checkpoints", "k/1", &wrong)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "bad JSON answer")
	assert.Empty(t, h.sleeps.all(), "an answer that cannot be decoded is not asked again")
}

func TestKVRetries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		failures  int // 503s before the fake answers normally
		status    int
		wantErr   string
		wantSleep []time.Duration
	}{
		{"503 then success", 1, http.StatusServiceUnavailable, "", []time.Duration{500 * time.Millisecond}},
		{"three 500s", 3, http.StatusInternalServerError, "", []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}},
		{"503 for good", 100, http.StatusServiceUnavailable, "gave up after 6 attempts",
			[]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}},
		{"400 is final", 100, http.StatusBadRequest, "HTTP 400", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.srv.Lock()
			h.srv.KV["oktasight_checkpoints"] = map[string][]byte{}
			left := tt.failures
			h.srv.Fail = func(*http.Request) int {
				if left > 0 {
					left--
					return tt.status
				}
				return 0
			}
			h.srv.Unlock()
			err := h.c.KVPut(ctx, "oktasight_checkpoints", "k", map[string]int{"n": 1})
			assert.Equal(t, tt.wantSleep, h.sleeps.all())
			if tt.wantErr == "" {
				require.NoError(t, err)
				var got map[string]any
				require.NoError(t, h.c.KVGet(ctx, "oktasight_checkpoints", "k", &got))
				assert.EqualValues(t, 1, got["n"])
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Contains(t, err.Error(), "KV store collection oktasight_checkpoints")
		})
	}
}

func TestKVRetryStopsWithContext(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	h.c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	h.srv.Lock()
	h.srv.Fail = func(*http.Request) int { return http.StatusServiceUnavailable }
	h.srv.Unlock()
	err := h.c.KVGet(ctx, "c", "k", &struct{}{})
	require.ErrorIs(t, err, context.Canceled)
	assert.Len(t, h.srv.Requests(), 1)
}

// writeCA puts a CA certificate where splunkd keeps its own.
func writeCA(t *testing.T, home string, pemBytes []byte) {
	dir := filepath.Join(home, "etc", "auth")
	require.NoError(t, os.MkdirAll(dir, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cacert.pem"), pemBytes, 0o600))
}

func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// otherCA is a fresh self-signed CA (every httptest server shares one certificate).
func otherCA(t *testing.T) []byte {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "SplunkCommonCA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func TestTLS(t *testing.T) {
	srv := splunkdtest.New(t, "oktasight", sessionKey)
	srv.Passwords["oktasight:prod:"] = oktaToken
	other := otherCA(t) // a CA splunkd's certificate is not signed by
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	tests := []struct {
		name    string
		host    string // server_uri host; non-loopback names are dialled to the fake
		ca      []byte // cacert.pem's content
		wantErr string
		wantLog string
	}{
		{"loopback, no CA: allowed, said so", "127.0.0.1", nil, "", "not verified"},
		{"localhost, no CA: allowed", "localhost", nil, "", "not verified"},
		{"remote, no CA: self-signed refused", "example.com", nil, "certificate", ""},
		{"loopback, CA file honoured", "127.0.0.1", certPEM(srv.Server), "", ""},
		{"remote, CA file honoured", "example.com", certPEM(srv.Server), "", ""},
		{"loopback, wrong CA refused", "127.0.0.1", other, "not signed by", ""},
		{"remote, wrong CA refused", "example.com", other, "certificate", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			home := t.TempDir()
			if tt.ca != nil {
				writeCA(t, home, tt.ca)
			}
			logs := &syncBuffer{}
			c, err := New(Config{
				ServerURI: "https://" + net.JoinHostPort(tt.host, port), SessionKey: sessionKey, App: "oktasight",
				SplunkHome: home, Logger: slog.New(slog.NewTextHandler(logs, nil)),
			})
			require.NoError(t, err)
			tr := c.hc.Transport.(*http.Transport)
			tr.Proxy = nil
			tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
			}
			got, err := c.GetPassword(context.Background(), "oktasight", "prod")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
				assert.Equal(t, oktaToken, got)
			}
			if tt.wantLog != "" {
				assert.Equal(t, 1, strings.Count(logs.String(), tt.wantLog), "one line says verification is skipped: %s", logs)
				assert.Contains(t, logs.String(), "level=INFO")
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
}

func TestBadCAFile(t *testing.T) {
	home := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(home, "etc", "auth"), 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(home, "etc", "auth", "cacert.pem"), []byte("not a pem"), 0o600))
	_, err := New(Config{ServerURI: "https://127.0.0.1:8089", SessionKey: sessionKey, App: "oktasight", SplunkHome: home})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cacert.pem")
}

// Every error and log line of failing calls, against a splunkd that echoes everything it is
// sent, is searched for the session key and the secret.
func TestSecretsNeverInErrorsOrLogs(t *testing.T) {
	echo := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		msg := "echo: " + r.Header.Get("Authorization") + " " + r.URL.String() + " " + string(body)
		code := http.StatusServiceUnavailable
		if strings.Contains(r.URL.Path, "passwords") || strings.Contains(r.URL.Path, "inputs") {
			code = http.StatusBadRequest
		}
		w.WriteHeader(code)
		_, _ = io.WriteString(w, `{"messages":[{"type":"ERROR","text":`+quote(msg)+`}]}`)
	}))
	defer echo.Close()
	logs := &syncBuffer{}
	s := &sleeps{}
	c, err := New(Config{ServerURI: echo.URL, SessionKey: sessionKey, App: "oktasight", HTTPClient: echo.Client(),
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Sleep: s.sleep})
	require.NoError(t, err)
	ctx := context.Background()
	var errs []error
	_, err = c.GetPassword(ctx, "oktasight", "prod")
	errs = append(errs, err)
	errs = append(errs, c.SetPassword(ctx, "oktasight", "prod", oktaToken))
	errs = append(errs, c.MaskInputParam(ctx, "oktainput", "prod", "api_token", "********"))
	errs = append(errs, c.KVPut(ctx, "coll", "k", map[string]string{"v": "x"}))
	errs = append(errs, c.KVGet(ctx, "coll", "k", &struct{}{}))
	errs = append(errs, c.Export(ctx, "index=okta", time.Time{}, time.Time{}, func(map[string]string) error { return nil }))

	// A splunkd that is not there: transport errors carry the URL, never the key.
	dead, err := New(Config{ServerURI: "https://127.0.0.1:1", SessionKey: sessionKey, App: "oktasight", Logger: slog.New(slog.NewTextHandler(logs, nil)), Sleep: s.sleep})
	require.NoError(t, err)
	errs = append(errs, dead.SetPassword(ctx, "oktasight", "prod", oktaToken))

	var all strings.Builder
	for i, err := range errs {
		require.Error(t, err, "call %d", i)
		all.WriteString(err.Error() + "\n")
	}
	all.WriteString(logs.String())
	assert.Contains(t, all.String(), "echo: Splunk <session key>", "the echo reached the error, redacted")
	assert.NotContains(t, all.String(), sessionKey)
	assert.NotContains(t, all.String(), oktaToken)
	assert.NotContains(t, all.String(), url.QueryEscape(oktaToken))
	assert.NotContains(t, all.String(), url.QueryEscape(sessionKey))
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			b.WriteString(" ")
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

package main

import (
	"context"
	"encoding/xml"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// validationMessage is the message of Splunk's error XML on stdout.
func validationMessage(t *testing.T, stdout string) string {
	t.Helper()
	var e struct {
		Message string `xml:"message"`
	}
	require.NoError(t, xml.Unmarshal([]byte(stdout), &e), "reply is Splunk's error XML: %q", stdout)
	return e.Message
}

// closedAddr returns a loopback address where nothing listens: a connection there is refused.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// countingTLSServer is Okta's address with a certificate nobody was told to trust; it counts
// the connections made to it.
func countingTLSServer(t *testing.T) (*httptest.Server, *atomic.Int32) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = nil
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// TestValidateFailsFastOnSettingsErrors: an error that retrying cannot fix (connection
// refused, an untrusted certificate, a proxy that is not there) fails validation after one
// attempt, well inside the 30 s Splunk Web waits for splunkd, with a message that names the
// setting to check. Before, each was retried for 30 s and reported as "no answer".
func TestValidateFailsFastOnSettingsErrors(t *testing.T) {
	f := newFakeOkta(t, 3)
	untrusted, conns := countingTLSServer(t)
	good := map[string]string{"org_url": f.srv.URL, "api_token": token, "ca_file": f.caFile}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for a, b := range good {
			m[a] = b
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(m, kv[i])
				continue
			}
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	refused := closedAddr(t)
	tests := []struct {
		name   string
		params map[string]string
		want   []string
		conns  *atomic.Int32 // connections the server must have seen: exactly one
	}{
		{"connection refused", with("org_url", "https://"+refused), []string{"connection refused", "https://" + refused, "check org_url", "proxy_url"}, nil},
		{"untrusted certificate", with("org_url", untrusted.URL, "ca_file", ""),
			[]string{"certificate", "not trusted", "ca_file", "TLS-inspecting proxy"}, conns},
		{"certificate for another name", with("org_url", strings.Replace(f.srv.URL, "127.0.0.1", "localhost", 1)),
			[]string{"certificate", "not for localhost", "org_url"}, nil},
		{"proxy refuses", with("proxy_url", "http://"+refused), []string{"the proxy", refused, "refused", "check proxy_url"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.conns != nil {
				tt.conns.Store(0)
			}
			start := time.Now()
			r := run(context.Background(), validationXML(tt.params), "--validate-arguments")
			elapsed := time.Since(start)
			assertNoSecret(t, "stdout", r.stdout)
			assertNoSecret(t, "stderr", r.stderr)
			require.Equal(t, 1, r.code, r.stderr)
			msg := validationMessage(t, r.stdout)
			for _, w := range tt.want {
				assert.Contains(t, msg, w)
			}
			assert.NotContains(t, r.stderr, "oktainput retry", "not retried")
			if tt.conns != nil {
				assert.Equal(t, int32(1), tt.conns.Load(), "one connection, not one per retry")
			}
			// Not a speed test: a refused connection takes milliseconds; what must not
			// happen is waiting out the whole budget (before: 30 s).
			assert.Less(t, elapsed, 10*time.Second, "an answer long before splunkd's limit")
		})
	}
}

// TestValidateNoSuchHost: an org name that DNS says does not exist is reported at once as
// such (RFC 6761 reserves .invalid: every resolver answers it with "no such host").
func TestValidateNoSuchHost(t *testing.T) {
	f := newFakeOkta(t, 0)
	var dnsErr *net.DNSError
	if _, err := net.DefaultResolver.LookupHost(context.Background(), "acme.invalid"); !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Skipf("this machine's resolver does not answer NXDOMAIN for .invalid: %v", err)
	}
	params := map[string]string{"org_url": "https://acme.invalid", "api_token": token, "ca_file": f.caFile}
	r := run(context.Background(), validationXML(params), "--validate-arguments")
	require.Equal(t, 1, r.code, r.stderr)
	msg := validationMessage(t, r.stdout)
	assert.Contains(t, msg, "acme.invalid")
	assert.Contains(t, msg, "does not exist")
	assert.Contains(t, msg, "check org_url")
	assert.NotContains(t, r.stderr, "oktainput retry")
}

// TestValidateRetriesAnOutageBriefly: Okta answering 503 is retried a few times, each logged
// on stderr (splunkd.log), then reported as Okta's error, not as the settings' fault.
func TestValidateRetriesAnOutageBriefly(t *testing.T) {
	f := newFakeOkta(t, 3)
	f.status = http.StatusServiceUnavailable
	params := map[string]string{"org_url": f.srv.URL, "api_token": token, "ca_file": f.caFile}
	r := run(context.Background(), validationXML(params), "--validate-arguments")
	require.Equal(t, 1, r.code, r.stderr)
	msg := validationMessage(t, r.stdout)
	assert.Contains(t, msg, "503")
	assert.Contains(t, msg, "after 3 attempts")
	assert.Contains(t, msg, "save again")
	assert.Equal(t, 2, strings.Count(r.stderr, "WARN oktainput retry"), r.stderr)
	f.mu.Lock()
	assert.Equal(t, 3, f.requests)
	f.mu.Unlock()
}

// TestValidateStopped: a stop (SIGTERM: splunkd stopping or restarting) while Okta has not
// answered ends validation at once. The settings were not checked, so validation does not
// pass them; it says it was stopped, not that they are wrong, and logs no ERROR.
func TestValidateStopped(t *testing.T) {
	asked := make(chan struct{}, 1)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	ca := writeCA(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-asked
		cancel()
	}()
	params := map[string]string{"org_url": srv.URL, "api_token": token, "ca_file": ca}
	r := run(ctx, validationXML(params), "--validate-arguments")
	assert.Equal(t, 1, r.code, "unchecked settings are not passed")
	msg := validationMessage(t, r.stdout)
	assert.Contains(t, msg, "stopped")
	assert.Contains(t, msg, "not checked")
	assert.NotContains(t, msg, "cannot reach")
	assert.NotContains(t, r.stderr, "ERROR")
	assert.Contains(t, r.stderr, "INFO oktainput validation stopped on request")
}

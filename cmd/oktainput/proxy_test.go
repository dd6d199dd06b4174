package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyRefusalStopsTheInput: a proxy that refuses the tunnel (407 for a wrong password,
// 403 for a forbidden address) stops `run --once` at once, like a wrong Okta token, with an
// error that gives the proxy's status and names the setting, never the password.
func TestProxyRefusalStopsTheInput(t *testing.T) {
	f := newFakeOkta(t, 5)
	for _, tt := range []struct {
		name   string
		status int
		want   string
	}{
		{"wrong password", http.StatusProxyAuthRequired, "HTTP 407 Proxy Authentication Required to CONNECT 127.0.0.1"},
		{"forbidden", http.StatusForbidden, "HTTP 403 Forbidden to CONNECT 127.0.0.1"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var connects int
			ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				connects++
				w.WriteHeader(tt.status)
			}))
			defer ps.Close()
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			env := map[string]string{"OKTA_API_TOKEN": token, "PROXY_PW": "wrong-PW-8c1f"}
			var out, errb bytes.Buffer
			code := Run(ctx, []string{"run", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir,
				"--proxy-url", ps.URL, "--proxy-username", "bob", "--proxy-password-env", "PROXY_PW", "--once"},
				strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
			require.NoError(t, ctx.Err(), "--once ended by itself")
			assert.Equal(t, 1, code)
			assert.Contains(t, errb.String(), "ERROR oktainput stopped")
			assert.Contains(t, errb.String(), tt.want)
			assert.Contains(t, errb.String(), "proxy "+ps.URL+" (proxy_url)")
			assert.NotContains(t, errb.String(), "status=0")
			assert.NotContains(t, errb.String(), "wrong-PW-8c1f")
			assert.Equal(t, 1, connects, "not retried: the same answer would come back")
		})
	}
}

// squidProxy runs Debian's squid on a free loopback port with basic authentication
// (basic_ncsa_auth) for user/password, and returns its URL.
func squidProxy(t *testing.T, user, password string) string {
	t.Helper()
	squid, err := exec.LookPath("squid")
	if err != nil {
		squid, err = exec.LookPath("/usr/sbin/squid") // not on every PATH
	}
	if err != nil {
		t.Skip("squid is not installed (apt-get install squid apache2-utils; .ci/run installs them)")
	}
	helper := "/usr/lib/squid/basic_ncsa_auth"
	if _, err := os.Stat(helper); err != nil {
		t.Skipf("squid's %s is missing", helper)
	}
	htpasswd, err := exec.LookPath("htpasswd")
	if err != nil {
		t.Skip("htpasswd is not installed (apt-get install apache2-utils)")
	}
	// squid drops root for its own user: the directory must be open to it.
	dir, err := os.MkdirTemp("", "oktasight-squid-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	require.NoError(t, os.Chmod(dir, 0o777))
	passwd := filepath.Join(dir, "passwd")
	out, err := exec.Command(htpasswd, "-bc", passwd, user, password).CombinedOutput()
	require.NoError(t, err, "htpasswd: %s", out)
	require.NoError(t, os.Chmod(passwd, 0o644))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	conf := filepath.Join(dir, "squid.conf")
	require.NoError(t, os.WriteFile(conf, []byte(fmt.Sprintf(`http_port %s
pid_filename %s/squid.pid
cache_log %s/cache.log
access_log none
cache deny all
coredump_dir %s
shutdown_lifetime 0 seconds
auth_param basic program %s %s
auth_param basic realm oktasight-test
acl authed proxy_auth REQUIRED
http_access allow authed
http_access deny all
`, addr, dir, dir, dir, helper, passwd)), 0o644))
	cmd := exec.Command(squid, "-N", "-f", conf)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for deadline := time.Now().Add(20 * time.Second); ; {
		if c, err := net.Dial("tcp", addr); err == nil {
			_ = c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "cache.log"))
			t.Fatalf("squid did not listen on %s: %s %s", addr, &stderr, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return "http://" + addr
}

// TestSquidProxyAuth runs the input through Debian's squid with basic authentication: the
// right password reaches Okta; a wrong one gets squid's 407, which ends `--once` with an
// error naming the proxy setting and not the password.
func TestSquidProxyAuth(t *testing.T) {
	proxy := squidProxy(t, "bob", "right-PW-3e9a")
	f := newFakeOkta(t, 25)
	for _, tt := range []struct {
		name, password string
		code           int
	}{
		{"right password", "right-PW-3e9a", 0},
		{"wrong password", "wrong-PW-77d0", 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			env := map[string]string{"OKTA_API_TOKEN": token, "PROXY_PW": tt.password}
			var out, errb bytes.Buffer
			code := Run(ctx, []string{"run", "--org-url", f.srv.URL, "--ca-file", f.caFile, "--checkpoint-dir", dir,
				"--out", filepath.Join(dir, "events.ndjson"), "--proxy-url", proxy, "--proxy-username", "bob",
				"--proxy-password-env", "PROXY_PW", "--start-date", base.Format(time.RFC3339), "--once"},
				strings.NewReader(""), &out, &errb, func(k string) string { return env[k] })
			require.NoError(t, ctx.Err(), "--once ended by itself: %s", &errb)
			require.Equal(t, tt.code, code, errb.String())
			assert.NotContains(t, errb.String(), tt.password)
			if tt.code == 0 {
				data, err := os.ReadFile(filepath.Join(dir, "events.ndjson"))
				require.NoError(t, err)
				assert.Equal(t, 25, strings.Count(string(data), "\n"), "every event came through squid")
				return
			}
			assert.Contains(t, errb.String(), "proxy "+proxy+" (proxy_url) answered HTTP 407 Proxy Authentication Required")
			assert.Contains(t, errb.String(), "check proxy_username and proxy_password")
		})
	}
}

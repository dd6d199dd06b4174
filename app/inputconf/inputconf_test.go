package inputconf

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const secret = "00aSECRETtokenVALUE-do-not-print"

func params(kv ...string) map[string]string {
	m := map[string]string{"org_url": "https://acme.okta.com", "api_token": secret}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "<delete>" {
			delete(m, kv[i])
			continue
		}
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestFromParamsDefaults(t *testing.T) {
	s, err := FromParams("oktainput://prod", params("interval", "60", "index", "okta"))
	require.NoError(t, err)
	assert.Equal(t, "https://acme.okta.com", s.OrgURL)
	assert.Equal(t, DefaultPollInterval, s.PollInterval)
	assert.Equal(t, DefaultPageLimit, s.PageLimit)
	assert.Equal(t, DefaultRateLimitPct, s.RateLimitPct)
	assert.True(t, s.ExitWhenCaughtUp)
	assert.Equal(t, "okta", s.Index)
	assert.Equal(t, "okta:acme.okta.com", s.Source())
	assert.NotContains(t, s.String(), secret)
}

func TestFromParamsErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		p    map[string]string
		want []string // substrings of the error
	}{
		{"missing org", params("org_url", "<delete>"), []string{"org_url: is required"}},
		{"http org", params("org_url", "http://acme.okta.com"), []string{"org_url:"}},
		{"org with path", params("org_url", "https://acme.okta.com/app/x"), []string{"org_url:"}},
		{"org with credentials", params("org_url", "https://u:p@acme.okta.com"), []string{"org_url:"}},
		{"missing token", params("api_token", "<delete>"), []string{"api_token: is required"}},
		{"token with space", params("api_token", "abc def"), []string{"api_token: contains white space"}},
		{"page limit too big", params("page_limit", "5000"), []string{`page_limit: want a whole number from 1 to 1000, got "5000"`}},
		{"page limit not a number", params("page_limit", "many"), []string{"page_limit:"}},
		{"rate pct zero", params("rate_limit_pct", "0"), []string{"rate_limit_pct: want a whole number from 1 to 100"}},
		{"poll interval", params("poll_interval", "0"), []string{"poll_interval: want seconds from 1 to 3600"}},
		{"start date garbage", params("start_date", "yesterday"), []string{"start_date: want an ISO 8601 date"}},
		{"start date future", params("start_date", "2999-01-01"), []string{"start_date:", "in the future"}},
		{"too many keywords", params("q", "a b c d e f g h i j k"), []string{"q:"}},
		{"unknown setting", params("orgurl", "x"), []string{"orgurl: unknown setting"}},
		{"ca file missing", params("ca_file", filepath.Join(dir, "nope.pem")), []string{"ca_file: cannot read"}},
		{"ca file is dir", params("ca_file", dir), []string{"ca_file:", "is a directory"}},
		{"several at once", params("page_limit", "0", "rate_limit_pct", "101"), []string{"page_limit:", "rate_limit_pct:"}},
		{"unknown auth", params("auth_type", "password"), []string{`auth_type: want api_token or oauth, got "password"`}},
		{"oauth without client", params("auth_type", "oauth", "private_key", secret), []string{"client_id: is required with auth_type=oauth"}},
		{"oauth without key", params("auth_type", "oauth", "client_id", "0oa1"), []string{"private_key: is required"}},
		{"oauth bad dpop", params("auth_type", "oauth", "client_id", "0oa1", "private_key", secret, "dpop", "maybe"), []string{"dpop: want 0 or 1"}},
		{"proxy scheme", params("proxy_url", "socks5://proxy:1080"), []string{"proxy_url: want http://host:port"}},
		{"proxy with credentials", params("proxy_url", "http://bob:"+secret+"@proxy:3128"), []string{"proxy_url: must not hold credentials"}},
		{"proxy password alone", params("proxy_password", secret), []string{"proxy_username: is required"}},
		{"checkpoint store", params("checkpoint_store", "s3"), []string{`checkpoint_store: want file or kvstore, got "s3"`}},
		{"backfill half", params("backfill_since", "2026-11-20T08:00:00Z"), []string{"backfill_since: and backfill_until go together"}},
		{"backfill relative", params("backfill_since", "-2d", "backfill_until", "2026-11-20T08:00:00Z"), []string{"backfill_since: want an absolute"}},
		{"backfill order", params("backfill_since", "2026-11-20T08:00:00Z", "backfill_until", "2026-11-20T07:00:00Z"), []string{"backfill_until: must be after"}},
		{"backfill dedup", params("backfill_dedup", "maybe"), []string{"backfill_dedup: want index or none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromParams("oktainput://x", tt.p)
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestFromParamsAcceptsValidValues(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	require.NoError(t, os.WriteFile(ca, []byte("x"), 0o600))
	s, err := FromParams("oktainput://x", params("start_date", "-30d", "poll_interval", "30", "page_limit", "200",
		"rate_limit_pct", "25", "filter", `eventType eq "user.session.start"`, "q", "Chrome", "ca_file", ca,
		"org_url", "https://acme.okta.com/", "disabled", "0", "sourcetype", "OktaIM2:log", "host", "h"))
	require.NoError(t, err)
	assert.Equal(t, 30*time.Second, s.PollInterval)
	assert.Equal(t, 200, s.PageLimit)
	assert.Equal(t, 25, s.RateLimitPct)
	assert.Equal(t, ca, s.CAFile)
	assert.False(t, s.ExitWhenCaughtUp)
	assert.False(t, strings.HasSuffix(s.OrgURL, "/"))
}

func TestResolveStart(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in       string
		want     time.Time
		warn     bool
		errorish bool
	}{
		{"", now.Add(-7 * 24 * time.Hour), false, false},
		{"-7d", now.Add(-7 * 24 * time.Hour), false, false},
		{"-12h", now.Add(-12 * time.Hour), false, false},
		{"-30m", now.Add(-30 * time.Minute), false, false},
		{"-2w", now.Add(-14 * 24 * time.Hour), false, false},
		{"2026-11-01", time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), false, false},
		{"2026-11-01T08:00:00Z", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), false, false},
		{"2026-11-01T08:00:00.5+01:00", time.Date(2026, 11, 1, 7, 0, 0, 500e6, time.UTC), false, false},
		{"2026-11-01T08:00:00", time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC), false, false},
		{"-120d", now.Add(-Retention), true, false},
		{"2020-01-01", now.Add(-Retention), true, false},
		{"-7x", time.Time{}, false, true},
		{"-d", time.Time{}, false, true},
		{"tomorrow", time.Time{}, false, true},
		{"2026-12-24", time.Time{}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, warn, err := ResolveStart(tt.in, now)
			if tt.errorish {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, tt.want.Equal(got), "got %s want %s", got, tt.want)
			assert.Equal(t, tt.warn, warn != "", "warning %q", warn)
		})
	}
}

func TestFromParamsProductionSettings(t *testing.T) {
	s, err := FromParams("oktainput://x", params("api_token", "<delete>", "auth_type", "oauth", "client_id", "0oa1", "private_key", secret,
		"key_id", "k1", "dpop", "1", "proxy_url", "http://proxy.corp:3128", "proxy_username", "bob", "proxy_password", secret,
		"checkpoint_store", "kvstore"))
	require.NoError(t, err)
	assert.Equal(t, AuthOAuth, s.AuthType)
	assert.Equal(t, []string{"okta.logs.read"}, s.Scopes)
	assert.True(t, s.DPoP)
	assert.Equal(t, "http://proxy.corp:3128", s.ProxyURL)
	assert.Equal(t, CheckpointKVStore, s.CheckpointStore)
	assert.NotContains(t, s.String(), secret)
	proxy, err := s.ProxyFunc()
	require.NoError(t, err)
	u, err := proxy(httptest.NewRequest("GET", "https://acme.okta.com/api/v1/logs", nil))
	require.NoError(t, err)
	assert.Equal(t, "proxy.corp:3128", u.Host)
	pw, _ := u.User.Password()
	assert.Equal(t, secret, pw, "the proxy gets its credentials")

	d, err := FromParams("oktainput://x", params())
	require.NoError(t, err)
	assert.Equal(t, AuthAPIToken, d.AuthType)
	assert.Equal(t, CheckpointFile, d.CheckpointStore)
}

func TestCheckProxyAnswer(t *testing.T) {
	withURL := &Settings{ProxyURL: "http://proxy.corp:3128", ProxyUser: "bob", ProxyPassword: "pw-5d1e"}
	fromEnv := &Settings{}
	proxy, _ := url.Parse("http://bob:pw-5d1e@proxy.corp:3128")
	connect := &http.Request{Method: http.MethodConnect, Host: "acme.okta.com:443"}
	for _, tt := range []struct {
		name      string
		s         *Settings
		status    int
		want      string // "" for no error
		temporary bool
	}{
		{"tunnel open", withURL, 200, "", false},
		{"407 from proxy_url", withURL, 407, "proxy http://proxy.corp:3128 (proxy_url) answered HTTP 407 Proxy Authentication Required to CONNECT acme.okta.com:443: the proxy refused the credentials: check proxy_username and proxy_password", false},
		{"407 from the environment", fromEnv, 407, "(the HTTPS_PROXY environment variable) answered HTTP 407 Proxy Authentication Required to CONNECT acme.okta.com:443: the proxy refused the credentials: check the user name and password in the HTTPS_PROXY environment variable", false},
		{"403", withURL, 403, "answered HTTP 403 Forbidden to CONNECT acme.okta.com:443: the proxy does not allow this address: ask its administrator to allow acme.okta.com:443", false},
		{"502 is retried", withURL, 502, "answered HTTP 502 Bad Gateway to CONNECT acme.okta.com:443", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.s.CheckProxyAnswer(context.Background(), proxy, connect, &http.Response{StatusCode: tt.status})
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			var pe *ProxyError
			require.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "pw-5d1e")
			assert.Equal(t, tt.temporary, pe.Temporary())
		})
	}
}

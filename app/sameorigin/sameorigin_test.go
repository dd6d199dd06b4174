package sameorigin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	require.NoError(t, err)
	return u
}

func TestSame(t *testing.T) {
	origin := "https://Splunk.Example.com:8088"
	for _, tt := range []struct {
		url  string
		same bool
	}{
		{"https://splunk.example.com:8088/services/collector/event", true},
		{"HTTPS://SPLUNK.EXAMPLE.COM.:8088/x?y=1", true},
		{"https://splunk.example.com:8089/services/collector/event", false}, // another port
		{"http://splunk.example.com:8088/services/collector/event", false},  // plain http
		{"https://evil.example.com:8088/", false},                           // another host
		{"https://splunk.example.com.evil.com:8088/", false},
		{"https://splunk.example.com/", false}, // 443, not 8088
		{"https://user:pw@splunk.example.com:8088/", false},
		{"/relative", false},
	} {
		t.Run(tt.url, func(t *testing.T) {
			assert.Equal(t, tt.same, Same(mustURL(t, origin), mustURL(t, tt.url)))
		})
	}
	// A default port is the same origin whether written or not.
	assert.True(t, Same(mustURL(t, "https://acme.okta.com"), mustURL(t, "https://acme.okta.com:443/api/v1/logs")))
	assert.True(t, Same(mustURL(t, "http://127.0.0.1"), mustURL(t, "http://127.0.0.1:80/")))
	assert.False(t, Same(mustURL(t, "http://127.0.0.1"), mustURL(t, "https://127.0.0.1:80/")))
	assert.Equal(t, "https://[::1]:8089", Of(mustURL(t, "https://[::1]:8089/x")))
}

func TestCheckNamesTheTargetOnly(t *testing.T) {
	err := Check(mustURL(t, "https://splunk:8088"), mustURL(t, "http://splunk:8088/steal?token=abc#x"))
	require.ErrorIs(t, err, ErrRedirect)
	var re *RedirectError
	require.True(t, errors.As(err, &re))
	assert.Equal(t, "http://splunk:8088", re.Target)
	assert.Contains(t, err.Error(), "http://splunk:8088 is not https://splunk:8088")
	assert.NotContains(t, err.Error(), "token=abc", "only the origin of the target is named")

	err = Check(mustURL(t, "https://splunk:8088"), mustURL(t, "https://u:pw@splunk:8088/"))
	require.ErrorIs(t, err, ErrRedirect)
	assert.Contains(t, err.Error(), "user name or password")
	assert.NotContains(t, err.Error(), "pw")
}

// redirector answers every request with a 307 to target and counts what reached it.
func redirector(t *testing.T, target func() string) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/same" {
			_, _ = io.WriteString(w, "ok")
			return
		}
		http.Redirect(w, r, target(), http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestClientAndTransportRefuseAnotherOrigin(t *testing.T) {
	var reached atomic.Int32
	var leaked atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		leaked.Store(r.Header.Get("Authorization"))
	}))
	defer other.Close()
	var target string
	srv := redirector(t, func() string { return target })
	origin := mustURL(t, srv.URL)
	otherPort := other.URL + "/steal"
	otherHost := strings.Replace(other.URL, "127.0.0.1", "localhost", 1) + "/steal"
	sameHTTPS := strings.Replace(srv.URL, "http://", "https://", 1) + "/x"

	clients := map[string]*http.Client{
		"Client":    Client(nil, origin),
		"Transport": {Transport: Transport(nil, origin)},
	}
	for name, hc := range clients {
		for _, to := range []string{otherPort, otherHost, sameHTTPS} {
			t.Run(name+" "+to, func(t *testing.T) {
				target = to
				req, _ := http.NewRequest(http.MethodPost, srv.URL+"/event", strings.NewReader("body"))
				req.Header.Set("Authorization", "Splunk SECRET-token")
				_, err := hc.Do(req)
				require.ErrorIs(t, err, ErrRedirect)
				assert.Contains(t, err.Error(), Of(mustURL(t, to)), "the error names the target")
				assert.NotContains(t, err.Error(), "SECRET-token")
			})
		}
		t.Run(name+" same origin", func(t *testing.T) {
			target = "/same"
			resp, err := hc.Get(srv.URL + "/event")
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			assert.Equal(t, "ok", string(body), "a redirect on the origin is followed")
		})
	}
	assert.Zero(t, reached.Load(), "nothing reached the other origin")
	assert.Nil(t, leaked.Load())

	target = "/event" // a loop on the origin ends
	_, err := Client(nil, origin).Get(srv.URL + "/event")
	require.ErrorContains(t, err, "stopped after 5 redirects")
}

func TestClientKeepsTheCallersClient(t *testing.T) {
	var asked int
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { asked++; return http.ErrUseLastResponse }}
	c := Client(hc, mustURL(t, "https://a.example"))
	require.NotNil(t, c.CheckRedirect)
	assert.NotSame(t, hc, c)
	req, _ := http.NewRequest(http.MethodGet, "https://a.example/y", nil)
	require.ErrorIs(t, c.CheckRedirect(req, nil), http.ErrUseLastResponse, "the caller's policy is asked after the origin check")
	assert.Equal(t, 1, asked)
}

package okta

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// get is one GET through Go's own client, for the errors it really returns.
func get(t *testing.T, rawURL string, tr *http.Transport) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	require.NoError(t, err)
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	return err
}

func TestClassifyConnect(t *testing.T) {
	tlsSrv := httptest.NewTLSServer(http.NotFoundHandler())
	defer tlsSrv.Close()
	plainSrv := httptest.NewServer(http.NotFoundHandler())
	defer plainSrv.Close()
	refused := closedPort(t)
	proxy, err := url.Parse("http://" + refused)
	require.NoError(t, err)
	plainAsTLSProxy, err := url.Parse("https://" + plainSrv.Listener.Addr().String())
	require.NoError(t, err)
	tests := []struct {
		name  string
		err   error
		fault ConnectFault
		proxy bool
	}{
		{"refused (a real dial)", get(t, "https://"+refused+"/", &http.Transport{}), FaultRefused, false},
		{"refused by the proxy (a real dial)", get(t, tlsSrv.URL, &http.Transport{Proxy: http.ProxyURL(proxy)}), FaultRefused, true},
		{"Windows' refused", &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connectex", syscall.Errno(10061))}, FaultRefused, false},
		{"untrusted certificate (a real handshake)", get(t, tlsSrv.URL, &http.Transport{}), FaultCertificate, false},
		{"not TLS (a real handshake with a plain server)", get(t, "https://"+plainSrv.Listener.Addr().String()+"/", &http.Transport{}), FaultNotTLS, false},
		{"an http proxy set as https:// (a real handshake)", get(t, tlsSrv.URL, &http.Transport{Proxy: http.ProxyURL(plainAsTLSProxy)}), FaultNotTLS, true},
		{"no such host", &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "acme.invalid", IsNotFound: true}}, FaultNoSuchHost, false},
		{"no such proxy host", &net.OpError{Op: "proxyconnect", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "proxy.invalid", IsNotFound: true}}, FaultNoSuchHost, true},
		{"certificate for other names", fmt.Errorf("okta: GET /: %w", x509.HostnameError{Certificate: &x509.Certificate{}, Host: "acme.okta.com"}), FaultCertificate, false},
		{"expired certificate", x509.CertificateInvalidError{Reason: x509.Expired}, FaultCertificate, false},
		{"DNS server not answering: retried", &net.DNSError{Err: "i/o timeout", Name: "acme.okta.com", IsTimeout: true, IsTemporary: true}, FaultNone, false},
		{"reset: retried", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, FaultNone, false},
		{"timeout: retried", context.DeadlineExceeded, FaultNone, false},
		{"nil", nil, FaultNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.fault != FaultNone {
				require.Error(t, tt.err)
			}
			c := ClassifyConnect(tt.err)
			assert.Equal(t, tt.fault, c.Fault, "%v", tt.err)
			assert.Equal(t, tt.proxy, c.Proxy, "%v", tt.err)
			assert.Equal(t, tt.fault == FaultCertificate, c.Certificate != nil)
		})
	}
}

// TestFetchFailFast: with FailFast a fault that retrying cannot fix ends Fetch after one
// attempt; without it (a running input) the same fault is retried.
func TestFetchFailFast(t *testing.T) {
	untrusted := httptest.NewTLSServer(http.NotFoundHandler())
	defer untrusted.Close()
	for _, tt := range []struct {
		name  string
		org   string
		fault ConnectFault
	}{
		{"connection refused", "https://" + closedPort(t), FaultRefused},
		{"untrusted certificate", untrusted.URL, FaultCertificate},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, failFast := range []bool{true, false} {
				clk := &fakeClock{now: t0}
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				clk.cancel, clk.cancelAfter = cancel, 2
				c, err := New(Config{OrgURL: tt.org, HTTPClient: &http.Client{Transport: NewSSWSTransport(testToken, &http.Transport{})},
					Clock: clk, Rand: func() float64 { return 0.5 }, FailFast: failFast})
				require.NoError(t, err)
				_, err = c.Fetch(ctx, c.PollURL(Query{Limit: 1}))
				require.Error(t, err)
				assert.Equal(t, tt.fault, ClassifyConnect(err).Fault, "%v", err)
				if failFast {
					assert.Empty(t, clk.Sleeps(), "not retried: %v", err)
					assert.Equal(t, int64(1), c.Stats().Requests)
					assert.NoError(t, ctx.Err())
				} else {
					assert.Len(t, clk.Sleeps(), 2, "retried until stopped: %v", err)
					assert.ErrorIs(t, err, context.Canceled)
				}
			}
		})
	}
}

// TestFetchMaxAttempts: a 503 that lasts ends Fetch after MaxAttempts, with Okta's error.
func TestFetchMaxAttempts(t *testing.T) {
	clk := &fakeClock{now: t0}
	busy := reply{status: 503, rate: rate(50, 49, t0.Add(time.Minute)), body: `{"errorCode":"E0000009","errorSummary":"Internal Server Error","errorId":"oae503","errorCauses":[]}`}
	f := newFakeOkta(t, clk, busy, busy, busy, busy)
	c, _ := testClient(t, f.srv, clk, func(cfg *Config) { cfg.MaxAttempts = 3 })
	_, err := c.Fetch(context.Background(), c.PollURL(Query{Limit: 1}))
	require.ErrorIs(t, err, ErrGaveUp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
	assert.Len(t, f.requests(), 3)
	assert.Len(t, clk.Sleeps(), 2)
}

// TestFetchGivesUpBeforeAWaitPastTheDeadline: a 429 whose window resets after the context's
// deadline is reported at once, instead of sleeping into the deadline and reporting that.
func TestFetchGivesUpBeforeAWaitPastTheDeadline(t *testing.T) {
	clk := &fakeClock{now: t0}
	f := newFakeOkta(t, clk,
		reply{status: 429, rate: rate(50, 0, t0.Add(40*time.Second)), body: `{"errorCode":"E0000047","errorSummary":"API call exceeded rate limit due to too many requests.","errorId":"oae429","errorCauses":[]}`},
		reply{body: events(1, 0), rate: rate(50, 49, t0.Add(time.Minute))})
	c, _ := testClient(t, f.srv, clk, func(cfg *Config) { cfg.Rand = func() float64 { return 0 } })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := c.Fetch(ctx, c.PollURL(Query{Limit: 1}))
	require.ErrorIs(t, err, ErrGaveUp)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 429, apiErr.StatusCode)
	assert.Contains(t, err.Error(), "the next would be in 40s, past the deadline")
	assert.Empty(t, clk.Sleeps())
	assert.Len(t, f.requests(), 1)
	assert.NoError(t, ctx.Err(), "reported before the deadline")
	assert.False(t, errors.Is(err, context.DeadlineExceeded))
}

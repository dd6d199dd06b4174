package oktasim

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSelfSignedTLS(t *testing.T) {
	cfg, caPEM, err := SelfSignedTLS(time.Now())
	require.NoError(t, err)
	s, err := NewServer(Options{Token: testToken}, Generate(GenOptions{Events: 3}))
	require.NoError(t, err)
	hs := httptest.NewUnstartedServer(s)
	hs.TLS = cfg
	hs.StartTLS()
	defer hs.Close()

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(caPEM))
	_, port, err := net.SplitHostPort(hs.Listener.Addr().String())
	require.NoError(t, err)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		t.Run(host, func(t *testing.T) {
			client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			url := "https://" + net.JoinHostPort(host, port) + "/api/v1/logs"
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			req.Header.Set("Authorization", "SSWS "+testToken)
			resp, err := client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, 200, resp.StatusCode)
			_, next := links(t, resp.Header)
			assert.Regexp(t, `^https://`+host+`:\d+/api/v1/logs\?`, next, "links keep the scheme and host the client used")
		})
	}

	// A client that does not trust the CA is refused.
	_, err = http.Get(hs.URL + "/api/v1/logs")
	require.Error(t, err)
}

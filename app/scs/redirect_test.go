package scs

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/sameorigin"
	"github.com/oktasight/oktasight/app/sameorigin/sameorigintest"
)

// The SDK's own http.Client follows redirects with the bearer token; the sink's transport
// refuses every hop off the ingest origin, and the error names the target.
func TestRedirectToAnotherOriginKeepsTheToken(t *testing.T) {
	targets, elsewhere := sameorigintest.Others(t, func(w http.ResponseWriter, _ *http.Request) {
		reply(w, http.StatusOK, "SUCCESS", "Success")
	})
	for _, to := range targets {
		t.Run(to.Name, func(t *testing.T) {
			srv, asked := sameorigintest.Redirector(t, to.URL)
			clock := &fakeClock{now: time.Unix(1714557600, 0)}
			s, logs := newTestSink(t, srv.URL, clock, func(c *Config) { c.HTTPClient = srv.Client() })
			err := s.WritePage(t.Context(), makeEvents(3))
			assert.Empty(t, elsewhere.Take(), "requests that reached the other origin")
			require.ErrorIs(t, err, sameorigin.ErrRedirect)
			u, _ := url.Parse(to.URL)
			assert.Contains(t, err.Error(), sameorigin.Of(u), "the error names the target")
			assert.NotContains(t, err.Error(), testToken)
			assert.NotContains(t, logs.String(), testToken)
			assert.EqualValues(t, 1, asked.Load(), "not retried")
		})
	}
}

package hec

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/sameorigin"
	"github.com/oktasight/oktasight/app/sameorigin/sameorigintest"
)

// A HEC endpoint (or something in front of it) that answers 307 elsewhere does not get the
// token sent there: not to another port of the same host, not to plain http, not to another
// host. The error names the target and is not retried.
func TestRedirectToAnotherOriginKeepsTheToken(t *testing.T) {
	targets, elsewhere := sameorigintest.Others(t, func(w http.ResponseWriter, _ *http.Request) {
		hecReply(w, http.StatusOK, "Success", 0)
	})
	for _, to := range targets {
		for _, path := range []string{eventPath, ackPath} {
			t.Run(to.Name+" "+path, func(t *testing.T) {
				srv, asked := sameorigintest.Redirector(t, to.URL)
				if path == ackPath { // the event POST gets its ackId; the ack query is redirected
					srv.Config.Handler = ackIDFirst(srv.Config.Handler)
				}
				clock := newFakeClock()
				s, logs := newTestSink(t, srv.URL, clock, func(c *Config) {
					c.HTTPClient = srv.Client()
					c.UseACK = path == ackPath
				})
				err := s.WritePage(t.Context(), makeEvents(3))
				assert.Empty(t, elsewhere.Take(), "requests that reached the other origin")
				require.ErrorIs(t, err, sameorigin.ErrRedirect)
				u, _ := url.Parse(to.URL)
				assert.Contains(t, err.Error(), sameorigin.Of(u), "the error names the target")
				assert.NotContains(t, err.Error(), testToken)
				assert.NotContains(t, logs.String(), testToken)
				// With ACK, the one sleep is the wait before the first ack poll.
				assert.LessOrEqual(t, len(clock.sleeps), 1, "a refused redirect is not retried")
				assert.EqualValues(t, 1, asked.Load(), "one request to the redirecting endpoint")
			})
		}
	}
}

// ackIDFirst answers an event POST with an ackId, so the sink goes on to the ack endpoint.
func ackIDFirst(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == eventPath {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"text":"Success","code":0,"ackId":1}`))
			return
		}
		next.ServeHTTP(w, r)
	})
}

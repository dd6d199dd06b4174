package splunkd

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/sameorigin"
	"github.com/oktasight/oktasight/app/sameorigin/sameorigintest"
)

// A splunkd (or a proxy in front of it) that answers 307 elsewhere does not get the session
// key sent there, for any call: storage/passwords, inputs, KV store, the backfill's export
// search. The error names the target; the KV store's retries do not repeat it.
func TestRedirectToAnotherOriginKeepsTheSessionKey(t *testing.T) {
	targets, elsewhere := sameorigintest.Others(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"entry":[]}`))
	})
	calls := map[string]func(c *Client) error{
		"storage/passwords": func(c *Client) error {
			_, err := c.GetPassword(context.Background(), "oktasight", "prod")
			return err
		},
		"store a secret": func(c *Client) error {
			return c.SetPassword(context.Background(), "oktasight", "prod", oktaToken)
		},
		"mask an input": func(c *Client) error {
			return c.MaskInputParam(context.Background(), "oktainput", "prod", "api_token", "********")
		},
		"KV store": func(c *Client) error {
			var v map[string]any
			return c.KVGet(context.Background(), "oktasight_checkpoints", "prod", &v)
		},
		"export search": func(c *Client) error {
			return c.Export(context.Background(), "index=okta", time.Time{}, time.Time{}, func(map[string]string) error { return nil })
		},
	}
	for _, to := range targets {
		for name, call := range calls {
			t.Run(to.Name+" "+name, func(t *testing.T) {
				srv, asked := sameorigintest.Redirector(t, to.URL)
				logs := &syncBuffer{}
				sl := &sleeps{}
				// No HTTPClient: New builds the client splunkd's inputs use (loopback, no CA file).
				c, err := New(Config{ServerURI: srv.URL, SessionKey: sessionKey, App: "oktasight", Sleep: sl.sleep,
					Logger: slog.New(slog.NewTextHandler(logs, nil))})
				require.NoError(t, err)
				err = call(c)
				assert.Empty(t, elsewhere.Take(), "requests that reached the other origin")
				require.ErrorIs(t, err, sameorigin.ErrRedirect)
				u, _ := url.Parse(to.URL)
				assert.Contains(t, err.Error(), sameorigin.Of(u), "the error names the target")
				assert.NotContains(t, err.Error(), sessionKey)
				assert.NotContains(t, err.Error(), oktaToken)
				assert.NotContains(t, logs.String(), sessionKey)
				assert.Empty(t, sl.all(), "not retried")
				assert.EqualValues(t, 1, asked.Load())
			})
		}
	}
}

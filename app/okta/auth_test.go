package okta

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type credError struct{ temporary bool }

func (e credError) Error() string   { return "invalid_client: the key is not registered" }
func (e credError) Temporary() bool { return e.temporary }
func (e credError) Hint() string    { return "register the public key on the app" }

type failingAuth struct {
	err   error
	calls int
}

func (f *failingAuth) RoundTrip(*http.Request) (*http.Response, error) { f.calls++; return nil, f.err }

// An auth transport that cannot get a credential for good stops the fetch at once; one that
// may recover is retried like any network error.
func TestFetchStopsOnPermanentAuthErrors(t *testing.T) {
	for _, temporary := range []bool{false, true} {
		auth := &failingAuth{err: credError{temporary: temporary}}
		ctx, cancel := context.WithCancel(context.Background())
		clock := &fakeClock{cancelAfter: 6, cancel: cancel}
		c, err := New(Config{OrgURL: "https://acme.okta.com", HTTPClient: &http.Client{Transport: auth}, Clock: clock})
		require.NoError(t, err)
		_, err = c.Fetch(ctx, c.PollURL(Query{Limit: 10}))
		cancel()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "invalid_client")
		if temporary {
			assert.GreaterOrEqual(t, auth.calls, 3, "a temporary auth failure is retried")
		} else {
			assert.Equal(t, 1, auth.calls, "a permanent auth failure is not retried")
		}
	}
}

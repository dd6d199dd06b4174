package splunkd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/oktasight/oktasight/app/sameorigin"
)

// retryPolicy is how KV-store calls ride out a busy or restarting KV store (503 while
// mongod starts, a search-head-cluster member catching up).
type retryPolicy struct {
	attempts  int
	base, max time.Duration
}

var defaultRetry = retryPolicy{attempts: 6, base: 500 * time.Millisecond, max: 8 * time.Second}

// retryable says whether a failed attempt may be repeated: 5xx and 429 from splunkd, and
// transport errors that are not the caller giving up; never an undecodable answer.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil || errors.Is(err, sameorigin.ErrRedirect) {
		return false
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Status >= 500 || e.Status == http.StatusTooManyRequests
	}
	var a *answerError
	return !errors.As(err, &a)
}

// backoff is the wait before attempt i+1 (i from 0): doubling from base, capped at max.
func (p retryPolicy) backoff(i int) time.Duration {
	d := p.base << i
	if d > p.max || d <= 0 {
		d = p.max
	}
	return d
}

// withRetry runs f until it succeeds, fails for good, or the attempts run out.
func (c *Client) withRetry(ctx context.Context, f func() error) error {
	var err error
	for i := 0; i < c.retry.attempts; i++ {
		if err = f(); err == nil || !retryable(ctx, err) {
			return err
		}
		if i == c.retry.attempts-1 {
			break
		}
		c.log.Warn("splunkd KV store call failed, retrying", "attempt", i+1, "error", err.Error())
		if serr := c.sleep(ctx, c.retry.backoff(i)); serr != nil {
			return errors.Join(err, serr)
		}
	}
	return fmt.Errorf("gave up after %d attempts: %w", c.retry.attempts, err)
}

func (c *Client) kvPath(collection, key string) (rest string, err error) {
	if collection == "" {
		return "", errors.New("splunkd KV store: no collection name")
	}
	rest = "storage/collections/data/" + url.PathEscape(collection)
	if key != "" {
		rest += "/" + url.PathEscape(key)
	}
	return rest, nil
}

// KVGet decodes the document key of the app's collection into v; ErrNotFound (which also
// matches fs.ErrNotExist) when there is none.
func (c *Client) KVGet(ctx context.Context, collection, key string, v any) error {
	if key == "" {
		return fmt.Errorf("KV store collection %s: empty key", collection)
	}
	rest, err := c.kvPath(collection, key)
	if err != nil {
		return err
	}
	err = c.withRetry(ctx, func() error {
		return c.call(ctx, request{method: http.MethodGet, path: c.nsPath(rest), op: "GET " + rest}, v)
	})
	if err != nil {
		return fmt.Errorf("KV store collection %s: read %q: %w", collection, key, err)
	}
	return nil
}

// KVPut writes v (a JSON object) as the document key of the app's collection, replacing
// any previous one: update first, create on 404, update again if a create races (409).
func (c *Client) KVPut(ctx context.Context, collection, key string, v any) error {
	if key == "" {
		return fmt.Errorf("KV store collection %s: empty key", collection)
	}
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("KV store collection %s: encode %q: %w", collection, key, err)
	}
	doc = bytes.TrimSpace(doc)
	if len(doc) < 2 || doc[0] != '{' {
		return fmt.Errorf("KV store collection %s: %q: a document must be a JSON object", collection, key)
	}
	keyRest, err := c.kvPath(collection, key)
	if err != nil {
		return err
	}
	collRest, _ := c.kvPath(collection, "")
	update := func() error {
		return c.call(ctx, request{method: http.MethodPost, path: c.nsPath(keyRest), op: "POST " + keyRest,
			body: doc, contentType: "application/json"}, nil)
	}
	create := func() error {
		return c.call(ctx, request{method: http.MethodPost, path: c.nsPath(collRest), op: "POST " + collRest,
			body: withKey(doc, key), contentType: "application/json"}, nil)
	}
	err = c.withRetry(ctx, func() error {
		err := update()
		if !errors.Is(err, ErrNotFound) {
			return err
		}
		err = create()
		var e *Error
		if errors.As(err, &e) && e.Status == http.StatusConflict {
			return update()
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("KV store collection %s: write %q: %w", collection, key, err)
	}
	return nil
}

// withKey returns the JSON object doc with "_key" set first (later duplicates of _key in doc
// would win in splunkd, so callers must not put one there).
func withKey(doc []byte, key string) []byte {
	k, _ := json.Marshal(key)
	out := make([]byte, 0, len(doc)+len(k)+10)
	out = append(out, `{"_key":`...)
	out = append(out, k...)
	inner := bytes.TrimSpace(doc[1 : len(doc)-1])
	if len(inner) > 0 {
		out = append(out, ',')
		out = append(out, inner...)
	}
	return append(out, '}')
}

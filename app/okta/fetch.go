package okta

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/oktasight/oktasight/app/sameorigin"
)

// Fetch gets one page. It waits as the rate budget requires, then retries the same URL on
// 429, 408, 5xx, network errors, timeouts and truncated or invalid pages, with capped
// exponential backoff and jitter (a 429 that gives the window's reset waits for it). It
// returns when a page arrives, on an error retrying cannot fix (an *APIError for 400, 401,
// 403, 404; an *EventError; a link or redirect off the org), or when ctx ends. url must be on
// the org: the API token is never sent anywhere else.
func (c *Client) Fetch(ctx context.Context, rawURL string) (*Page, error) {
	return c.fetch(ctx, rawURL, false)
}

// FetchAhead is Fetch for a caller that reads a query's pages one after another. Once the
// page's body has arrived whole and its links are checked, before the body is decoded, the
// client sends the request for the page's next link in the background (not after an empty
// page: a caught-up poller waits before it asks again); the next FetchAhead of that URL takes
// the answer over. Okta's response time then overlaps the decoding and the caller's work with
// the page, while still only one request is in flight: a page that proves invalid is requested
// again only after the early request has ended. The early request lives in ctx; StopAhead
// ends one that no FetchAhead will take.
func (c *Client) FetchAhead(ctx context.Context, rawURL string) (*Page, error) {
	return c.fetch(ctx, rawURL, true)
}

// StopAhead ends the request FetchAhead sent early, if any, and waits until it has ended.
func (c *Client) StopAhead() {
	c.aheadMu.Lock()
	e := c.ahead
	c.ahead = nil
	c.aheadMu.Unlock()
	e.stop()
}

func (c *Client) fetch(ctx context.Context, rawURL string, ahead bool) (*Page, error) {
	if rawURL == "" {
		c.StopAhead()
		return nil, errors.New("okta: no URL to fetch (did the previous page have no next link?)")
	}
	u, err := c.orgURL(nil, rawURL)
	if err != nil {
		c.StopAhead()
		return nil, fmt.Errorf("okta: %w", err)
	}
	where := pathQuery(u)
	first := c.takeEarly(rawURL) // nil unless this URL was requested early; any other is ended
	if err := ctx.Err(); err != nil {
		first.stop() // as for any request: nothing once ctx has ended, not even an answer in hand
		return nil, stopped(where, 0, err, nil)
	}
	var last error
	for n := 1; ; n++ {
		var (
			b *body
			r result
		)
		if n == 1 && first != nil {
			<-first.done
			b, r = first.body, first.res
			if r.err != nil && first.ctx.Err() != nil && ctx.Err() == nil {
				// Ended with the context of an earlier call, not this one's: not an attempt.
				n--
				first = nil
				continue
			}
		} else {
			if err := c.sleep(ctx, c.paceDelay()); err != nil {
				return nil, stopped(where, n-1, err, last)
			}
			b, r = c.attempt(ctx, u, where)
		}
		if r.err == nil {
			if ahead && b.linkErr == nil && b.next != "" && !emptyArray(b.buf) {
				c.startEarly(ctx, b.next)
			}
			var page *Page
			page, r = c.decode(b, where, r)
			if r.err == nil {
				page.Attempts = n
				return page, nil
			}
			c.StopAhead() // the same URL is requested again, or the caller stops: one request at a time
		}
		if !r.retry {
			return nil, r.err
		}
		if ctx.Err() != nil {
			return nil, stopped(where, n, ctx.Err(), r.err)
		}
		last = r.err
		wait := c.retryWait(n, r)
		if c.attempts > 0 && n >= c.attempts {
			return nil, fmt.Errorf("okta: GET %s: %w after %d attempts: %w", where, ErrGaveUp, n, last)
		}
		if d, ok := ctx.Deadline(); ok && time.Until(d) < wait {
			// Waiting would only end in the deadline (real time, as contexts keep it): say
			// what the last attempt got now.
			return nil, fmt.Errorf("okta: GET %s: %w after %d attempts: the next would be in %s, past the deadline: %w",
				where, ErrGaveUp, n, wait.Round(time.Second), last)
		}
		c.log.Warn("oktainput retry", "attempt", n, "status", r.status, "errorId", r.errorID,
			"wait", wait, "url", where, "error", r.err.Error())
		c.mu.Lock()
		c.stats.Retries++
		c.mu.Unlock()
		if err := c.sleep(ctx, wait); err != nil {
			return nil, stopped(where, n, err, last)
		}
	}
}

// ErrGaveUp is wrapped, with the last attempt's error, by the error of a Fetch that stopped
// retrying before its context ended: Config.MaxAttempts were made, or the next attempt was due
// after the context's deadline.
var ErrGaveUp = errors.New("gave up")

// early is a request sent before anyone asked for it: the next page of a page in hand.
type early struct {
	client *Client
	url    string
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed once body and res are set
	body   *body
	res    result
}

// stop ends the request and waits for it, giving back the memory of a body nobody will take.
func (e *early) stop() {
	if e == nil {
		return
	}
	e.cancel()
	<-e.done
	if e.body != nil {
		e.client.putBody(&e.body.buf)
	}
}

// startEarly requests rawURL (a checked next link) in the background, paced like any request.
func (c *Client) startEarly(ctx context.Context, rawURL string) {
	c.StopAhead()
	u, err := c.orgURL(nil, rawURL)
	if err != nil {
		return // checked already; the caller's own request will report it
	}
	ectx, cancel := context.WithCancel(ctx)
	e := &early{client: c, url: rawURL, ctx: ectx, cancel: cancel, done: make(chan struct{})}
	c.aheadMu.Lock()
	c.ahead = e
	c.aheadMu.Unlock()
	go func() {
		defer close(e.done)
		where := pathQuery(u)
		if err := c.sleep(ectx, c.paceDelay()); err != nil {
			e.res = result{err: fmt.Errorf("okta: GET %s: %w", where, err)}
			return
		}
		e.body, e.res = c.attempt(ectx, u, where)
	}()
}

// takeEarly returns the early request for rawURL, taking it over, and ends any other.
func (c *Client) takeEarly(rawURL string) *early {
	c.aheadMu.Lock()
	e := c.ahead
	c.ahead = nil
	c.aheadMu.Unlock()
	if e != nil && e.url == rawURL {
		return e
	}
	e.stop()
	return nil
}

// emptyArray reports whether a page body is an empty JSON array ("[]", maybe with white
// space): a caught-up poller's answer, after which nothing is requested early.
func emptyArray(b []byte) bool {
	t := bytes.TrimSpace(b)
	return len(t) >= 2 && t[0] == '[' && t[len(t)-1] == ']' && len(bytes.TrimSpace(t[1:len(t)-1])) == 0
}

func stopped(where string, attempts int, ctxErr, last error) error {
	if last == nil {
		return fmt.Errorf("okta: GET %s: %w", where, ctxErr)
	}
	return fmt.Errorf("okta: GET %s: stopped after %d attempts: %w (last error: %w)", where, attempts, ctxErr, last)
}

// result is what one attempt says about retrying.
type result struct {
	err       error
	retry     bool
	status    int    // 0 when no response
	errorID   string // Okta's errorId, for support
	rate      RateLimit
	serverNow time.Time
	at        time.Time // client clock when the response arrived
}

// attempt sends one request and, for a successful answer, reads its body whole and checks its
// links; decode makes the page of it.
func (c *Client) attempt(ctx context.Context, u *url.URL, where string) (*body, result) {
	actx, cancel := context.WithTimeout(ctx, c.attemptT)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, result{err: fmt.Errorf("okta: GET %s: %w", where, err)}
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.ua)
	c.mu.Lock()
	c.stats.Requests++
	c.mu.Unlock()
	sent := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		err = fmt.Errorf("okta: GET %s: %w", where, unwrapURLError(err))
		var auth authError
		switch {
		case errors.Is(err, sameorigin.ErrRedirect):
			return nil, result{err: err}
		case ctx.Err() != nil:
			return nil, result{err: err}
		case errors.As(err, &auth) && !auth.Temporary():
			// The auth transport could not get a credential and says retrying will not help
			// (a wrong key, a missing grant): stop with its message.
			return nil, result{err: err}
		case c.failFast && ClassifyConnect(err).Fault != FaultNone:
			return nil, result{err: err}
		}
		return nil, result{err: err, retry: true}
	}
	defer func() {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // lets the connection be reused
		_ = resp.Body.Close()
	}()
	r := result{status: resp.StatusCode, rate: ParseRateLimit(resp.Header), at: c.clock.Now()}
	if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		r.serverNow = t
	}
	c.mu.Lock()
	c.pace.observe(r.rate, r.serverNow, sent, r.at, resp.StatusCode < 300, c.rand())
	if r.rate.Valid && !r.rate.Concurrency() {
		c.stats.LastRate = r.rate
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		c.stats.Responses429++
	}
	c.mu.Unlock()

	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return c.receive(resp, u, where, r)
	case resp.StatusCode >= 400:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		apiErr := newAPIError(resp.StatusCode, body, where)
		r.err, r.retry, r.errorID = apiErr, apiErr.Temporary(), apiErr.ID
		return nil, r
	default:
		r.err = newAPIError(resp.StatusCode, nil, where)
		return nil, r
	}
}

// body is a successful answer read whole, not yet decoded.
type body struct {
	buf        []byte
	next, self string // absolute, checked
	linkErr    error  // a link off the org: reported once the body is known to be well formed
}

// receive reads a successful answer's body and checks its links.
func (c *Client) receive(resp *http.Response, u *url.URL, where string, r result) (*body, result) {
	if resp.ContentLength > MaxPageBytes {
		r.err = fmt.Errorf("okta: GET %s: %w", where, &BodyError{Err: fmt.Errorf("%w: Content-Length %d", ErrPageTooLarge, resp.ContentLength)})
		r.retry = true
		return nil, r
	}
	hint := int(resp.ContentLength)
	if hint <= 0 {
		hint = int(c.lastBody.Load()) * 9 / 8 // pages of one query are of similar size
	}
	buf := c.getBody()
	if cap(buf) < hint {
		// Room for a slightly larger page: a buffer that fits only this one would be too
		// small for about every other page of the query, and be replaced by fresh memory
		// that the kernel must fault in page by page.
		buf = make([]byte, 0, min(hint+hint/8, MaxPageBytes+1))
	}
	buf, err := readAll(resp.Body, buf)
	if err != nil {
		n := len(buf)
		if cap(buf) > keepBytes {
			// An answer far larger than a page: give its memory back to the system now, or a
			// long-running input keeps hundreds of megabytes it will not use again.
			buf = nil
			debug.FreeOSMemory()
		} else {
			c.putBody(&buf)
		}
		r.err = fmt.Errorf("okta: GET %s: %w", where, &BodyError{Offset: int64(n), Err: err})
		r.retry = true
		return nil, r
	}
	c.lastBody.Store(int64(len(buf)))
	b := &body{buf: buf}
	next, self := ParseLinks(resp.Header)
	for _, l := range []struct {
		rel string
		raw string
		dst *string
	}{{"next", next, &b.next}, {"self", self, &b.self}} {
		if l.raw == "" {
			continue
		}
		abs, err := c.orgURL(u, l.raw)
		if err != nil {
			b.linkErr = fmt.Errorf("okta: GET %s: %s link: %w", where, l.rel, err)
			break
		}
		*l.dst = abs.String()
	}
	return b, r
}

// decode makes a page of a received body: a body that is not a well-formed page is retried,
// an unusable event or a link off the org is not.
func (c *Client) decode(b *body, where string, r result) (*Page, result) {
	events, err := scanBody(b.buf)
	if err != nil {
		c.putBody(&b.buf) // no event points into it
		r.err = fmt.Errorf("okta: GET %s: %w", where, err)
		var be *BodyError
		r.retry = errors.As(err, &be)
		return nil, r
	}
	if b.linkErr != nil {
		r.err = b.linkErr
		return nil, r
	}
	if changed := mendText(events, b.buf); len(changed) > 0 {
		c.log.Warn("oktainput events hold bytes that are not UTF-8 (written as U+FFFD) or U+FFFE/U+FFFF (written as \\ufffe, \\uffff)",
			"url", where, "events", len(changed), "first_uuid", clip(events[changed[0]].UUID, 64))
	}
	return &Page{Events: events, Next: b.next, Self: b.self, Rate: r.rate, body: &b.buf, client: c}, r
}

// orgURL parses raw (resolved against base, if any) and refuses it unless it is on the org.
func (c *Client) orgURL(base *url.URL, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("bad URL: %w", unwrapURLError(err))
	}
	if base != nil {
		u = base.ResolveReference(u)
	}
	u.Fragment, u.RawFragment = "", ""
	if !u.IsAbs() || !sameorigin.Same(c.org, u) {
		return nil, fmt.Errorf("%w: refusing %s://%s, the org is %s", ErrForeignURL, clip(u.Scheme, 10), clip(u.Host, 100), c.org.Host)
	}
	return u, nil
}

// unwrapURLError drops the *url.Error wrapper, whose text repeats the full URL.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// paceDelay is the wait the rate budget asks for before the next request.
func (c *Client) paceDelay() time.Duration {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pace.delay(now)
}

// retryWait is how long to wait after a failed attempt n (from 1): until the window resets
// for a 429 that says when, else capped exponential backoff; never less than pacing asks.
func (c *Client) retryWait(n int, r result) time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	var wait time.Duration
	if r.status == http.StatusTooManyRequests && r.rate.Valid && !r.rate.Concurrency() {
		if toReset := untilReset(r.rate.Reset, r.serverNow, r.at); toReset > 0 {
			wait = toReset + resetSlack(c.rand())
		}
	}
	if wait == 0 {
		wait = c.backoff(n)
	}
	return max(wait, c.pace.delay(c.clock.Now()))
}

// backoff doubles from firstBackoff up to maxBack, with equal jitter: half fixed, so a wait is
// never near zero, half random, so clients that failed together do not retry together.
func (c *Client) backoff(n int) time.Duration {
	d := c.maxBack
	if n-1 < 30 {
		d = min(firstBackoff<<(n-1), c.maxBack)
	}
	return d/2 + time.Duration(c.rand()*float64(d/2))
}

// sleep waits d and counts it as throttled time.
func (c *Client) sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	start := c.clock.Now()
	err := c.clock.Sleep(ctx, d)
	waited := d
	if err != nil {
		waited = min(max(c.clock.Now().Sub(start), 0), d)
	}
	c.mu.Lock()
	c.stats.Throttled += waited
	c.mu.Unlock()
	return err
}

// authError is an error from an auth transport (such as an OAuth token request) that knows
// whether trying again can succeed, and what an admin should change.
type authError interface {
	error
	Temporary() bool
	Hint() string
}

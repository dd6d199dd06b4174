// Package hec delivers Okta events to a Splunk HTTP Event Collector, for pollers that run
// outside Splunk (Splunk Cloud users). WritePage returns only once HEC has accepted the whole
// page (with indexer acknowledgement: once the events are indexed), so the poller's
// checkpoint never runs ahead of what Splunk holds.
//
// Duplicates: without acknowledgement, a POST whose reply is lost (connection cut after HEC
// read the body) is sent again and may be indexed twice. With acknowledgement, a batch is sent
// again only when its ack has not come within AckTimeout (an indexer restart, a lost channel):
// those events may then be indexed twice. Nothing is ever dropped.
package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oktasight/oktasight/app/clock"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/oktasight/oktasight/app/okta"
	"github.com/oktasight/oktasight/app/sameorigin"
)

// Defaults for the zero values of Config.
const (
	DefaultBatchBytes   = 1 << 20
	DefaultAckTimeout   = 5 * time.Minute
	DefaultMaxBackoff   = 30 * time.Second
	DefaultRetryFor     = 15 * time.Minute
	DefaultSourcetype   = "OktaIM2:log"
	defaultTimeout      = time.Minute
	firstBackoff        = 500 * time.Millisecond
	firstAckPoll        = time.Second
	maxAckPoll          = 10 * time.Second
	maxReplyBytes       = 64 << 10
	eventPath           = "/services/collector/event"
	ackPath             = "/services/collector/ack"
	channelHeader       = "X-Splunk-Request-Channel"
	authorizationScheme = "Splunk "
)

// Config says where and how to send events.
type Config struct {
	URL        string // HEC base URL, e.g. https://splunk.example.com:8088
	Token      string // HEC token; never logged nor put in errors
	Index      string // empty: the token's default index
	Source     string
	Sourcetype string // default DefaultSourcetype
	Host       string
	// HTTPClient sends the requests (default: a client with a one-minute timeout). It is
	// copied, not changed; the copy follows redirects only on URL's scheme, host and port.
	HTTPClient *http.Client
	// UseACK turns on indexer acknowledgement: the token must have it enabled in Splunk.
	UseACK bool
	// Channel is the X-Splunk-Request-Channel (a UUID); a random one is made when empty.
	Channel string
	// BatchBytes caps the uncompressed size of one POST body (default 1 MiB); an event larger
	// than that goes alone in its batch.
	BatchBytes int
	// DisableGzip sends bodies uncompressed (gzip is on by default).
	DisableGzip bool
	// AckTimeout is how long a batch may wait for its ack before it is sent again.
	AckTimeout time.Duration
	// MaxBackoff caps the wait between retries and between ack polls.
	MaxBackoff time.Duration
	// RetryFor bounds how long WritePage keeps retrying one page before it returns an error
	// (the poller then stops without saving its checkpoint, and the page is read again on the
	// next run). Default 15 minutes.
	RetryFor time.Duration
	// Now and Sleep let tests drive time; Sleep must return ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
	// Logger receives one line per retry; default: discard.
	Logger *slog.Logger
}

// Sink writes pages of Okta events to HEC; it is safe for concurrent use, one page at a time.
type Sink struct {
	cfg      Config
	eventURL string
	ackURL   string
	auth     string
	meta     []byte // ,"host":…,"event": — the part of each object after "time"
	log      *slog.Logger

	mu   sync.Mutex // one page at a time: the buffers below are reused
	raw  bytes.Buffer
	zbuf bytes.Buffer
	zw   *gzip.Writer
}

// New checks cfg and returns a Sink.
func New(cfg Config) (*Sink, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("hec url %q: want https://host:port", cfg.URL)
	}
	if u.User != nil {
		return nil, errors.New("hec url: must not hold credentials; pass the token separately")
	}
	if cfg.Token == "" {
		return nil, errors.New("hec token: empty")
	}
	if strings.ContainsAny(cfg.Token, "\r\n") {
		return nil, errors.New("hec token: holds a line break")
	}
	if cfg.Sourcetype == "" {
		cfg.Sourcetype = DefaultSourcetype
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: defaultTimeout}
	}
	// The token is a header of every request: a redirect may not take it to another origin.
	cfg.HTTPClient = sameorigin.Client(cfg.HTTPClient, u)
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = DefaultAckTimeout
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = DefaultRetryFor
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = clock.Sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.UseACK && cfg.Channel == "" {
		cfg.Channel = newUUID()
	}
	base := strings.TrimRight(u.Scheme+"://"+u.Host+u.Path, "/")
	s := &Sink{
		cfg:      cfg,
		eventURL: base + eventPath,
		ackURL:   base + ackPath,
		auth:     authorizationScheme + cfg.Token,
		meta:     metaFields(cfg),
		log:      cfg.Logger,
	}
	if cfg.UseACK {
		s.ackURL += "?channel=" + url.QueryEscape(cfg.Channel)
	}
	s.zw, _ = gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
	return s, nil
}

// Channel returns the X-Splunk-Request-Channel in use ("" without UseACK).
func (s *Sink) Channel() string {
	if !s.cfg.UseACK {
		return ""
	}
	return s.cfg.Channel
}

// metaFields is the constant middle of every event object; empty fields are left out so HEC
// applies the token's defaults.
func metaFields(cfg Config) []byte {
	var b []byte
	for _, f := range []struct{ k, v string }{
		{"host", cfg.Host}, {"source", cfg.Source}, {"sourcetype", cfg.Sourcetype}, {"index", cfg.Index},
	} {
		if f.v == "" {
			continue
		}
		k, _ := json.Marshal(f.k)
		v, _ := json.Marshal(f.v)
		b = append(b, ',')
		b = append(b, k...)
		b = append(b, ':')
		b = append(b, v...)
	}
	return append(b, `,"event":`...)
}

// appendEvent appends one HEC event object; the Okta JSON goes in as it came, byte for byte.
func (s *Sink) appendEvent(b []byte, ev okta.Event) []byte {
	b = append(b, `{"time":`...)
	b = appendEpoch(b, ev.Published)
	b = append(b, s.meta...)
	b = append(b, ev.Raw...)
	return append(b, '}')
}

// appendEpoch writes seconds since the epoch with milliseconds, as HEC reads "time".
func appendEpoch(b []byte, t time.Time) []byte {
	ms := t.UnixMilli()
	if ms < 0 {
		return strconv.AppendFloat(b, float64(ms)/1000, 'f', 3, 64)
	}
	b = strconv.AppendInt(b, ms/1000, 10)
	frac := ms % 1000
	b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	return b
}

// batch is one POST body and the events it carries.
type batch struct {
	body   []byte // as sent (gzipped unless disabled)
	events int
	first  int // index in the page of its first event, for errors
}

// WritePage sends the page in batches of at most BatchBytes and returns once HEC accepted
// (with UseACK: acknowledged) every event, or an error when it cannot.
func (s *Sink) WritePage(ctx context.Context, events []okta.Event) error {
	if len(events) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	batches, err := s.split(events)
	if err != nil {
		return err
	}
	r := &retrier{s: s, deadline: s.cfg.Now().Add(s.cfg.RetryFor)}
	if !s.cfg.UseACK {
		for i := range batches {
			if _, err := s.post(ctx, r, &batches[i]); err != nil {
				return err
			}
		}
		return nil
	}
	return s.sendAcked(ctx, r, batches)
}

// split encodes the page into batches, compressing each.
func (s *Sink) split(events []okta.Event) ([]batch, error) {
	var out []batch
	s.raw.Reset()
	first, n := 0, 0
	var obj []byte
	flush := func() error {
		if n == 0 {
			return nil
		}
		body, err := s.compress(s.raw.Bytes())
		if err != nil {
			return err
		}
		out = append(out, batch{body: body, events: n, first: first})
		s.raw.Reset()
		first += n
		n = 0
		return nil
	}
	for _, ev := range events {
		if len(ev.Raw) == 0 {
			return nil, fmt.Errorf("hec: event %s has no body", ev.UUID)
		}
		obj = s.appendEvent(obj[:0], ev)
		if n > 0 && s.raw.Len()+len(obj) > s.cfg.BatchBytes {
			if err := flush(); err != nil {
				return nil, err
			}
		}
		s.raw.Write(obj)
		n++
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// compress returns a body the batch owns (it is kept for resending).
func (s *Sink) compress(raw []byte) ([]byte, error) {
	if s.cfg.DisableGzip {
		return bytes.Clone(raw), nil
	}
	s.zbuf.Reset()
	s.zw.Reset(&s.zbuf)
	if _, err := s.zw.Write(raw); err != nil {
		return nil, fmt.Errorf("hec: gzip: %w", err)
	}
	if err := s.zw.Close(); err != nil {
		return nil, fmt.Errorf("hec: gzip: %w", err)
	}
	return bytes.Clone(s.zbuf.Bytes()), nil
}

// post sends one batch until HEC accepts it, and returns the ackId (with UseACK).
func (s *Sink) post(ctx context.Context, r *retrier, b *batch) (int64, error) {
	for {
		ackID, err := s.postOnce(ctx, b)
		if err == nil {
			r.reset()
			return ackID, nil
		}
		if err := r.wait(ctx, err, fmt.Sprintf("events %d-%d", b.first, b.first+b.events-1)); err != nil {
			return 0, err
		}
	}
}

func (s *Sink) postOnce(ctx context.Context, b *batch) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.eventURL, bytes.NewReader(b.body))
	if err != nil {
		return 0, fmt.Errorf("hec send: %w", err)
	}
	s.headers(req)
	if !s.cfg.DisableGzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	status, body, err := s.do(req)
	if err != nil {
		return 0, fmt.Errorf("hec send: %w", err)
	}
	rep := parseReply(body)
	if status != http.StatusOK || rep.Code == nil || *rep.Code != codeSuccess {
		e := replyError("send", status, rep)
		if e.InvalidEvent >= 0 {
			e.InvalidEvent += b.first
			e.Text += " (event numbers counted from the start of the page)"
		}
		return 0, e
	}
	if !s.cfg.UseACK {
		return 0, nil
	}
	if rep.AckID == nil {
		// HEC ignores the channel and sends no ackId when the token has ACK disabled.
		return 0, fmt.Errorf("hec send: HTTP 200 without an ackId: %w; enable indexer acknowledgement on the HEC token, or set --hec-ack=false", ErrACKDisabled)
	}
	return *rep.AckID, nil
}

func (s *Sink) headers(req *http.Request) {
	req.Header.Set("Authorization", s.auth)
	req.Header.Set("Content-Type", "application/json")
	if s.cfg.UseACK {
		req.Header.Set(channelHeader, s.cfg.Channel)
	}
}

// do runs the request and reads (a bounded part of) the reply.
func (s *Sink) do(req *http.Request) (int, []byte, error) {
	resp, err := s.cfg.HTTPClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return 0, nil, fmt.Errorf("read reply: %w", err)
	}
	return resp.StatusCode, body, nil
}

// pending is a batch waiting for its ack.
type pending struct {
	b      *batch
	ackID  int64
	sentAt time.Time
}

// sendAcked posts every batch, then polls HEC's ack endpoint until all are acknowledged,
// sending again any batch whose ack has not come within AckTimeout.
func (s *Sink) sendAcked(ctx context.Context, r *retrier, batches []batch) error {
	wait := make(map[int64]*pending, len(batches))
	send := func(b *batch) error {
		id, err := s.post(ctx, r, b)
		if err != nil {
			return err
		}
		wait[id] = &pending{b: b, ackID: id, sentAt: s.cfg.Now()}
		return nil
	}
	for i := range batches {
		if err := send(&batches[i]); err != nil {
			return err
		}
	}
	poll := firstAckPoll
	ids := make([]int64, 0, len(batches))
	for len(wait) > 0 {
		if err := s.cfg.Sleep(ctx, poll); err != nil {
			return fmt.Errorf("hec ack: %w", err)
		}
		poll = min(poll*2, maxAckPoll, s.cfg.MaxBackoff)
		ids = ids[:0]
		for id := range wait {
			ids = append(ids, id)
		}
		acked, err := s.queryAcks(ctx, ids)
		if err != nil {
			if err := r.wait(ctx, err, "ack query"); err != nil {
				return err
			}
			continue
		}
		r.reset()
		for id, ok := range acked {
			if ok {
				delete(wait, id)
			}
		}
		now := s.cfg.Now()
		for id, p := range wait {
			if now.Sub(p.sentAt) < s.cfg.AckTimeout {
				continue
			}
			s.log.Warn("hec: no ack in time, sending the batch again (its events may be indexed twice)",
				"ack_id", id, "events", p.b.events, "waited", now.Sub(p.sentAt).String())
			delete(wait, id)
			if now.After(r.deadline) {
				return fmt.Errorf("hec ack: batch of %d events not acknowledged within %s; giving up after %s", p.b.events, s.cfg.AckTimeout, s.cfg.RetryFor)
			}
			if err := send(p.b); err != nil {
				return err
			}
			poll = firstAckPoll
		}
	}
	return nil
}

// queryAcks asks HEC which of ids are indexed.
func (s *Sink) queryAcks(ctx context.Context, ids []int64) (map[int64]bool, error) {
	body := []byte(`{"acks":[`)
	for i, id := range ids {
		if i > 0 {
			body = append(body, ',')
		}
		body = strconv.AppendInt(body, id, 10)
	}
	body = append(body, "]}"...)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.ackURL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("hec ack: %w", err)
	}
	s.headers(req)
	status, reply, err := s.do(req)
	if err != nil {
		return nil, fmt.Errorf("hec ack: %w", err)
	}
	if status != http.StatusOK {
		return nil, replyError("ack", status, parseReply(reply))
	}
	return parseAckReply(reply)
}

// retrier decides whether and how long to wait after a failure: capped exponential backoff
// with jitter, within the page's RetryFor budget.
type retrier struct {
	s        *Sink
	attempt  int
	deadline time.Time
}

func (r *retrier) reset() { r.attempt = 0 }

// wait returns nil after sleeping when err is worth retrying, or the error to give up with.
func (r *retrier) wait(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (stopped: %w)", err, ctx.Err())
	}
	var he *Error
	if errors.As(err, &he) && !he.Retryable() {
		return err
	}
	var tlsErr *tls.CertificateVerificationError
	if errors.Is(err, ErrACKDisabled) || errors.Is(err, sameorigin.ErrRedirect) || errors.As(err, &tlsErr) {
		return err // the same every time: fix the configuration
	}
	if r.s.cfg.Now().After(r.deadline) {
		return fmt.Errorf("%w (gave up after retrying for %s)", err, r.s.cfg.RetryFor)
	}
	d := clock.Backoff(r.attempt, firstBackoff, r.s.cfg.MaxBackoff)
	r.attempt++
	r.s.log.Warn("hec: retrying", "what", what, "attempt", r.attempt, "in", d.String(), "error", err.Error())
	if serr := r.s.cfg.Sleep(ctx, d); serr != nil {
		return fmt.Errorf("%w (stopped: %w)", err, serr)
	}
	return nil
}

// newUUID returns a random (version 4) UUID for the request channel.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	const hx = "0123456789abcdef"
	out := make([]byte, 0, 36)
	for i, c := range b {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			out = append(out, '-')
		}
		out = append(out, hx[c>>4], hx[c&0x0f])
	}
	return string(out)
}

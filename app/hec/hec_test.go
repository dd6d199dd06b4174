package hec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/okta"
)

const testToken = "11111111-2222-3333-4444-SECRETTOKEN0"

// makeEvents returns n events whose raw JSON has what a re-encoder would change: spaces,
// escapes, HTML characters, key order, number forms.
func makeEvents(n int) []okta.Event {
	base := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	out := make([]okta.Event, n)
	for i := range out {
		pub := base.Add(time.Duration(i)*time.Second + 7*time.Millisecond)
		uuid := fmt.Sprintf("uuid-%04d", i)
		raw := fmt.Sprintf(`{"uuid": "%s","published":"%s", "displayMessage":"caf\u00e9 <b>&amp; \"q\"","z":1.50e0,"a":[ ]}`,
			uuid, pub.Format("2006-01-02T15:04:05.000Z"))
		out[i] = okta.Event{UUID: uuid, Published: pub, Raw: []byte(raw)}
	}
	return out
}

func raws(evs []okta.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = string(e.Raw)
	}
	return out
}

func newTestSink(t *testing.T, url string, clock *fakeClock, mod func(*Config)) (*Sink, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	cfg := Config{
		URL: url, Token: testToken, Index: "okta", Source: "okta:im2", Host: "poller-1",
		Now: clock.Now, Sleep: clock.Sleep, Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	}
	if mod != nil {
		mod(&cfg)
	}
	s, err := New(cfg)
	require.NoError(t, err)
	return s, &logs
}

func TestWritePageDelivers(t *testing.T) {
	tests := []struct {
		name       string
		ack        bool
		gzipOff    bool
		ackAfter   int
		failNext   []int
		hangUp     int
		wantPosts  int
		wantSleeps int // backoff sleeps and ack polls
	}{
		{name: "no ack", wantPosts: 1},
		{name: "no ack, no gzip", gzipOff: true, wantPosts: 1},
		{name: "ack at first poll", ack: true, wantPosts: 1, wantSleeps: 1},
		{name: "ack after three polls", ack: true, ackAfter: 3, wantPosts: 1, wantSleeps: 4},
		{name: "503 then success", failNext: []int{503, 503}, wantPosts: 3, wantSleeps: 2},
		{name: "500 then success with ack", ack: true, failNext: []int{500}, wantPosts: 2, wantSleeps: 2},
		{name: "connection cut then success", hangUp: 1, wantPosts: 2, wantSleeps: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeHEC(t, testToken, tt.ack)
			f.ackAfter, f.failNext, f.hangUp = tt.ackAfter, tt.failNext, tt.hangUp
			clock := newFakeClock()
			s, logs := newTestSink(t, srv.URL, clock, func(c *Config) { c.UseACK = tt.ack; c.DisableGzip = tt.gzipOff })
			evs := makeEvents(10)

			require.NoError(t, s.WritePage(t.Context(), evs))

			assert.Equal(t, raws(evs), f.events(), "event bytes as Okta sent them")
			assert.Equal(t, tt.wantPosts, f.posts)
			assert.Len(t, clock.sleeps, tt.wantSleeps)
			if tt.gzipOff {
				assert.Zero(t, f.gzipped)
			} else {
				assert.Equal(t, 1, f.gzipped)
			}
			assert.NotContains(t, logs.String(), testToken)
		})
	}
}

func TestEventFields(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, false)
	s, _ := newTestSink(t, srv.URL, newFakeClock(), nil)
	evs := makeEvents(2)
	require.NoError(t, s.WritePage(t.Context(), evs))
	require.Len(t, f.objs, 2)
	o := f.objs[1]
	assert.Equal(t, "1714557601.007", string(o["time"]))
	assert.JSONEq(t, `"poller-1"`, string(o["host"]))
	assert.JSONEq(t, `"okta:im2"`, string(o["source"]))
	assert.JSONEq(t, `"OktaIM2:log"`, string(o["sourcetype"]))
	assert.JSONEq(t, `"okta"`, string(o["index"]))
	// The whole body is the objects back to back, nothing between them.
	var want bytes.Buffer
	for _, e := range evs {
		want.Write(s.appendEvent(nil, e))
	}
	assert.Equal(t, want.String(), string(f.bodies[0]))
}

func TestEmptyFieldsLeftToToken(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, false)
	s, _ := newTestSink(t, srv.URL, newFakeClock(), func(c *Config) { c.Index, c.Host, c.Source = "", "", "" })
	require.NoError(t, s.WritePage(t.Context(), makeEvents(1)))
	require.Len(t, f.objs, 1)
	assert.NotContains(t, f.objs[0], "index")
	assert.NotContains(t, f.objs[0], "host")
	assert.NotContains(t, f.objs[0], "source")
}

func TestAppendEpoch(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1714557601, 7_000_000), "1714557601.007"},
		{time.Unix(1714557601, 999_999_999), "1714557601.999"},
		{time.Unix(0, 0), "0.000"},
		{time.Unix(12, 120_000_000), "12.120"},
		{time.Unix(-2, -500_000_000), "-2.500"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, string(appendEpoch(nil, tt.t)))
	}
}

func TestBatching(t *testing.T) {
	evs := makeEvents(10)
	one := len((&Sink{meta: metaFields(Config{Host: "poller-1", Source: "okta:im2", Sourcetype: DefaultSourcetype, Index: "okta"})}).appendEvent(nil, evs[0]))
	tests := []struct {
		name       string
		batchBytes int
		events     []okta.Event
		wantSizes  []int // events per POST
	}{
		{name: "exactly three per batch", batchBytes: 3 * one, events: evs, wantSizes: []int{3, 3, 3, 1}},
		{name: "one byte short of three", batchBytes: 3*one - 1, events: evs, wantSizes: []int{2, 2, 2, 2, 2}},
		{name: "all in one", batchBytes: 10 * one, events: evs, wantSizes: []int{10}},
		{name: "event larger than a batch goes alone", batchBytes: one / 2, events: evs[:3], wantSizes: []int{1, 1, 1}},
	}
	for _, tt := range tests {
		for _, ack := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s ack=%v", tt.name, ack), func(t *testing.T) {
				f, srv := newFakeHEC(t, testToken, ack)
				s, _ := newTestSink(t, srv.URL, newFakeClock(), func(c *Config) { c.BatchBytes = tt.batchBytes; c.UseACK = ack })
				require.NoError(t, s.WritePage(t.Context(), tt.events))
				var sizes []int
				for _, b := range f.bodies {
					n := bytes.Count(b, []byte(`{"time":`))
					sizes = append(sizes, n)
					if n > 1 {
						assert.LessOrEqual(t, len(b), tt.batchBytes)
					}
				}
				assert.Equal(t, tt.wantSizes, sizes)
				assert.Equal(t, raws(tt.events), f.events())
			})
		}
	}
}

func TestAckTimeoutResends(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, true)
	f.lostAcks[1] = true // the second batch's ack never comes
	clock := newFakeClock()
	s, logs := newTestSink(t, srv.URL, clock, func(c *Config) {
		c.UseACK = true
		c.AckTimeout = time.Minute
		c.BatchBytes = 1 // one event per batch
	})
	evs := makeEvents(3)

	require.NoError(t, s.WritePage(t.Context(), evs))

	assert.Equal(t, 4, f.posts, "three batches and one resend")
	got := f.events()
	assert.Equal(t, raws(evs), got[:3])
	assert.Equal(t, string(evs[1].Raw), got[3], "only the unacknowledged batch is sent again")
	assert.Contains(t, logs.String(), "no ack in time")
	assert.GreaterOrEqual(t, clock.Now().Sub(newFakeClock().Now()), time.Minute)
}

func TestAckTimeoutGivesUp(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, true)
	for i := range int64(100) {
		f.lostAcks[i] = true
	}
	clock := newFakeClock()
	s, _ := newTestSink(t, srv.URL, clock, func(c *Config) {
		c.UseACK = true
		c.AckTimeout = time.Minute
		c.RetryFor = 3 * time.Minute
	})
	err := s.WritePage(t.Context(), makeEvents(2))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not acknowledged")
	assert.Equal(t, 3, f.posts, "sent, resent twice within RetryFor, then given up")
}

func TestFatalReplies(t *testing.T) {
	tests := []struct {
		name      string
		token     string
		serverAck bool
		useACK    bool
		wantCode  int
		wantText  []string
		wantIs    error
	}{
		{name: "invalid token", token: "wrong-token", wantCode: codeInvalidToken,
			wantText: []string{"HTTP 403", "code 4", `"Invalid token"`, "check the HEC token"}},
		{name: "token has no ack", token: testToken, useACK: true, wantCode: -1,
			wantText: []string{"without an ackId", "enable indexer acknowledgement", "--hec-ack=false"}, wantIs: ErrACKDisabled},
		{name: "channel required", token: testToken, serverAck: true, wantCode: codeNoChannel,
			wantText: []string{"HTTP 400", "Data channel is missing", "--hec-ack=true"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFakeHEC(t, testToken, tt.serverAck)
			clock := newFakeClock()
			s, logs := newTestSink(t, srv.URL, clock, func(c *Config) { c.Token = tt.token; c.UseACK = tt.useACK })
			err := s.WritePage(t.Context(), makeEvents(3))
			require.Error(t, err)
			for _, w := range tt.wantText {
				assert.Contains(t, err.Error(), w)
			}
			var he *Error
			if tt.wantCode >= 0 {
				require.ErrorAs(t, err, &he)
				assert.Equal(t, tt.wantCode, he.Code)
			}
			if tt.wantIs != nil {
				assert.ErrorIs(t, err, tt.wantIs)
			}
			assert.Equal(t, 1, f.posts, "no retry")
			assert.Empty(t, clock.sleeps)
			assert.NotContains(t, err.Error(), tt.token)
			assert.NotContains(t, logs.String(), tt.token)
		})
	}
}

func TestAckEndpointDisabled(t *testing.T) {
	err := replyError("ack", http.StatusBadRequest, parseReply([]byte(`{"text":"ACK is disabled","code":14}`)))
	assert.ErrorIs(t, err, ErrACKDisabled)
	assert.False(t, err.Retryable())
	assert.Contains(t, err.Error(), "enable indexer acknowledgement on the HEC token, or set --hec-ack=false")
}

func TestInvalidEventNumberCountsFromPage(t *testing.T) {
	_, srv := newFakeHEC(t, testToken, false)
	s, _ := newTestSink(t, srv.URL, newFakeClock(), func(c *Config) { c.BatchBytes = 1 })
	evs := makeEvents(3)
	evs[2].Raw = []byte(`{"uuid":`) // what HEC rejects as invalid data
	err := s.WritePage(t.Context(), evs)
	var he *Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, codeInvalidFormat, he.Code)
	assert.Equal(t, 2, he.InvalidEvent)
}

func TestGivesUpAfterRetryFor(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, false)
	f.failNext = make([]int, 1000)
	for i := range f.failNext {
		f.failNext[i] = http.StatusServiceUnavailable
	}
	clock := newFakeClock()
	s, _ := newTestSink(t, srv.URL, clock, func(c *Config) { c.RetryFor = 2 * time.Minute; c.MaxBackoff = 10 * time.Second })
	err := s.WritePage(t.Context(), makeEvents(1))
	var he *Error
	require.ErrorAs(t, err, &he)
	assert.Equal(t, codeServerBusy, he.Code)
	assert.Contains(t, err.Error(), "gave up after retrying for 2m0s")
	for i, d := range clock.sleeps {
		assert.LessOrEqual(t, d, 10*time.Second, "sleep %d capped", i)
		assert.GreaterOrEqual(t, d, min(firstBackoff<<i, 10*time.Second)/2, "sleep %d grows", i)
	}
	assert.Greater(t, f.posts, 5)
}

func TestContextCancelStopsRetrying(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, false)
	f.failNext = []int{503, 503, 503, 503}
	ctx, cancel := context.WithCancel(t.Context())
	clock := newFakeClock()
	clock.onSlp = cancel // the stop arrives while the sink waits to retry
	s, _ := newTestSink(t, srv.URL, clock, nil)
	err := s.WritePage(ctx, makeEvents(1))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.posts)
	assert.Empty(t, f.events())
}

func TestContextCancelWhileWaitingForAck(t *testing.T) {
	f, srv := newFakeHEC(t, testToken, true)
	f.ackAfter = 1000
	ctx, cancel := context.WithCancel(t.Context())
	clock := newFakeClock()
	polls := 0
	clock.onSlp = func() {
		if polls++; polls == 3 {
			cancel()
		}
	}
	s, _ := newTestSink(t, srv.URL, clock, func(c *Config) { c.UseACK = true })
	err := s.WritePage(ctx, makeEvents(1))
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 2, f.ackPolls)
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no scheme", Config{URL: "splunk:8088", Token: "t"}, "want https://host:port"},
		{"ftp", Config{URL: "ftp://splunk:8088", Token: "t"}, "want https://host:port"},
		{"credentials in url", Config{URL: "https://u:p@splunk:8088", Token: "t"}, "must not hold credentials"},
		{"no token", Config{URL: "https://splunk:8088"}, "hec token: empty"},
		{"token with newline", Config{URL: "https://splunk:8088", Token: "a\nb"}, "line break"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), "u:p")
		})
	}
}

func TestChannel(t *testing.T) {
	s, err := New(Config{URL: "https://splunk:8088/", Token: "t", UseACK: true})
	require.NoError(t, err)
	assert.Regexp(t, `^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`, s.Channel())
	assert.Equal(t, "https://splunk:8088/services/collector/event", s.eventURL)
	assert.Equal(t, "https://splunk:8088/services/collector/ack?channel="+s.Channel(), s.ackURL)

	s, err = New(Config{URL: "https://splunk:8088", Token: "t", UseACK: true, Channel: "my-channel"})
	require.NoError(t, err)
	assert.Equal(t, "my-channel", s.Channel())

	s, err = New(Config{URL: "https://splunk:8088", Token: "t"})
	require.NoError(t, err)
	assert.Empty(t, s.Channel())
}

func TestParseAckReply(t *testing.T) {
	got, err := parseAckReply([]byte(`{"acks":{"0":true,"7":false}}`))
	require.NoError(t, err)
	assert.Equal(t, map[int64]bool{0: true, 7: false}, got)
	for _, bad := range []string{`{}`, `{"acks":{"x":true}}`, `<html>`, `{"acks":[true]}`} {
		_, err := parseAckReply([]byte(bad))
		assert.Error(t, err, bad)
	}
}

func TestErrorText(t *testing.T) {
	e := replyError("send", 503, parseReply([]byte(`<html>busy</html>`)))
	assert.Equal(t, -1, e.Code)
	assert.True(t, e.Retryable())
	assert.Equal(t, `hec send: HTTP 503 "<html>busy</html>"`, e.Error())
	e = replyError("send", 413, parseReply([]byte(`{"text":"Content too large","code":27}`)))
	assert.False(t, e.Retryable())
	assert.Contains(t, e.Error(), "lower the batch size")
	var js json.RawMessage = []byte(`{"text":"Incorrect index","code":7,"invalid-event-number":0}`)
	e = replyError("send", 400, parseReply(js))
	assert.Contains(t, e.Error(), "allowed indexes")
	assert.True(t, strings.HasPrefix(e.Error(), `hec send: HTTP 400 code 7 "Incorrect index" (first invalid event: 0`))
	assert.False(t, errors.Is(e, ErrACKDisabled))
}

package hec

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"
)

// fakeHEC behaves like Splunk's HTTP Event Collector: /services/collector/event takes
// concatenated JSON objects (gzip or not), /services/collector/ack answers for ack ids, and
// both reply with HEC's {"text","code"} JSON, including its errors.
type fakeHEC struct {
	t          *testing.T
	token      string
	ackEnabled bool // indexer acknowledgement enabled on the token

	mu       sync.Mutex
	objs     []map[string]json.RawMessage // every event object accepted, in order
	bodies   [][]byte                     // uncompressed bodies accepted
	posts    int                          // event POSTs received, accepted or not
	gzipped  int                          // POSTs with Content-Encoding: gzip
	failNext []int                        // HTTP statuses to answer the next POSTs with
	hangUp   int                          // next POSTs to answer by closing the connection
	ackAfter int                          // ack polls an ack id needs before it is true
	lostAcks map[int64]bool               // ack ids never acknowledged (indexer restarted)
	polls    map[int64]int
	nextAck  int64
	ackPolls int
}

func newFakeHEC(t *testing.T, token string, ackEnabled bool) (*fakeHEC, *httptest.Server) {
	f := &fakeHEC{t: t, token: token, ackEnabled: ackEnabled, lostAcks: map[int64]bool{}, polls: map[int64]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /services/collector/event", f.event)
	mux.HandleFunc("POST /services/collector/ack", f.ack)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func hecReply(w http.ResponseWriter, status int, text string, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"text":%q,"code":%d}`, text, code)
}

// auth answers as HEC does for a missing or wrong token, and reports whether to go on.
func (f *fakeHEC) auth(w http.ResponseWriter, r *http.Request) bool {
	switch h := r.Header.Get("Authorization"); {
	case h == "":
		hecReply(w, http.StatusUnauthorized, "Token is required", 2)
	case h != "Splunk "+f.token:
		hecReply(w, http.StatusForbidden, "Invalid token", 4)
	default:
		return true
	}
	return false
}

func (f *fakeHEC) event(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.posts++
	if f.hangUp > 0 {
		f.hangUp--
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
		return
	}
	if len(f.failNext) > 0 {
		st := f.failNext[0]
		f.failNext = f.failNext[1:]
		switch st {
		case http.StatusServiceUnavailable:
			hecReply(w, st, "Server is busy", 9)
		default:
			hecReply(w, st, "Internal server error", 8)
		}
		return
	}
	if !f.auth(w, r) {
		return
	}
	channel := r.Header.Get("X-Splunk-Request-Channel")
	if f.ackEnabled && channel == "" {
		hecReply(w, http.StatusBadRequest, "Data channel is missing", 10)
		return
	}
	var body io.Reader = r.Body
	if r.Header.Get("Content-Encoding") == "gzip" {
		f.gzipped++
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			hecReply(w, http.StatusBadRequest, "Invalid data format", 6)
			return
		}
		body = zr
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		hecReply(w, http.StatusBadRequest, "Invalid data format", 6)
		return
	}
	var objs []map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(raw))
	for n := 0; dec.More(); n++ {
		var o map[string]json.RawMessage
		if err := dec.Decode(&o); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"text":"Invalid data format","code":6,"invalid-event-number":%d}`, n)
			return
		}
		if len(o["event"]) == 0 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"text":"Event field is required","code":12,"invalid-event-number":%d}`, n)
			return
		}
		objs = append(objs, o)
	}
	if len(objs) == 0 {
		hecReply(w, http.StatusBadRequest, "No data", 5)
		return
	}
	// Accepted events are indexed whether or not the client ever learns of it: that is what
	// makes a resend after a lost ack a duplicate.
	f.objs = append(f.objs, objs...)
	f.bodies = append(f.bodies, raw)
	if !f.ackEnabled {
		hecReply(w, http.StatusOK, "Success", 0)
		return
	}
	id := f.nextAck
	f.nextAck++
	fmt.Fprintf(w, `{"text":"Success","code":0,"ackId":%d}`, id)
}

func (f *fakeHEC) ack(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ackPolls++
	if !f.auth(w, r) {
		return
	}
	if !f.ackEnabled {
		hecReply(w, http.StatusBadRequest, "ACK is disabled", 14)
		return
	}
	if r.URL.Query().Get("channel") == "" && r.Header.Get("X-Splunk-Request-Channel") == "" {
		hecReply(w, http.StatusBadRequest, "Data channel is missing", 10)
		return
	}
	var q struct {
		Acks []int64 `json:"acks"`
	}
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		hecReply(w, http.StatusBadRequest, "Invalid data format", 6)
		return
	}
	out := map[string]bool{}
	for _, id := range q.Acks {
		f.polls[id]++
		out[strconv.FormatInt(id, 10)] = id < f.nextAck && !f.lostAcks[id] && f.polls[id] > f.ackAfter
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"acks": out})
}

// events returns the "event" values received, byte for byte.
func (f *fakeHEC) events() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]string, len(f.objs))
	for i, o := range f.objs {
		out[i] = string(o["event"])
	}
	return out
}

// fakeClock is virtual time: Sleep moves it on at once and records the wait.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
	onSlp  func() // called at each Sleep, before ctx is checked
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	if c.onSlp != nil {
		c.onSlp()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.sleeps = append(c.sleeps, d)
	return nil
}

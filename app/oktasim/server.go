package oktasim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/oktasight/oktasight/app/clock"
	"math/rand/v2"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults of Options' zero fields.
const (
	DefaultRateLimit = 120 // Okta's /api/v1/logs limit per minute for Workforce Identity orgs
	DefaultWindow    = time.Minute
	DefaultSlowDelay = 5 * time.Second
	DefaultPageLimit = 100
	MaxPageLimit     = 1000
	// defaultSince is how far back a query without since starts, as in Okta.
	defaultSince = 7 * 24 * time.Hour
	logsPath     = "/api/v1/logs"
)

// Options configures a Server.
type Options struct {
	// Token is the API token clients must send as "Authorization: SSWS <token>". Required.
	Token string
	// RateLimit is the number of requests allowed per Window (default DefaultRateLimit).
	RateLimit int
	// Window is the rate-limit window, fixed and aligned like Okta's (default one minute).
	Window time.Duration
	// Now is the clock (default time.Now); tests inject one.
	Now func() time.Time
	// Sleep waits for slow responses (default: a timer that gives up when ctx ends).
	Sleep func(ctx context.Context, d time.Duration) error
	// Faults are injected by probability or by request number.
	Faults []Fault
	// FaultSeed seeds the random choice of probabilistic faults, so a run can be repeated.
	FaultSeed uint64
	// SlowDelay is how long a slow fault holds the response (default DefaultSlowDelay).
	SlowDelay time.Duration
	// BaseURL prefixes Link headers ("https://acme.okta.com"); default: the request's scheme
	// and Host.
	BaseURL string
	// Logf, when set, receives one line per injected fault and per rejected request.
	Logf func(format string, args ...any)
}

// Stats counts what a Server did, so a test can prove budget use and delivery.
type Stats struct {
	Requests          int64 // requests to /api/v1/logs, including rejected ones
	RateLimited       int64 // 429 responses, both over-budget and injected concurrency ones
	Unauthorized      int64 // 401 responses, both wrong tokens and injected revocations
	BadRequests       int64 // 400 responses
	Faults            int64 // injected faults of any kind
	Pages             int64 // 200 responses with a full, valid page (counted as the page is written)
	EventsServed      int64 // events in those pages
	MaxWindowRequests int   // most requests seen in any one rate-limit window
}

// entry is one stored event: its bytes as served, and the times paging works on.
type entry struct {
	raw       []byte
	published int64 // Unix ms
	persisted int64 // Unix ms; never decreases along the store, like Okta's persistence time
}

// Server serves a store of events as Okta's GET /api/v1/logs. It is safe for concurrent use.
type Server struct {
	opts Options

	mu      sync.RWMutex
	store   []entry
	token   string
	stats   Stats
	win     time.Time // start of the current rate-limit window
	winUsed int
	rng     *rand.Rand
	queued  []FaultKind
	errSeq  uint64

	bufs sync.Pool
}

// ErrEvent is wrapped by NewServer's and Append's errors for an event that is not a JSON
// object with a uuid and a published timestamp.
var ErrEvent = errors.New("not a System Log event")

// NewServer returns a Server holding backlog (sorted by published, then uuid). The byte
// slices are served as they are and must not be changed afterwards.
func NewServer(opts Options, backlog [][]byte) (*Server, error) {
	if opts.Token == "" {
		return nil, errors.New("oktasim: Options.Token is empty")
	}
	if opts.RateLimit <= 0 {
		opts.RateLimit = DefaultRateLimit
	}
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.SlowDelay <= 0 {
		opts.SlowDelay = DefaultSlowDelay
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = clock.Sleep
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	s := &Server{opts: opts, token: opts.Token, rng: rand.New(rand.NewPCG(opts.FaultSeed, 0x6661756c74))}
	s.bufs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	if err := s.Append(backlog...); err != nil {
		return nil, err
	}
	return s, nil
}

// Append stores events after every event stored so far (sorted among themselves by
// published, then uuid), as Okta persists new events: a polling client that has caught up
// receives them from the next link it holds. An event published earlier than the stored ones
// is a late-persisted event: it is served after them all the same.
func (s *Server) Append(events ...[]byte) error {
	add := make([]struct {
		entry
		uuid string
	}, len(events))
	for i, raw := range events {
		var head struct {
			UUID      string `json:"uuid"`
			Published string `json:"published"`
		}
		if err := json.Unmarshal(raw, &head); err != nil {
			return fmt.Errorf("oktasim: event %d: %w: %w", i, ErrEvent, err)
		}
		t, err := time.Parse(time.RFC3339Nano, head.Published)
		if err != nil || head.UUID == "" {
			return fmt.Errorf("oktasim: event %d: %w: want uuid and an RFC 3339 published, have %q, %q", i, ErrEvent, head.UUID, head.Published)
		}
		add[i].raw, add[i].published, add[i].uuid = raw, t.UnixMilli(), head.UUID
	}
	sort.SliceStable(add, func(i, j int) bool {
		if add[i].published != add[j].published {
			return add[i].published < add[j].published
		}
		return add[i].uuid < add[j].uuid
	})
	s.mu.Lock()
	defer s.mu.Unlock()
	var last int64
	if n := len(s.store); n > 0 {
		last = s.store[n-1].persisted
	}
	for _, a := range add {
		a.persisted = max(a.published, last)
		last = a.persisted
		s.store = append(s.store, a.entry)
	}
	return nil
}

// Live appends one event from src every period, published at the Server's clock, until ctx
// ends; it returns ctx's error.
func (s *Server) Live(ctx context.Context, every time.Duration, src *Stream) error {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
			if err := s.Append(src.Next(s.opts.Now())); err != nil {
				return err
			}
		}
	}
}

// Len is the number of stored events.
func (s *Server) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.store)
}

// SetToken replaces the accepted token; the old one is then rejected, as a revoked token is.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	s.token = token
	s.mu.Unlock()
}

// InjectNext makes the next requests that pass the rate limit and authentication fail with
// kinds, one each, before any configured fault.
func (s *Server) InjectNext(kinds ...FaultKind) {
	s.mu.Lock()
	s.queued = append(s.queued, kinds...)
	s.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (s *Server) Stats() Stats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.stats
}

// query is a parsed, validated request.
type query struct {
	limit   int
	start   int   // index of the first event to consider
	until   int64 // Unix ms; 0 when polling
	bounded bool
}

// ServeHTTP answers GET /api/v1/logs.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	if r.URL.Path != logsPath {
		s.writeError(w, http.StatusNotFound, "E0000007", "Not found: Resource not found: "+r.URL.Path+" (GET)", nil)
		return
	}
	if r.Method != http.MethodGet {
		s.writeError(w, http.StatusMethodNotAllowed, "E0000022", "The endpoint does not support the provided HTTP method", nil)
		return
	}
	now := s.opts.Now()

	s.mu.Lock()
	s.stats.Requests++
	reqNo := s.stats.Requests
	if ws := now.Truncate(s.opts.Window); !ws.Equal(s.win) {
		s.win, s.winUsed = ws, 0
	}
	s.winUsed++
	s.stats.MaxWindowRequests = max(s.stats.MaxWindowRequests, s.winUsed)
	used, token := s.winUsed, s.token
	reset := s.win.Add(s.opts.Window)
	s.mu.Unlock()

	h.Set("X-Rate-Limit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-Rate-Limit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-used)))
	h.Set("X-Rate-Limit-Reset", strconv.FormatInt(reset.Unix(), 10))
	if used > s.opts.RateLimit {
		s.count(func(st *Stats) { st.RateLimited++ })
		s.logf("request %d: 429 over the rate limit (%d requests in the window, limit %d)", reqNo, used, s.opts.RateLimit)
		s.writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.", nil)
		return
	}

	if !s.authorized(r.Header.Get("Authorization"), token) {
		s.count(func(st *Stats) { st.Unauthorized++ })
		s.logf("request %d: 401 invalid token", reqNo)
		s.writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided", nil)
		return
	}

	q, field, msg := s.parse(r, now)
	if field != "" {
		s.count(func(st *Stats) { st.BadRequests++ })
		s.logf("request %d: 400 %s: %s", reqNo, field, msg)
		s.writeError(w, http.StatusBadRequest, "E0000001", "Api validation failed: "+field, []string{field + ": " + msg})
		return
	}

	fault := s.pickFault(reqNo)
	if fault != "" {
		s.count(func(st *Stats) { st.Faults++ })
		s.logf("request %d: injected fault %s", reqNo, fault)
	}
	switch fault {
	case FaultServerError:
		s.writeError(w, http.StatusInternalServerError, "E0000009", "Internal Server Error", nil)
		return
	case FaultUnavailable:
		h.Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("<html><body><h1>503 Service Unavailable</h1></body></html>\n"))
		return
	case FaultConcurrency:
		h.Set("X-Rate-Limit-Limit", "0")
		h.Set("X-Rate-Limit-Remaining", "0")
		h.Set("X-Rate-Limit-Reset", strconv.FormatInt(now.Add(time.Second).Unix(), 10))
		s.count(func(st *Stats) { st.RateLimited++ })
		s.writeError(w, http.StatusTooManyRequests, "E0000047", "API call exceeded rate limit due to too many requests.", nil)
		return
	case FaultRevoked:
		s.count(func(st *Stats) { st.Unauthorized++ })
		s.writeError(w, http.StatusUnauthorized, "E0000011", "Invalid token provided", nil)
		return
	case FaultSlow:
		if err := s.opts.Sleep(r.Context(), s.opts.SlowDelay); err != nil {
			return // the client gave up
		}
	}
	s.servePage(w, r, q, fault)
}

func (s *Server) servePage(w http.ResponseWriter, r *http.Request, q query, fault FaultKind) {
	s.mu.RLock()
	store := s.store
	s.mu.RUnlock()

	end := len(store)
	if q.bounded {
		end = q.start + sort.Search(len(store)-q.start, func(i int) bool { return store[q.start+i].persisted >= q.until })
	}
	stop := min(end, q.start+q.limit)
	page := store[q.start:stop]

	bp := s.bufs.Get().(*[]byte)
	body := append((*bp)[:0], '[')
	for i := range page {
		if i > 0 {
			body = append(body, ',')
		}
		body = append(body, page[i].raw...)
	}
	body = append(body, ']')
	defer func() { *bp = body; s.bufs.Put(bp) }()

	h := w.Header()
	base := s.base(r)
	h.Add("Link", "<"+base+r.URL.RequestURI()+`>; rel="self"`)
	if !q.bounded || stop < end {
		var last int64
		if stop > 0 {
			last = store[stop-1].persisted
		}
		next := base + logsPath + "?limit=" + strconv.Itoa(q.limit) + "&after=" + formatCursor(last, stop)
		if q.bounded {
			next += "&until=" + time.UnixMilli(q.until).UTC().Format(publishedLayout)
		}
		h.Add("Link", "<"+next+`&sortOrder=ASCENDING>; rel="next"`)
	}
	h.Set("Content-Type", "application/json")

	switch fault {
	case FaultTruncate:
		h.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(body[:len(body)/2])
		if f, ok := w.(http.Flusher); ok {
			f.Flush()
		}
		// Abort the connection: the client sees fewer bytes than Content-Length promised.
		panic(http.ErrAbortHandler)
	case FaultInvalidJSON:
		bad := append(body[:len(body)-1:len(body)-1], `,{"uuid":}]`...)
		h.Set("Content-Length", strconv.Itoa(len(bad)))
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(bad)
		return
	}
	// Counted before writing, so a client that has read the page also sees it in Stats.
	s.count(func(st *Stats) { st.Pages++; st.EventsServed += int64(len(page)) })
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // a client that went away is not our concern
}

// parse validates the query; on failure it returns the offending field and why.
func (s *Server) parse(r *http.Request, now time.Time) (q query, field, msg string) {
	v := r.URL.Query()
	q.limit = DefaultPageLimit
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > MaxPageLimit {
			return q, "limit", fmt.Sprintf("must be an integer from 1 to %d", MaxPageLimit)
		}
		q.limit = n
	}
	if so := v.Get("sortOrder"); so != "" && so != "ASCENDING" {
		return q, "sortOrder", "oktasim serves ASCENDING only"
	}
	if v.Get("filter") != "" || v.Get("q") != "" {
		return q, "filter", "oktasim does not implement filter or q"
	}
	if u := v.Get("until"); u != "" {
		t, err := time.Parse(time.RFC3339Nano, u)
		if err != nil {
			return q, "until", "must be an ISO 8601 timestamp"
		}
		q.until, q.bounded = t.UnixMilli(), true
	}

	s.mu.RLock()
	store := s.store
	s.mu.RUnlock()

	after, since := v.Get("after"), v.Get("since")
	switch {
	case after != "" && since != "":
		return q, "after", "cannot be used with since"
	case after != "":
		pos, ok := parseCursor(after, store)
		if !ok {
			return q, "after", "invalid cursor"
		}
		q.start = pos
	default:
		from := now.Add(-defaultSince)
		if since != "" {
			t, err := time.Parse(time.RFC3339Nano, since)
			if err != nil {
				return q, "since", "must be an ISO 8601 timestamp"
			}
			from = t
		}
		ms := from.UnixMilli()
		q.start = sort.Search(len(store), func(i int) bool { return store[i].persisted >= ms })
	}
	return q, "", ""
}

// formatCursor is the after value of a next link: the persistence time of the last event
// served and the position after it, in the shape of Okta's ("1627500044869_1").
func formatCursor(persisted int64, pos int) string {
	return strconv.FormatInt(persisted, 10) + "_" + strconv.Itoa(pos)
}

// parseCursor returns the position a cursor points at, checking it against the store.
func parseCursor(c string, store []entry) (int, bool) {
	ms, p, ok := strings.Cut(c, "_")
	if !ok {
		return 0, false
	}
	persisted, err1 := strconv.ParseInt(ms, 10, 64)
	pos, err2 := strconv.Atoi(p)
	if err1 != nil || err2 != nil || pos < 0 || pos > len(store) {
		return 0, false
	}
	if pos > 0 && store[pos-1].persisted != persisted {
		return 0, false
	}
	return pos, true
}

func (s *Server) authorized(header, token string) bool {
	got, ok := strings.CutPrefix(header, "SSWS ")
	return ok && subtle.ConstantTimeCompare([]byte(got), []byte(token)) == 1
}

func (s *Server) pickFault(reqNo int64) FaultKind {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queued) > 0 {
		k := s.queued[0]
		s.queued = s.queued[1:]
		return k
	}
	for _, f := range s.opts.Faults {
		if f.hits(reqNo) {
			return f.Kind
		}
		if f.Probability > 0 && s.rng.Float64() < f.Probability {
			return f.Kind
		}
	}
	return ""
}

func (s *Server) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) base(r *http.Request) string {
	if s.opts.BaseURL != "" {
		return s.opts.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// writeError writes Okta's error object.
func (s *Server) writeError(w http.ResponseWriter, status int, code, summary string, causes []string) {
	s.mu.Lock()
	s.errSeq++
	id := fmt.Sprintf("oae%019d", s.errSeq)
	s.mu.Unlock()
	type cause struct {
		ErrorSummary string `json:"errorSummary"`
	}
	body := struct {
		ErrorCode    string  `json:"errorCode"`
		ErrorSummary string  `json:"errorSummary"`
		ErrorLink    string  `json:"errorLink"`
		ErrorID      string  `json:"errorId"`
		ErrorCauses  []cause `json:"errorCauses"`
	}{code, summary, code, id, []cause{}}
	for _, c := range causes {
		body.ErrorCauses = append(body.ErrorCauses, cause{c})
	}
	b, _ := json.Marshal(body) // cannot fail: strings only
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

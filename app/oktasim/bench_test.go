package oktasim

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func BenchmarkGenerate(b *testing.B) {
	for b.Loop() {
		Generate(GenOptions{Users: 300, Events: 10000, Seed: 7})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*10000), "ns/event")
}

// discard is a ResponseWriter that keeps headers and drops the body, so the benchmark
// measures the handler, not a recorder's buffer.
type discard struct {
	h http.Header
	n int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) WriteHeader(int)             {}
func (d *discard) Write(p []byte) (int, error) { d.n += len(p); return len(p), nil }

// BenchmarkServePage serves 1000-event pages of a 20000-event backlog, following the cursor.
func BenchmarkServePage(b *testing.B) {
	backlog := Generate(GenOptions{Users: 300, Events: 20000, Seed: 7})
	s, err := NewServer(Options{Token: testToken, RateLimit: 1 << 30, Now: func() time.Time { return testNow }}, backlog)
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*http.Request, 0, len(backlog)/1000)
	for pos := 0; pos < len(backlog); pos += 1000 {
		u := "/api/v1/logs?limit=1000&sortOrder=ASCENDING&since=2026-11-19T00:00:00Z"
		if pos > 0 {
			u = "/api/v1/logs?limit=1000&after=" + formatCursor(s.store[pos-1].persisted, pos) + "&sortOrder=ASCENDING"
		}
		r := httptest.NewRequest(http.MethodGet, u, nil)
		r.Header.Set("Authorization", "SSWS "+testToken)
		reqs = append(reqs, r)
	}
	w := &discard{h: http.Header{}}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		clear(w.h)
		s.ServeHTTP(w, reqs[i%len(reqs)])
		i++
	}
	b.SetBytes(int64(w.n / i))
	if got := w.h.Get("Content-Length"); got == "" || got == "0" {
		b.Fatalf("no page served: %v", w.h)
	}
}

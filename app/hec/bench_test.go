package hec

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/oktasight/oktasight/app/okta"
)

// BenchmarkWritePage measures a 1000-event page through gzip and HTTP to a server that
// reads the body and answers success (with ack: acknowledged at the first poll).
func BenchmarkWritePage(b *testing.B) {
	evs := benchEvents(1000)
	for _, ack := range []bool{false, true} {
		name := "noack"
		if ack {
			name = "ack"
		}
		b.Run(name, func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				_, _ = io.Copy(io.Discard, r.Body)
				switch {
				case r.URL.Path == ackPath:
					_, _ = io.WriteString(w, `{"acks":{"0":true}}`)
				case ack:
					_, _ = io.WriteString(w, `{"text":"Success","code":0,"ackId":0}`)
				default:
					_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
				}
			}))
			defer srv.Close()
			clock := newFakeClock()
			s, err := New(Config{URL: srv.URL, Token: testToken, UseACK: ack, Now: clock.Now, Sleep: clock.Sleep})
			if err != nil {
				b.Fatal(err)
			}
			var size int
			for _, e := range evs {
				size += len(e.Raw)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if err := s.WritePage(b.Context(), evs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// benchEvents returns events of a realistic size (about 2.5 kB, like Okta's sign-in events).
func benchEvents(n int) []okta.Event {
	evs := makeEvents(n)
	pad := `,"client":{"userAgent":{"rawUserAgent":"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15","os":"Mac OS X","browser":"SAFARI"},"zone":"null","device":"Computer","ipAddress":"203.0.113.7","geographicalContext":{"city":"Lisbon","state":"Lisbon","country":"Portugal","postalCode":"1000-001","geolocation":{"lat":38.7,"lon":-9.1}}}`
	for i := range evs {
		raw := evs[i].Raw[:len(evs[i].Raw)-1]
		for range 6 {
			raw = append(raw, pad[:len(pad)-1]...)
			raw = append(raw, `,"k":1}`...)
		}
		evs[i].Raw = append(raw, '}')
		if !json.Valid(evs[i].Raw) {
			panic("benchEvents: invalid JSON " + string(evs[i].Raw))
		}
	}
	return evs
}

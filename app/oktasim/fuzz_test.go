package oktasim

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzParseFaults: a spec either fails with ErrFaultSpec or parses into faults whose String
// form parses back to the same faults.
func FuzzParseFaults(f *testing.F) {
	for _, s := range []string{"", "500:0.05,truncate:0.02", "503@3", "401@2-9", "slow:1", "badjson:0", "429@0",
		"500:NaN", "500:1e-3, 503@1-1", "x:0.1", "500", "500@3-1", ",,,", "truncate@99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, spec string) {
		faults, err := ParseFaults(spec)
		if err != nil {
			if !errors.Is(err, ErrFaultSpec) {
				t.Fatalf("%q: error %v does not wrap ErrFaultSpec", spec, err)
			}
			return
		}
		parts := make([]string, len(faults))
		for i, fl := range faults {
			if !validKind(fl.Kind) || (fl.From == 0) == (fl.Probability == 0) || fl.Probability < 0 || fl.Probability > 1 {
				t.Fatalf("%q: parsed into invalid %+v", spec, fl)
			}
			parts[i] = fl.String()
		}
		again, err := ParseFaults(strings.Join(parts, ","))
		if err != nil {
			t.Fatalf("%q: String form %q does not parse: %v", spec, parts, err)
		}
		for i := range again {
			if again[i].String() != parts[i] {
				t.Fatalf("%q: round trip %q became %q", spec, parts[i], again[i].String())
			}
		}
	})
}

// FuzzQuery: whatever the query string, the server answers 200 with a JSON array and a next
// link, or 400 with Okta's error object; it never panics.
func FuzzQuery(f *testing.F) {
	s, err := NewServer(Options{Token: testToken, RateLimit: 1 << 30, Now: func() time.Time { return testNow }},
		Generate(GenOptions{Events: 40, Seed: 1}))
	if err != nil {
		f.Fatal(err)
	}
	for _, q := range []string{"", "limit=5", "since=2026-11-20T00:00:00Z&limit=1000&sortOrder=ASCENDING",
		"after=1763596800000_3&limit=2", "until=2026-11-20T12:00:00.000Z&since=2026-11-19T00:00:00Z", "after=_",
		"limit=%zz", "after=9223372036854775807_0", "after=1_-1", "since=2026-13-01T00:00:00Z"} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		req := httptest.NewRequest(http.MethodGet, "/api/v1/logs", nil)
		req.URL.RawQuery = rawQuery
		req.Header.Set("Authorization", "SSWS "+testToken)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var evs []json.RawMessage
			if err := json.Unmarshal(rec.Body.Bytes(), &evs); err != nil {
				t.Fatalf("%q: 200 with a body that is not an array: %v", rawQuery, err)
			}
			var next string
			for _, l := range rec.Header().Values("Link") {
				if strings.HasSuffix(l, `rel="next"`) {
					next = l
				}
			}
			if _, bounded := mustQuery(rawQuery)["until"]; next == "" && !bounded {
				t.Fatalf("%q: polling page without a next link", rawQuery)
			}
		case http.StatusBadRequest:
			var e struct{ ErrorCode string }
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorCode != "E0000001" {
				t.Fatalf("%q: 400 body %s", rawQuery, rec.Body.Bytes())
			}
		default:
			t.Fatalf("%q: status %d", rawQuery, rec.Code)
		}
	})
}

func mustQuery(q string) url.Values {
	v, _ := url.ParseQuery(q)
	return v
}

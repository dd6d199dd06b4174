package okta

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLinks(t *testing.T) {
	const (
		n = "https://acme.okta.com/api/v1/logs?limit=100&after=1627500044869_1&sortOrder=ASCENDING"
		s = "https://acme.okta.com/api/v1/logs?limit=100&sortOrder=ASCENDING&since=2024-01-01T00%3A00%3A00.000Z"
	)
	tests := []struct {
		name               string
		lines              []string
		wantNext, wantSelf string
	}{
		{"okta: two header lines", []string{`<` + s + `>; rel="self"`, `<` + n + `>; rel="next"`}, n, s},
		{"next first", []string{`<` + n + `>; rel="next"`, `<` + s + `>; rel="self"`}, n, s},
		{"one line, comma-joined", []string{`<` + s + `>; rel="self", <` + n + `>; rel="next"`}, n, s},
		{"unquoted rel", []string{`<` + n + `>; rel=next`, `<` + s + `>;rel=self`}, n, s},
		{"rel case and spacing", []string{` <` + n + `> ;  REL = "Next" `}, n, ""},
		{"rel list", []string{`<` + n + `>; rel="prefetch next"`}, n, ""},
		{"rel list both", []string{`<` + n + `>; rel="next self"`}, n, n},
		{"other params", []string{`<` + n + `>; title="a, b; c"; rel="next"; type=application/json`}, n, ""},
		{"only self (last page of a bounded query)", []string{`<` + s + `>; rel="self"`}, "", s},
		{"first rel param counts", []string{`<` + n + `>; rel="self"; rel="next"`}, "", n},
		{"first link of a relation wins", []string{`<` + n + `>; rel="next"`, `<https://x/>; rel="next"`}, n, ""},
		{"unknown rels ignored", []string{`<https://x/>; rel="prev", <` + n + `>; rel="next"`}, n, ""},
		{"comma inside target", []string{`<https://a/?x=1,2>; rel="next"`}, "https://a/?x=1,2", ""},
		{"malformed link skipped", []string{`https://bad/; rel="next", <` + n + `>; rel="next"`}, n, ""},
		{"unterminated quote", []string{`<` + n + `>; rel="next`}, "", ""},
		{"missing >", []string{`<` + n + `; rel="next"`}, "", ""},
		{"no rel", []string{`<` + n + `>`}, "", ""},
		{"empty rel", []string{`<` + n + `>; rel=""`}, "", ""},
		{"escaped quote in param", []string{`<` + n + `>; title="say \"hi\", ok"; rel=next`}, n, ""},
		{"garbage", []string{`;;;,,,<<>>"`}, "", ""},
		{"none", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for _, l := range tt.lines {
				h.Add("link", l) // lower case as Okta sends it; Header canonicalises
			}
			next, self := ParseLinks(h)
			assert.Equal(t, tt.wantNext, next, "next")
			assert.Equal(t, tt.wantSelf, self, "self")
		})
	}
}

func TestParseRateLimit(t *testing.T) {
	reset := time.Unix(1700000060, 0).UTC()
	tests := []struct {
		name      string
		l, r, res string
		want      RateLimit
	}{
		{"normal", "50", "49", "1700000060", RateLimit{50, 49, reset, true}},
		{"spaces", " 50 ", "0", "1700000060", RateLimit{50, 0, reset, true}},
		{"concurrency", "0", "0", "1700000060", RateLimit{0, 0, reset, true}},
		{"missing limit", "", "49", "1700000060", RateLimit{}},
		{"missing remaining", "50", "", "1700000060", RateLimit{}},
		{"missing reset", "50", "49", "", RateLimit{}},
		{"negative", "50", "-1", "1700000060", RateLimit{}},
		{"plus sign", "+50", "1", "1700000060", RateLimit{}},
		{"not a number", "fifty", "49", "1700000060", RateLimit{}},
		{"fraction", "50", "49", "1700000060.5", RateLimit{}},
		{"remaining above limit", "50", "51", "1700000060", RateLimit{}},
		{"reset zero", "50", "49", "0", RateLimit{}},
		{"reset in ms", "50", "49", "1700000060000000", RateLimit{}},
		{"huge limit", "99999999999", "1", "1700000060", RateLimit{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range map[string]string{"X-Rate-Limit-Limit": tt.l, "X-Rate-Limit-Remaining": tt.r, "X-Rate-Limit-Reset": tt.res} {
				if v != "" {
					h.Set(k, v)
				}
			}
			got := ParseRateLimit(h)
			assert.Equal(t, tt.want, got)
		})
	}
	assert.True(t, RateLimit{Limit: 0, Remaining: 0, Reset: reset, Valid: true}.Concurrency())
	assert.False(t, RateLimit{}.Concurrency())
}

func TestQueryValidate(t *testing.T) {
	since := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		q    Query
		want []string // substrings of the error; none = valid
	}{
		{"ok", Query{Limit: 1000, Q: "a b c", Filter: `eventType eq "user.session.start"`}, nil},
		{"ok 1", Query{Limit: 1, Since: since, Until: since.Add(time.Hour)}, nil},
		{"limit 0", Query{Limit: 0}, []string{"limit: want 1 to 1000", "got 0"}},
		{"limit 1001", Query{Limit: 1001}, []string{"got 1001"}},
		{"11 keywords", Query{Limit: 10, Q: "a b c d e f g h i j k"}, []string{"at most 10 keywords, got 11"}},
		{"10 keywords", Query{Limit: 10, Q: "a b c d e f g h i j"}, nil},
		{"long keyword", Query{Limit: 10, Q: "ok " + strings.Repeat("x", 41)}, []string{"is 41 characters", "at most 40"}},
		{"40 runes", Query{Limit: 10, Q: strings.Repeat("é", 40)}, nil},
		{"filter newline", Query{Limit: 10, Filter: "a\nb"}, []string{"filter: must be on one line"}},
		{"until before since", Query{Limit: 10, Since: since, Until: since}, []string{"until (2024-01-01T00:00:00.000Z) must be after since"}},
		{"all at once", Query{Limit: -1, Q: strings.Repeat("y", 50)}, []string{"limit:", "q: keyword"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Validate()
			if tt.want == nil {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestCheckOrgURL(t *testing.T) {
	tests := []struct{ in, want, err string }{
		{"https://acme.okta.com", "https://acme.okta.com", ""},
		{"https://acme.okta.com/", "https://acme.okta.com", ""},
		{"HTTPS://ACME.Okta.com", "https://acme.okta.com", ""},
		{"https://acme.okta.com:443", "https://acme.okta.com", ""},
		{"https://acme.okta.com:8443", "https://acme.okta.com:8443", ""},
		{"https://login.example.com", "https://login.example.com", ""},
		{"https://127.0.0.1:1234", "https://127.0.0.1:1234", ""},
		{"https://[::1]:1234", "https://[::1]:1234", ""},
		{"http://acme.okta.com", "", "must use https, not http"},
		{"acme.okta.com", "", "has no scheme; want https://acme.okta.com"},
		{"https://acme.okta.com/api/v1/logs", "", `must not have a path ("/api/v1/logs")`},
		{"https://acme.okta.com?x=1", "", "must not have a query"},
		{"https://acme.okta.com/?", "", "must not have a query"},
		{"https://acme.okta.com#x", "", "must not have a fragment"},
		{"https://user:pw@acme.okta.com", "", "must not contain a user name or password"},
		{"https://", "", "has no host name"},
		{"https://acme.okta.com:0", "", "invalid port"},
		{"https://acme.okta.com:99999", "", "invalid port"},
		{"https://acme.okta.com:", "", "empty port"},
		{"https://acme_corp.okta.com", "", "invalid host name"},
		{"https://-acme.okta.com", "", "invalid host name"},
		{"https://acme..okta.com", "", "invalid host name"},
		{"https://acme-admin.okta.com", "", "use the org address without -admin: https://acme.okta.com"},
		{"https://acme.okta.com ", "", "white space"},
		{"", "", "is empty"},
		{"https://%zz", "", "is not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := CheckOrgURL(tt.in)
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, u.String())
		})
	}
}

func TestPollURL(t *testing.T) {
	c, err := New(Config{OrgURL: "https://acme.okta.com/"})
	require.NoError(t, err)
	since := time.Date(2024, 3, 1, 9, 30, 0, 123456789, time.FixedZone("CET", 3600))
	until := since.Add(time.Hour)
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"polling", c.PollURL(Query{Since: since, Until: until, Limit: 1000}),
			"https://acme.okta.com/api/v1/logs?since=2024-03-01T08:30:00.123Z&sortOrder=ASCENDING&limit=1000"},
		{"polling filter and q", c.PollURL(Query{Since: since, Limit: 5, Filter: `eventType sw "user.session" and outcome.result eq "FAILURE"`, Q: "Doe & co+1"}),
			"https://acme.okta.com/api/v1/logs?since=2024-03-01T08:30:00.123Z&sortOrder=ASCENDING&limit=5" +
				"&filter=eventType%20sw%20%22user.session%22%20and%20outcome.result%20eq%20%22FAILURE%22&q=Doe%20%26%20co%2B1"},
		{"bounded", c.BoundedURL(Query{Since: since, Until: until, Limit: 100}),
			"https://acme.okta.com/api/v1/logs?since=2024-03-01T08:30:00.123Z&until=2024-03-01T09:30:00.123Z&sortOrder=ASCENDING&limit=100"},
		{"no since, no limit", c.PollURL(Query{}), "https://acme.okta.com/api/v1/logs?sortOrder=ASCENDING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.got)
		})
	}
}

func TestNewRejects(t *testing.T) {
	_, err := New(Config{OrgURL: "http://acme.okta.com"})
	assert.ErrorContains(t, err, "okta: org URL: must use https")
	_, err = New(Config{OrgURL: "https://acme.okta.com", RateLimitPct: 101})
	assert.ErrorContains(t, err, "1 to 100 %, got 101")
}

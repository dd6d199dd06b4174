// Package inputconf owns the settings of one oktainput input: the parameters of an inputs.conf
// stanza (or of the standalone command's flags), their defaults, and validation that names the
// setting at fault in words a Splunk admin can act on.
package inputconf

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/oktasight/oktasight/app/okta"
)

// Defaults and limits of the settings.
const (
	DefaultPollInterval = 10 * time.Second
	DefaultPageLimit    = 1000
	DefaultRateLimitPct = 50
	DefaultLookback     = 7 * 24 * time.Hour
	// Retention is how far back Okta keeps System Log events; older start dates are clamped.
	Retention = 90 * 24 * time.Hour
	// Sourcetype is the sourcetype Splunk's Okta add-on uses, so its searches and ours agree.
	Sourcetype = "OktaIM2:log"
)

// Settings is one input's validated configuration.
type Settings struct {
	Name         string // full stanza name, e.g. "oktainput://prod"; the checkpoint key
	OrgURL       string // normalised "https://acme.okta.com"
	APIToken     string // secret: never logged, printed or stored
	StartDate    string // as configured ("" = 7 days ago); part of the checkpoint identity
	PollInterval time.Duration
	PageLimit    int
	RateLimitPct int
	Filter       string
	Q            string
	CAFile       string

	// AuthType is how oktainput authenticates to Okta: AuthAPIToken (SSWS) or AuthOAuth (a
	// service app's client credentials with a private_key_jwt assertion, optionally DPoP).
	AuthType   string
	ClientID   string
	PrivateKey string // secret: PEM or JWK of the service app's key
	KeyID      string
	DPoP       bool
	Scopes     []string

	// ProxyURL is an http:// or https:// proxy for Okta (CONNECT), without credentials;
	// ProxyUser and ProxyPassword (a secret) authenticate to it.
	ProxyURL      string
	ProxyUser     string
	ProxyPassword string

	// BackfillSince and BackfillUntil, when set, are a closed range the input reads again with
	// bounded requests beside its polling (a gap left by an outage); BackfillDedup is "index"
	// (skip events already in the index) or "none".
	BackfillSince, BackfillUntil time.Time
	BackfillDedup                string

	// CheckpointStore is where the cursor lives: CheckpointFile (checkpoint_dir) or
	// CheckpointKVStore (the app's KV-store collection, shared by a search-head cluster).
	CheckpointStore string

	// ExitWhenCaughtUp is set when Splunk schedules the input (an `interval` is configured):
	// each run then polls until caught up and exits, and splunkd starts it again.
	ExitWhenCaughtUp bool
	Index, Host      string

	// StopGrace bounds how long a stop waits for the page in hand to reach the sink
	// (standalone --stop-grace); 0 means the poller's default.
	StopGrace time.Duration
}

// String describes the settings without the token.
func (s *Settings) String() string {
	return fmt.Sprintf("stanza=%s org_url=%s auth_type=%s start_date=%q poll_interval=%s page_limit=%d rate_limit_pct=%d filter=%q q=%q proxy_url=%s checkpoint_store=%s",
		s.Name, s.OrgURL, s.AuthType, s.StartDate, s.PollInterval, s.PageLimit, s.RateLimitPct, s.Filter, s.Q, s.ProxyURL, s.CheckpointStore)
}

// Source is the Splunk source of this input's events: the org's host name.
func (s *Settings) Source() string {
	u, err := url.Parse(s.OrgURL)
	if err != nil {
		return "okta"
	}
	return "okta:" + u.Host
}

// Authentication modes and checkpoint stores.
const (
	AuthAPIToken      = "api_token"
	AuthOAuth         = "oauth"
	CheckpointFile    = "file"
	CheckpointKVStore = "kvstore"
)

// Known lists the parameters oktainput understands, besides Splunk's implicit ones.
var Known = []string{"org_url", "api_token", "start_date", "poll_interval", "page_limit", "rate_limit_pct", "filter", "q", "ca_file",
	"auth_type", "client_id", "private_key", "key_id", "dpop", "scopes", "proxy_url", "proxy_username", "proxy_password", "checkpoint_store",
	"backfill_since", "backfill_until", "backfill_dedup"}

// Secrets are the parameters whose values belong in Splunk's encrypted store, never in
// inputs.conf, logs or errors.
var Secrets = []string{"api_token", "private_key", "proxy_password"}

// implicit are the parameters splunkd adds to every stanza.
var implicit = map[string]bool{
	"interval": true, "index": true, "host": true, "source": true, "sourcetype": true, "disabled": true,
	"python.version": true, "start_by_shell": true, "run_introspection": true,
}

// FromParams validates a stanza's parameters and applies defaults. Every problem is reported,
// each naming its setting; the token's value never appears in an error.
func FromParams(name string, params map[string]string) (*Settings, error) {
	s := &Settings{
		Name:         name,
		PollInterval: DefaultPollInterval,
		PageLimit:    DefaultPageLimit,
		RateLimitPct: DefaultRateLimitPct,
	}
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	get := func(k string) string { return strings.TrimSpace(params[k]) }

	if v := get("org_url"); v == "" {
		bad("org_url", "is required, e.g. https://acme.okta.com")
	} else if u, err := okta.CheckOrgURL(v); err != nil {
		errs = append(errs, fmt.Errorf("org_url: %w", err))
	} else {
		s.OrgURL = u.String()
	}
	s.AuthType = get("auth_type")
	if s.AuthType == "" {
		s.AuthType = AuthAPIToken
	}
	switch s.AuthType {
	case AuthAPIToken:
		s.APIToken = get("api_token")
		if s.APIToken == "" {
			bad("api_token", "is required: create one in the Okta Admin Console under Security > API > Tokens")
		} else if strings.ContainsAny(s.APIToken, " \t\r\n") {
			bad("api_token", "contains white space; paste the token value only")
		}
	case AuthOAuth:
		s.ClientID, s.PrivateKey, s.KeyID = get("client_id"), get("private_key"), get("key_id")
		if s.ClientID == "" {
			bad("client_id", "is required with auth_type=oauth: the Client ID of the Okta API Services app")
		}
		if s.PrivateKey == "" {
			bad("private_key", "is required with auth_type=oauth: the PEM or JWK private key whose public key is registered on the app")
		}
		s.Scopes = strings.Fields(strings.ReplaceAll(get("scopes"), ",", " "))
		if len(s.Scopes) == 0 {
			s.Scopes = []string{"okta.logs.read"}
		}
		switch v := get("dpop"); strings.ToLower(v) {
		case "", "0", "false", "no":
		case "1", "true", "yes":
			s.DPoP = true
		default:
			bad("dpop", "want 0 or 1, got %q", v)
		}
	default:
		bad("auth_type", "want %s or %s, got %q", AuthAPIToken, AuthOAuth, s.AuthType)
	}
	if v := get("proxy_url"); v != "" {
		u, err := url.Parse(v)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			bad("proxy_url", "want http://host:port or https://host:port, got %q", redactProxy(v))
		case u.Path != "" && u.Path != "/", u.RawQuery != "":
			bad("proxy_url", "must be the proxy's address only (no path or query)")
		case u.User != nil:
			bad("proxy_url", "must not hold credentials; set proxy_username and proxy_password (kept in Splunk's secret store)")
		default:
			s.ProxyURL = u.Scheme + "://" + u.Host
		}
	}
	s.ProxyUser, s.ProxyPassword = get("proxy_username"), get("proxy_password")
	if s.ProxyPassword != "" && s.ProxyUser == "" {
		bad("proxy_username", "is required when proxy_password is set")
	}
	if bs, bu := get("backfill_since"), get("backfill_until"); bs != "" || bu != "" {
		since, err1 := parseISO(bs)
		until, err2 := parseISO(bu)
		switch {
		case bs == "" || bu == "":
			bad("backfill_since", "and backfill_until go together: set both, or neither")
		case strings.HasPrefix(bs, "-") || err1 != nil:
			bad("backfill_since", "want an absolute ISO 8601 time like 2026-11-20T08:00:00Z, got %q", bs)
		case strings.HasPrefix(bu, "-") || err2 != nil:
			bad("backfill_until", "want an absolute ISO 8601 time like 2026-11-20T14:30:00Z, got %q", bu)
		case !since.Before(until):
			bad("backfill_until", "must be after backfill_since")
		default:
			s.BackfillSince, s.BackfillUntil = since, until
		}
	}
	switch s.BackfillDedup = get("backfill_dedup"); s.BackfillDedup {
	case "":
		s.BackfillDedup = "index"
	case "index", "none":
	default:
		bad("backfill_dedup", "want index or none, got %q", s.BackfillDedup)
	}
	switch s.CheckpointStore = get("checkpoint_store"); s.CheckpointStore {
	case "":
		s.CheckpointStore = CheckpointFile
	case CheckpointFile, CheckpointKVStore:
	default:
		bad("checkpoint_store", "want %s or %s, got %q", CheckpointFile, CheckpointKVStore, s.CheckpointStore)
	}
	s.StartDate = get("start_date")
	if s.StartDate != "" {
		if _, _, err := ResolveStart(s.StartDate, time.Now()); err != nil {
			errs = append(errs, fmt.Errorf("start_date: %w", err))
		}
	}
	if v := get("poll_interval"); v != "" {
		d, err := parseSeconds(v)
		if err != nil || d < time.Second || d > time.Hour {
			bad("poll_interval", "want seconds from 1 to 3600 (or a duration like 30s), got %q", v)
		} else {
			s.PollInterval = d
		}
	}
	s.PageLimit = intSetting(get("page_limit"), "page_limit", DefaultPageLimit, 1, 1000, &errs)
	s.RateLimitPct = intSetting(get("rate_limit_pct"), "rate_limit_pct", DefaultRateLimitPct, 1, 100, &errs)
	s.Filter = get("filter")
	s.Q = get("q")
	if err := (okta.Query{Limit: s.PageLimit, Filter: s.Filter, Q: s.Q}).Validate(); err != nil && s.PageLimit > 0 {
		errs = append(errs, err)
	}
	if v := get("ca_file"); v != "" {
		if st, err := os.Stat(v); err != nil {
			bad("ca_file", "cannot read %s: %v", v, errors.Unwrap(err))
		} else if st.IsDir() {
			bad("ca_file", "%s is a directory; name a PEM file", v)
		}
		s.CAFile = v
	}
	if v := get("interval"); v != "" && v != "0" {
		s.ExitWhenCaughtUp = true
	}
	s.Index = get("index")
	s.Host = get("host")
	for k := range params {
		if !implicit[k] && !isKnown(k) {
			bad(k, "unknown setting for oktainput (known: %s)", strings.Join(Known, ", "))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// redactProxy drops credentials from a proxy URL before it appears in a message.
func redactProxy(v string) string {
	if u, err := url.Parse(v); err == nil && u.User != nil {
		u.User = url.User("redacted")
		return u.String()
	}
	if i := strings.LastIndex(v, "@"); i >= 0 {
		return "(redacted)" + v[i:]
	}
	return v
}

// ProxyFunc returns the proxy to use for Okta requests: ProxyURL with its credentials when
// set, else the standard HTTPS_PROXY / NO_PROXY environment.
func (s *Settings) ProxyFunc() (func(*http.Request) (*url.URL, error), error) {
	if s.ProxyURL == "" {
		return http.ProxyFromEnvironment, nil
	}
	u, err := url.Parse(s.ProxyURL)
	if err != nil {
		return nil, fmt.Errorf("proxy_url: %w", err)
	}
	if s.ProxyUser != "" {
		u.User = url.UserPassword(s.ProxyUser, s.ProxyPassword)
	}
	return http.ProxyURL(u), nil
}

// ProxyError is a proxy's answer other than 200 to the CONNECT that opens the tunnel to Okta:
// 407 (no or wrong credentials) or 403 (an address it does not allow) are settings to fix,
// and retrying does not change them. It names the proxy and the setting, never the password.
type ProxyError struct {
	Status  int    // the proxy's HTTP status
	Proxy   string // scheme://host:port of the proxy
	Target  string // host:port the tunnel was asked for
	Setting string // where the proxy comes from: "proxy_url", or the HTTPS_PROXY environment
}

func (e *ProxyError) Error() string {
	msg := fmt.Sprintf("proxy %s (%s) answered HTTP %d %s to CONNECT %s", e.Proxy, e.Setting, e.Status, http.StatusText(e.Status), e.Target)
	if h := e.Hint(); h != "" {
		msg += ": " + h
	}
	return msg
}

// Hint says what to change for a refusal that retrying does not fix.
func (e *ProxyError) Hint() string {
	switch {
	case e.Status == http.StatusProxyAuthRequired && e.Setting == "proxy_url":
		return "the proxy refused the credentials: check proxy_username and proxy_password (standalone: --proxy-username, --proxy-password-env)"
	case e.Status == http.StatusProxyAuthRequired:
		return "the proxy refused the credentials: check the user name and password in " + e.Setting
	case e.Status == http.StatusForbidden:
		return "the proxy does not allow this address: ask its administrator to allow " + e.Target
	}
	return ""
}

// Temporary reports whether asking again may succeed: a proxy's 5xx, 408 or 429 may; 407, 403
// and other refusals will not, and stop the input like a wrong Okta token.
func (e *ProxyError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusRequestTimeout || e.Status == http.StatusTooManyRequests
}

// CheckProxyAnswer is for http.Transport.OnProxyConnectResponse: it turns a proxy's answer
// other than 200 into a *ProxyError (Go's own error says only "Proxy Authentication Required").
func (s *Settings) CheckProxyAnswer(_ context.Context, proxy *url.URL, req *http.Request, resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	setting := "proxy_url"
	if s.ProxyURL == "" {
		setting = "the HTTPS_PROXY environment variable"
	}
	return &ProxyError{Status: resp.StatusCode, Proxy: proxy.Scheme + "://" + proxy.Host, Target: req.Host, Setting: setting}
}

func isKnown(k string) bool {
	for _, n := range Known {
		if n == k {
			return true
		}
	}
	return false
}

func intSetting(v, field string, def, lo, hi int, errs *[]error) int {
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		*errs = append(*errs, fmt.Errorf("%s: want a whole number from %d to %d, got %q", field, lo, hi, v))
		return def
	}
	return n
}

// parseSeconds reads a plain number of seconds or a Go duration ("30s", "2m").
func parseSeconds(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Duration(f * float64(time.Second)), nil
	}
	return time.ParseDuration(v)
}

// ResolveStart turns a start_date setting into the time polling starts from. It accepts ISO 8601
// dates and times (2026-11-01, 2026-11-01T08:00:00Z, with or without fraction or offset) and
// relative values like -7d, -12h or -30m. A start older than Okta's 90-day retention is clamped,
// and the returned warning says so; a start in the future is an error.
func ResolveStart(v string, now time.Time) (time.Time, string, error) {
	if v == "" {
		return now.Add(-DefaultLookback), "", nil
	}
	var t time.Time
	if strings.HasPrefix(v, "-") {
		d, err := parseRelative(v[1:])
		if err != nil {
			return time.Time{}, "", fmt.Errorf("want an ISO 8601 date or a relative time like -7d, -12h or -30m, got %q", v)
		}
		t = now.Add(-d)
	} else {
		var err error
		t, err = parseISO(v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("want an ISO 8601 date like 2026-11-01 or 2026-11-01T08:00:00Z, or a relative time like -7d, got %q", v)
		}
	}
	if t.After(now.Add(time.Minute)) {
		return time.Time{}, "", fmt.Errorf("%q is in the future", v)
	}
	if oldest := now.Add(-Retention); t.Before(oldest) {
		return oldest, fmt.Sprintf("start_date %q is older than Okta's 90-day retention; starting from %s instead", v, oldest.UTC().Format(time.RFC3339)), nil
	}
	return t.UTC(), "", nil
}

func parseRelative(v string) (time.Duration, error) {
	if len(v) < 2 {
		return 0, errors.New("too short")
	}
	n, err := strconv.Atoi(v[:len(v)-1])
	if err != nil || n < 0 {
		return 0, errors.New("bad number")
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second, 'w': 7 * 24 * time.Hour}[v[len(v)-1]]
	if unit == 0 {
		return 0, errors.New("bad unit")
	}
	if n > 10000 {
		return 0, errors.New("too large")
	}
	return time.Duration(n) * unit, nil
}

func parseISO(v string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC(), nil
		}
	}
	return okta.ParseTime(v)
}

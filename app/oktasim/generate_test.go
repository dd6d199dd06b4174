package oktasim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// oktaKeyOrder is the top-level key order of events as Okta's API sends them (Okta's own
// ListLogs example in shared/data/okta-samples/okta-openapi-examples.ndjson).
var oktaKeyOrder = []string{"actor", "client", "device", "authenticationContext", "displayMessage", "eventType",
	"outcome", "published", "securityContext", "severity", "debugContext", "legacyEventType", "transaction",
	"uuid", "version", "request", "target"}

var publishedRE = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`)

// topKeys returns an object's top-level keys in order.
func topKeys(t testing.TB, raw []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	require.NoError(t, err)
	require.Equal(t, json.Delim('{'), tok)
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		require.NoError(t, err)
		keys = append(keys, k.(string))
		var skip json.RawMessage
		require.NoError(t, dec.Decode(&skip))
	}
	return keys
}

// shape is what the tests read back from a generated event.
type shape struct {
	UUID      string `json:"uuid"`
	Published string `json:"published"`
	EventType string `json:"eventType"`
	Version   string `json:"version"`
	Actor     *struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		AlternateID string `json:"alternateId"`
	} `json:"actor"`
	Outcome *struct {
		Result string  `json:"result"`
		Reason *string `json:"reason"`
	} `json:"outcome"`
	AuthenticationContext struct {
		ExternalSessionID string `json:"externalSessionId"`
	} `json:"authenticationContext"`
	Target []struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	} `json:"target"`
}

func decode(t testing.TB, raw []byte) shape {
	t.Helper()
	var s shape
	require.NoError(t, json.Unmarshal(raw, &s), "%s", raw)
	return s
}

func TestGenerateEventsAreValid(t *testing.T) {
	tests := []struct {
		name string
		opts GenOptions
	}{
		{"defaults", GenOptions{Seed: 1}},
		{"one user short span", GenOptions{Users: 1, Events: 300, Span: 10 * time.Minute, Seed: 3}},
		{"many users", GenOptions{Users: 2000, Events: 800, Start: time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.UTC), Span: 2 * time.Hour, Seed: 99}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			evs := Generate(tt.opts)
			o := tt.opts.withDefaults()
			require.Len(t, evs, o.Events)
			uuids := make(map[string]bool, len(evs))
			var prev shape
			for i, raw := range evs {
				if i < 200 { // the order is written by code, not data: a sample proves it
					require.Equal(t, oktaKeyOrder, topKeys(t, raw), "event %d", i)
				}
				e := decode(t, raw)
				if err := checkEvent(e, o); err != nil {
					t.Fatalf("event %d: %v: %s", i, err, raw)
				}
				if uuids[e.UUID] {
					t.Fatalf("event %d: duplicate uuid %s", i, e.UUID)
				}
				uuids[e.UUID] = true
				if i > 0 && !(prev.Published < e.Published || prev.Published == e.Published && prev.UUID < e.UUID) {
					t.Fatalf("event %d (%s %s) not after %s %s", i, e.Published, e.UUID, prev.Published, prev.UUID)
				}
				prev = e
			}
		})
	}
}

// checkEvent returns what is wrong with a generated event, if anything.
func checkEvent(e shape, o GenOptions) error {
	switch {
	case e.UUID == "":
		return errors.New("no uuid")
	case !publishedRE.MatchString(e.Published):
		return fmt.Errorf("published %q is not in Okta's format", e.Published)
	case e.EventType == "":
		return errors.New("no eventType")
	case e.Version != "0":
		return fmt.Errorf("version %q", e.Version)
	case e.Actor == nil || e.Actor.ID == "" || e.Actor.Type == "":
		return errors.New("no actor")
	case e.Outcome == nil || e.Outcome.Result == "":
		return errors.New("no outcome")
	}
	p, err := time.Parse(publishedLayout, e.Published)
	if err != nil {
		return err
	}
	if p.Before(o.Start) || !p.Before(o.Start.Add(o.Span)) {
		return fmt.Errorf("published %s outside [%s, +%s)", e.Published, o.Start, o.Span)
	}
	return nil
}

func TestGenerateIsDeterministic(t *testing.T) {
	opts := GenOptions{Users: 50, Events: 2000, Seed: 7}
	a, b := Generate(opts), Generate(opts)
	assert.True(t, slices.EqualFunc(a, b, bytes.Equal), "same seed gave different bytes")
	opts.Seed = 8
	c := Generate(opts)
	assert.False(t, slices.EqualFunc(a, c, bytes.Equal), "different seeds gave the same bytes")
}

// TestGenerateCoversTheSequences checks that a demo-sized run holds every flow the session
// engine reconstructs, in the orders Okta documents.
func TestGenerateCoversTheSequences(t *testing.T) {
	evs := Generate(GenOptions{Users: 300, Events: 8000, Seed: 7})
	types := map[string]int{}
	var unknownActor, failedKnown, failedSessionUnknown int
	bySession := map[string][]string{}
	for _, raw := range evs {
		// The first "id" and "alternateId" are the actor's: actor is the first key (checked
		// by TestGenerateEventsAreValid), and plain string search keeps this test fast under -race.
		typ, result := member(raw, `"eventType":`), member(raw, `"outcome":{"result":`)
		actorID, login, session := member(raw, `"id":`), member(raw, `"alternateId":`), member(raw, `"externalSessionId":`)
		types[typ]++
		if typ == "user.session.start" && result == "FAILURE" {
			if actorID == "unknown" {
				unknownActor++
				assert.NotEqual(t, "unknown", login, "an unknown user's attempted login is its alternateId")
			} else {
				failedKnown++
			}
			if session == "unknown" {
				failedSessionUnknown++
			}
		}
		if session != "unknown" {
			bySession[session] = append(bySession[session], typ)
		}
	}
	for _, want := range []string{
		"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify", "user.authentication.sso",
		"application.policy.sign_on.deny_access", "user.authentication.auth_via_mfa", "user.mfa.factor.activate",
		"system.push.send_factor_verify_push", "system.email.send_factor_verify_message", "system.sms.send_factor_verify_message",
		"system.sms.send_phone_verification_message", "system.voice.send_mfa_challenge_call",
		"system.email.password_reset.sent_message", "system.sms.send_password_reset_message", "system.voice.send_password_reset_call",
		"user.account.reset_password", "user.account.update_password",
		"system.email.account_unlock.sent_message", "system.sms.send_account_unlock_message", "system.voice.send_account_unlock_call",
		"user.account.unlock_token", "user.account.unlock", "user.session.end", "user.authentication.slo",
	} {
		assert.Positive(t, types[want], "no %s in 8000 events", want)
	}
	assert.Positive(t, unknownActor, "failed sign-ins by unknown users")
	assert.Positive(t, failedKnown, "failed sign-ins by known users")
	assert.Equal(t, unknownActor+failedKnown, failedSessionUnknown, "failed sign-ins carry externalSessionId unknown")
	assert.Less(t, types["user.session.start"]/4, types["user.authentication.verify"], "most sign-ins complete")

	// Within one Okta session the documented order holds: start, policy, then verify.
	rank := map[string]int{"user.session.start": 1, "policy.evaluate_sign_on": 2, "user.authentication.verify": 3}
	sessions := 0
	for id, seq := range bySession {
		last := 0
		for _, typ := range seq {
			if r := rank[typ]; r > 0 {
				require.GreaterOrEqual(t, r, last, "session %s: %v", id, seq)
				last = r
			}
		}
		if last > 0 {
			sessions++
		}
	}
	assert.Greater(t, sessions, 500)
}

// member returns the string value after the first occurrence of key in raw.
func member(raw []byte, key string) string {
	_, rest, ok := bytes.Cut(raw, []byte(key+`"`))
	if !ok {
		return ""
	}
	v, _, _ := bytes.Cut(rest, []byte(`"`))
	return string(v)
}

func TestStream(t *testing.T) {
	users := map[string]bool{"unknown": true, admin.id: true, "00o1okt4Org5aX7Y8d7": true}
	for _, raw := range Generate(GenOptions{Users: 20, Events: 500, Seed: 5}) {
		users[decode(t, raw).Actor.ID] = true
	}
	run := func() [][]byte {
		s := NewStream(GenOptions{Users: 20, Seed: 5})
		now := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
		var out [][]byte
		for i := range 500 {
			if i%3 != 0 { // several events in the same millisecond must still ascend
				now = now.Add(time.Second)
			}
			out = append(out, s.Next(now))
		}
		return out
	}
	a, b := run(), run()
	require.True(t, slices.EqualFunc(a, b, bytes.Equal), "same seed, different stream")
	prev := ""
	seen := map[string]bool{}
	for i, raw := range a {
		if i < 50 {
			require.Equal(t, oktaKeyOrder, topKeys(t, raw))
		}
		e := decode(t, raw)
		if !publishedRE.MatchString(e.Published) || e.Published <= prev || seen[e.UUID] || !users[e.Actor.ID] {
			t.Fatalf("event %d: published %s after %s, uuid %s seen %v, actor %s known %v",
				i, e.Published, prev, e.UUID, seen[e.UUID], e.Actor.ID, users[e.Actor.ID])
		}
		prev = e.Published
		seen[e.UUID] = true
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"at&t <x>", `"at&t <x>"`},
		{"tab\tnl\n", `"tab\u0009nl\u000a"`},
		{"Linköping", `"Linköping"`},
		{"bad\xffutf8", `"bad\ufffdutf8"`},
	}
	for _, tt := range tests {
		got := appendString(nil, tt.in)
		assert.Equal(t, tt.want, string(got), tt.in)
		var back string
		require.NoError(t, json.Unmarshal(got, &back))
		if !strings.Contains(tt.in, "\xff") {
			assert.Equal(t, tt.in, back)
		}
	}
}

func ExampleGenerate() {
	evs := Generate(GenOptions{Users: 10, Events: 3, Seed: 1})
	for _, e := range evs {
		var s struct{ Published, EventType string }
		_ = json.Unmarshal(e, &s)
		fmt.Println(s.Published, s.EventType)
	}
	// Output:
	// 2026-11-20T16:17:48.584Z user.session.start
	// 2026-11-20T16:17:48.601Z policy.evaluate_sign_on
	// 2026-11-20T16:17:50.158Z system.email.send_factor_verify_message
}

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// busyCorpus is a simulated org's day in which keys are never quiet: most of the org signs in
// from an office NAT's address (by=ip: one key all day), an attacker sprays a failed sign-in
// every few seconds from another address at logins it guesses (by=ip, and the guessed logins
// by user), and the simulated org's admin works all day (by=user).
func busyCorpus(t testing.TB, n int, seed uint64) corpus {
	t.Helper()
	day := simCorpus(n, seed)
	r := rand.New(rand.NewPCG(seed, 5))
	var template map[string]any
	evs := make([]event, 0, n+n/3)
	for _, e := range day.evs {
		var m map[string]any
		require.NoError(t, json.Unmarshal(e.raw, &m))
		if m["eventType"] == "user.session.start" && template == nil {
			template = m
		}
		if r.IntN(10) < 7 {
			m["client"].(map[string]any)["ipAddress"] = "203.0.113.10" // the office NAT
		}
		raw, err := json.Marshal(m)
		require.NoError(t, err)
		evs = append(evs, event{raw: raw, ms: e.ms})
	}
	require.NotNil(t, template)
	t0, span := day.evs[0].ms, day.evs[len(day.evs)-1].ms-day.evs[0].ms
	sprays := n / 3
	for i := range sprays {
		raw, err := json.Marshal(template)
		require.NoError(t, err)
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		ms := t0 + int64(i)*span/int64(sprays) + r.Int64N(2000)
		m["uuid"] = fmt.Sprintf("spray-%d", i)
		m["published"] = time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z")
		m["actor"] = map[string]any{"id": "unknown", "type": "User", "alternateId": fmt.Sprintf("guess%d@example.com", r.IntN(300)), "displayName": "unknown"}
		m["outcome"] = map[string]any{"result": "FAILURE", "reason": "INVALID_CREDENTIALS"}
		m["client"].(map[string]any)["ipAddress"] = "198.18.0.66"
		m["authenticationContext"].(map[string]any)["externalSessionId"] = "unknown"
		raw, err = json.Marshal(m)
		require.NoError(t, err)
		evs = append(evs, event{raw: raw, ms: ms})
	}
	slices.SortStableFunc(evs, func(a, b event) int { return int(a.ms - b.ms) })
	return corpus{name: fmt.Sprintf("busy-%d", n), evs: evs}
}

// referenceNewestFirst is `oktasession --file` on the corpus newest first: the engine can
// sequence a key only once its oldest event is in, so every key is held whole until it is
// quiet, as the engine did before it sequenced busy keys as they go. The reference the
// oldest-first results are held to.
func referenceNewestFirst(t testing.TB, c corpus) []string {
	t.Helper()
	var in bytes.Buffer
	for i := len(c.evs) - 1; i >= 0; i-- {
		in.Write(c.evs[i].raw)
		in.WriteByte('\n')
	}
	return fileRows(t, c.args, &in)
}

// TestReduceInterleavingsBusy: a day with keys that are never quiet, by user and by ip. The
// reference is --file newest first (every key held whole until quiet); --file oldest first
// and the reduce over 1, 8 and 32 indexers in every interleaving, both of which sequence the
// busy keys as they go (passes > 0), must give its rows.
func TestReduceInterleavingsBusy(t *testing.T) {
	n := 12_000
	if testing.Short() || raceEnabled {
		n = 3_000
	}
	base := busyCorpus(t, n, 17)
	for i, args := range [][]string{{"by=ip"}, nil, {"by=session"}} {
		c := base
		c.args = args
		c.name += fmt.Sprint(args)
		t.Run(c.name, func(t *testing.T) {
			want := referenceNewestFirst(t, c)
			require.NotEmpty(t, want)
			sameRows(t, want, reference(t, c), "--file oldest first")
			h := &harness{t: t, c: c, mapChunk: 500, reduceMax: 2_000, skew: 3000, want: want}
			ix := h.mapPhaseOf(c.evs, rand.New(rand.NewPCG(1, uint64(i))))
			run := h.reducePhase(ix.header, ix.rows, rand.New(rand.NewPCG(2, uint64(i))))
			run.exact(t, want, "one indexer")
			require.Regexp(t, `passes=[1-9]`, run.debug, "the busy keys were sequenced as they went")
			h.check(t, []int{1, 8, 32}, []int{defaultReduceBudget, 64 << 10}, uint64(40+i))
		})
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"slices"
	"testing"

	"github.com/oktasight/oktasight/app/scp"
)

// benchStream builds a splunkd stream of n events with Splunk's extracted fields only, newest
// first, shaped like shared/bench/scp_driver.py's synthetic sign-ins (start, policy, push,
// mfa, verify, sso) over a day for n/40 users, in chunks of 50 000 rows.
func benchStream(b *testing.B, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	users := max(10, n/40)
	type row struct {
		ms               int64
		typ, result, sid string
		user             int
	}
	steps := []string{"user.session.start", "policy.evaluate_sign_on", "system.push.send_factor_verify_push", "user.authentication.auth_via_mfa", "user.authentication.verify", "user.authentication.sso"}
	rows := make([]row, 0, n)
	const t0 = 1717200000000
	for len(rows) < n {
		u := r.IntN(users)
		t := t0 + r.Int64N(86_400_000)
		sid := fmt.Sprintf("102%022d", len(rows))
		for _, s := range steps {
			rows = append(rows, row{ms: t, typ: s, result: "SUCCESS", sid: sid, user: u})
			t += 200 + r.Int64N(5000)
		}
	}
	rows = rows[:n]
	// newest first
	for i := range rows {
		j := i + r.IntN(len(rows)-i)
		rows[i], rows[j] = rows[j], rows[i]
	}
	sortDesc := func(a, b row) int { return int(b.ms - a.ms) }
	slicesSortFunc(rows, sortDesc)
	in := append([]byte(nil), getinfoChunk(b)...)
	var w scp.RowWriter
	for s := 0; s < n; s += 50_000 {
		w.Reset()
		_ = w.SetFields("_time", "eventType", "actor.id", "actor.type", "actor.alternateId", "client.ipAddress", "outcome.result", "authenticationContext.externalSessionId", "target{}.id", "target{}.type")
		for _, rw := range rows[s:min(n, s+50_000)] {
			w.ValueBytes(formatMillis(nil, rw.ms))
			w.Value(rw.typ)
			w.Value(fmt.Sprintf("00u%017d", rw.user))
			w.Value("User")
			w.Value(fmt.Sprintf("user%05d@example.com", rw.user))
			w.Value(fmt.Sprintf("10.0.%d.%d", rw.user%256, rw.user/256%256))
			w.Value(rw.result)
			w.Value(rw.sid)
			if rw.typ == "user.authentication.sso" {
				w.Values([]string{"0oa00000000000000001", "0ua00000000000000002"})
				w.Values([]string{"AppInstance", "AppUser"})
			} else {
				w.Value("")
				w.Value("")
			}
			_ = w.EndRow()
		}
		in = append(in, execChunk(s+50_000 >= n, w.Body())...)
	}
	return in
}

func BenchmarkCommandFieldsOnly(b *testing.B) {
	const n = 200_000
	in := benchStream(b, n)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if code := Run(context.Background(), nil, bytes.NewReader(in), io.Discard, io.Discard); code != 0 {
			b.Fatal("exit", code)
		}
	}
	b.ReportMetric(float64(b.N)*n/b.Elapsed().Seconds(), "events/s")
}

func slicesSortFunc[T any](s []T, cmp func(a, b T) int) { slices.SortFunc(s, cmp) }

// BenchmarkCommandReplay runs the command over a recorded splunkd stream named by
// OKTASESSION_REPLAY (uncompressed, e.g. one bench/oktasession.sh wrote), with main's memory
// limit on top of the stream, to profile what a real stream costs.
//
// profile.pgo, which make build and the bench/ scripts pass to go build -pgo for
// profile-guided optimization, is its profile on the two phases of the realistic stream, as
// bench/oktasession.sh --record records them. Made anew on 2026-12-07 after b16's parser,
// writer and reduce changes: 1% fewer instructions than without PGO (callgrind, per 100 000
// events: map 2 718 M -> 2 689 M, reduce 1 266 M -> 1 257 M); a stale profile can cost more
// than it gives, since it names hot call sites by their lines. After large changes, make it
// anew (go test builds without the profile, so the test binary's own profile is PGO-free):
//
//	bash bench/oktasession.sh --record /tmp/os-rec     # map.input, reduce.input
//	for p in map reduce; do OKTASESSION_REPLAY=/tmp/os-rec/$p.input go test -run '^$' \
//	    -bench CommandReplay -benchtime 10x -cpuprofile /tmp/$p.prof -o /tmp/os.test ./cmd/oktasession; done
//	go tool pprof -proto /tmp/os.test /tmp/map.prof /tmp/reduce.prof > cmd/oktasession/profile.pgo
func BenchmarkCommandReplay(b *testing.B) {
	path := os.Getenv("OKTASESSION_REPLAY")
	if path == "" {
		b.Skip("OKTASESSION_REPLAY names no recorded stream")
	}
	in, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	// The recorded stream lives in the heap here, not in a pipe: the limit is main's above it.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(memoryLimit + int64(len(in))))
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		if code := Run(context.Background(), nil, bytes.NewReader(in), io.Discard, io.Discard); code != 0 {
			b.Fatal("exit", code)
		}
	}
}

package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/oktasight/oktasight/app/oktasim"
	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// The interleaving harness: a corpus is split at random over N simulated indexers, each
// indexer's slice runs through `oktasession phase=map` as splunkd runs it there (newest
// first, in chunks, one process per indexer, through the protocol), and the reduce receives
// the map outputs interleaved as a search head may receive them. Its rows must equal the
// single-phase result (`oktasession --file` on the whole corpus), for every N and interleaving.

// corpus is a set of events (oldest first) and the options to sequence them with.
type corpus struct {
	name string
	evs  []event
	args []string
}

// mapRow is one row a map phase wrote: its CSV line and its time.
type mapRow struct {
	line []byte
	ms   int64
}

// indexer is what one simulated indexer's map phase wrote, in order.
type indexer struct {
	header []byte
	rows   []mapRow
}

// harness runs one corpus; its knobs say how the streams are chunked.
type harness struct {
	t         testing.TB
	c         corpus
	mapChunk  int   // most rows per map request
	reduceMax int   // most rows per reduce request
	skew      int64 // milliseconds each indexer's stream may be out of order by
	want      []string
}

// chunkReader serves a splunkd stream built one chunk at a time, so a large corpus never
// sits in memory as one stream.
type chunkReader struct {
	next func() []byte // the next chunk, nil at the end
	buf  []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.buf = r.next(); r.buf == nil {
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// getinfoFor is splunkd's getinfo with a dispatch directory of the caller's.
func getinfoFor(t testing.TB, dispatch string, args ...string) []byte {
	m, err := json.Marshal(map[string]any{"action": "getinfo", "preview": false, "streaming_command_will_restart": false,
		"searchinfo": map[string]any{"args": args, "raw_args": args, "dispatch_dir": dispatch, "sid": "1717200000.1",
			"app": "oktasight", "command": "oktasession", "maxresultrows": 50000, "earliest_time": "0", "latest_time": "0"}})
	require.NoError(t, err)
	return chunkBytes(m, nil)
}

// decoded is a run's replies: the rows of each, and the inspector messages.
type decoded struct {
	bodies [][]byte
	msgs   []string
	meta   []map[string]any
}

// serve runs the command on a stream through Run, as splunkd starts it, and decodes stdout.
func serve(t testing.TB, in io.Reader) decoded {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), nil, in, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	require.Empty(t, errOut.String(), "stderr stays quiet")
	var d decoded
	cr := scp.NewChunkReader(&out)
	for {
		m, body, err := cr.Next()
		if err == io.EOF {
			return d
		}
		require.NoError(t, err, "stdout carries only chunks")
		var meta map[string]any
		require.NoError(t, json.Unmarshal(m, &meta))
		d.meta = append(d.meta, meta)
		d.bodies = append(d.bodies, slices.Clone(body))
		if insp, ok := meta["inspector"].(map[string]any); ok {
			for _, msg := range insp["messages"].([]any) {
				pair := msg.([]any)
				d.msgs = append(d.msgs, pair[0].(string)+" "+pair[1].(string))
			}
		}
	}
}

// reference is the single-phase result: `oktasession --file - <args> --format csv` on the
// corpus, oldest first, each row's SequenceFields joined by \x1f, sorted.
func reference(t testing.TB, c corpus) []string {
	t.Helper()
	i := 0
	in := &chunkReader{next: func() []byte {
		if i == len(c.evs) {
			return nil
		}
		i++
		return append(slices.Clone(c.evs[i-1].raw), '\n')
	}}
	return fileRows(t, c.args, in)
}

// fileRows runs `oktasession --file - <args> --format csv` on in and returns its rows as
// reference does.
func fileRows(t testing.TB, args []string, in io.Reader) []string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), append(append([]string{"--file", "-"}, args...), "--format", "csv"), in, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	recs, err := csv.NewReader(&out).ReadAll()
	require.NoError(t, err)
	require.Equal(t, session.SequenceFields, recs[0])
	lines := make([]string, 0, len(recs)-1)
	for _, r := range recs[1:] {
		lines = append(lines, strings.Join(r, "\x1f"))
	}
	slices.Sort(lines)
	return lines
}

// split deals the corpus out to n indexers at random; each indexer's slice is newest first,
// give or take h.skew milliseconds, as an indexer's events may be.
func (h *harness) split(n int, rng *rand.Rand) [][]event {
	type skewed struct {
		e  event
		at int64 // the time the indexer's stream orders it by
	}
	parts := make([][]skewed, n)
	for _, e := range h.c.evs {
		i := rng.IntN(n)
		at := e.ms
		if h.skew > 0 {
			at += rng.Int64N(2*h.skew+1) - h.skew
		}
		parts[i] = append(parts[i], skewed{e, at})
	}
	out := make([][]event, n)
	for i, p := range parts {
		slices.SortStableFunc(p, func(a, b skewed) int { return cmp.Compare(b.at, a.at) })
		for _, s := range p {
			out[i] = append(out[i], s.e)
		}
	}
	return out
}

// mapPhaseOf runs one indexer's map phase, as splunkd runs a streaming command there: data
// chunks with _chunked_idx, then a header-only chunk that says finished.
func (h *harness) mapPhaseOf(evs []event, rng *rand.Rand) indexer {
	t := h.t
	args := append([]string{"phase=map"}, h.c.args...)
	first, pos, done := true, 0, false
	var w scp.RowWriter
	in := &chunkReader{next: func() []byte {
		switch {
		case first:
			first = false
			return getinfoFor(t, t.TempDir(), args...)
		case done:
			return nil
		case pos == len(evs):
			done = true
			return execChunk(true, []byte("_time,_raw,_chunked_idx,__mv__time,__mv__raw,__mv__chunked_idx\n"))
		}
		n := min(1+rng.IntN(h.mapChunk), len(evs)-pos)
		w.Reset()
		require.NoError(t, w.SetFields("_time", "_raw", "_chunked_idx"))
		for i, e := range evs[pos : pos+n] {
			w.ValueBytes(formatMillis(nil, e.ms))
			w.ValueBytes(e.raw)
			w.Value(fmt.Sprint(i))
			require.NoError(t, w.EndRow())
		}
		pos += n
		return execChunk(false, w.Body())
	}}
	d := serve(t, in)
	var ix indexer
	var r scp.RowReader
	for i, body := range d.bodies[1:] {
		require.Equal(t, i == len(d.bodies)-2, d.meta[i+1]["finished"], "map reply %d echoes finished", i)
		if len(body) == 0 {
			continue
		}
		require.NoError(t, r.Reset(body))
		if ix.header == nil {
			ix.header = slices.Clone(r.Header())
		}
		require.Equal(t, string(ix.header), string(r.Header()), "every map reply has the same fields")
		tm := r.Index("_time")
		for r.Next() {
			ix.rows = append(ix.rows, mapRow{line: slices.Clone(r.Line()), ms: epochMillis(r.Value(tm))})
		}
		require.NoError(t, r.Err())
	}
	return ix
}

// The interleavings of the map outputs a search head may see.
var interleavings = []string{"time-merged", "one-after-another", "round-robin-blocks", "random-blocks", "row-by-row", "reversed"}

// interleave orders the indexers' rows as one arrival order.
func interleave(kind string, ixs []indexer, block int, rng *rand.Rand) []mapRow {
	var out []mapRow
	pos := make([]int, len(ixs))
	left := func() (live []int) {
		for i, ix := range ixs {
			if pos[i] < len(ix.rows) {
				live = append(live, i)
			}
		}
		return live
	}
	take := func(i, n int) {
		n = min(n, len(ixs[i].rows)-pos[i])
		out = append(out, ixs[i].rows[pos[i]:pos[i]+n]...)
		pos[i] += n
	}
	switch kind {
	case "time-merged": // newest first across indexers, as if splunkd merged by _time
		for live := left(); len(live) > 0; live = left() {
			best := live[0]
			for _, i := range live[1:] {
				if ixs[i].rows[pos[i]].ms > ixs[best].rows[pos[best]].ms {
					best = i
				}
			}
			take(best, 1)
		}
	case "one-after-another", "reversed":
		for i := range ixs {
			take(i, len(ixs[i].rows))
		}
		if kind == "reversed" { // oldest first: no indexer sends that, the reduce must not care
			slices.Reverse(out)
		}
	case "round-robin-blocks", "row-by-row":
		if kind == "row-by-row" {
			block = 1
		}
		for live := left(); len(live) > 0; live = left() {
			for _, i := range live {
				take(i, block)
			}
		}
	case "random-blocks":
		for live := left(); len(live) > 0; live = left() {
			take(live[rng.IntN(len(live))], 1+rng.IntN(2*block))
		}
	default:
		panic(kind)
	}
	return out
}

// reduceRun is the result of one reduce.
type reduceRun struct {
	lines  []string // the sequences, as reference returns them
	early  int      // rows in replies before the last
	debug  string   // the inspector's DEBUG message
	others []string // its other messages
}

// exact checks a reduce's rows against the single-phase result, then that nothing went out
// before all input was in and that nothing was reported but the counts.
func (run reduceRun) exact(t testing.TB, want []string, what string) {
	t.Helper()
	sameRows(t, want, run.lines, what)
	require.Zero(t, run.early, "no sequence goes out before all input is in")
	require.Empty(t, run.others, "no warning: the result is exact")
	require.Regexp(t, `late=0 forced=0 `, run.debug)
}

// reducePhase feeds rows to the reduce in chunks of random size (the last one sometimes a
// header-only chunk, as splunkd sends), checks the protocol and that the dispatch directory
// is left empty, and returns the sequences.
func (h *harness) reducePhase(header []byte, rows []mapRow, rng *rand.Rand) reduceRun {
	t := h.t
	dispatch := t.TempDir()
	first, pos, requests := true, 0, 0
	emptyLast := rng.IntN(2) == 0
	done := false
	var body []byte
	in := &chunkReader{next: func() []byte {
		switch {
		case first:
			first = false
			return getinfoFor(t, dispatch, h.c.args...)
		case done:
			return nil
		case pos == len(rows) && (emptyLast || requests == 0):
			done = true
			requests++
			return execChunk(true, header)
		}
		n := min(1+rng.IntN(h.reduceMax), len(rows)-pos)
		body = append(body[:0], header...)
		body = append(body, '\r', '\n')
		for _, r := range rows[pos : pos+n] {
			body = append(append(body, r.line...), '\r', '\n')
		}
		pos += n
		requests++
		last := pos == len(rows) && !emptyLast
		done = last
		return execChunk(last, body)
	}}
	d := serve(t, in)
	require.Len(t, d.bodies, requests+1, "one reply per request")
	require.Equal(t, "reporting", d.meta[0]["type"])
	var run reduceRun
	var r scp.RowReader
	for i, body := range d.bodies[1:] {
		require.Equal(t, i == requests-1, d.meta[i+1]["finished"], "reply %d echoes finished", i)
		if len(body) == 0 {
			continue
		}
		require.NoError(t, r.Reset(body))
		idx := make([]int, len(session.SequenceFields))
		for i, f := range session.SequenceFields {
			idx[i] = r.Index(f)
			require.GreaterOrEqual(t, idx[i], 0, f)
		}
		cells := make([]string, len(idx))
		for r.Next() {
			for i, c := range idx {
				cells[i] = string(r.Value(c))
			}
			run.lines = append(run.lines, strings.Join(cells, "\x1f"))
			if i < requests-1 {
				run.early++
			}
		}
		require.NoError(t, r.Err())
	}
	slices.Sort(run.lines)
	for _, m := range d.msgs {
		switch {
		case strings.HasPrefix(m, "DEBUG "):
			run.debug = m
		default:
			run.others = append(run.others, m)
		}
	}
	names, open := filesUnder(t, dispatch)
	require.Empty(t, names, "the reduce leaves nothing in the dispatch directory")
	require.Zero(t, open, "and no file open there")
	return run
}

// filesUnder lists a directory, and counts this process's open files in it (Linux).
func filesUnder(t testing.TB, dir string) (names []string, open int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if runtime.GOOS == "linux" {
		fds, _ := os.ReadDir("/proc/self/fd")
		for _, fd := range fds {
			if target, err := os.Readlink("/proc/self/fd/" + fd.Name()); err == nil && strings.HasPrefix(target, dir+string(filepath.Separator)) {
				open++
			}
		}
	}
	return names, open
}

// sameRows fails with a short account of the difference.
func sameRows(t testing.TB, want, got []string, what string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	var missing, extra []string
	w := map[string]int{}
	for _, l := range want {
		w[l]++
	}
	for _, l := range got {
		if w[l] > 0 {
			w[l]--
		} else {
			extra = append(extra, l)
		}
	}
	for l, n := range w {
		for range n {
			missing = append(missing, l)
		}
	}
	show := func(ls []string) string {
		slices.Sort(ls)
		ls = ls[:min(3, len(ls))]
		return strings.ReplaceAll(strings.Join(ls, "\n  "), "\x1f", " | ")
	}
	t.Fatalf("%s: %d rows, want %d: %d missing, %d not in the single-phase result\nmissing:\n  %s\nextra:\n  %s",
		what, len(got), len(want), len(missing), len(extra), show(missing), show(extra))
}

var debugSorted = regexp.MustCompile(`sorted=(\d+) runs=(\d+)`)

// check runs every N and interleaving; budgets lists the reduce budgets to try in turn.
func (h *harness) check(t *testing.T, ns []int, budgets []int, seed uint64) {
	if h.want == nil {
		h.want = reference(t, h.c)
	}
	require.NotEmpty(t, h.want, "the corpus makes sequences")
	for _, n := range ns {
		rng := rand.New(rand.NewPCG(seed, uint64(n)))
		h.t = t
		start := time.Now()
		parts := h.split(n, rng)
		ixs := make([]indexer, n)
		var header []byte
		for i, s := range parts {
			ixs[i] = h.mapPhaseOf(s, rng)
			if ixs[i].header != nil {
				header = ixs[i].header
			}
		}
		mapTime := time.Since(start)
		block := max(1, h.mapChunk/2)
		for k, kind := range interleavings {
			name := fmt.Sprintf("N=%d/%s", n, kind)
			if n == 1 && kind == "time-merged" {
				name += "(single-instance)"
			}
			t.Run(name, func(t *testing.T) {
				h.t = t
				defer func(b int) { reduceBudget = b }(reduceBudget)
				reduceBudget = budgets[k%len(budgets)]
				start := time.Now()
				rows := interleave(kind, ixs, block, rng)
				run := h.reducePhase(header, rows, rng)
				run.exact(t, h.want, name)
				m := debugSorted.FindStringSubmatch(run.debug)
				t.Logf("%s: %d map rows from %d indexers (map phases %v), %d sequences identical to --file; budget %d KiB, %s run files; reduce %v",
					name, len(rows), n, mapTime.Round(time.Millisecond), len(run.lines), reduceBudget>>10, m[2], time.Since(start).Round(time.Millisecond))
			})
		}
	}
}

// scenarioCases are app/session's golden scenarios with the options of their golden files.
var scenarioCases = []struct{ scenario, args string }{
	{"signin_success_push", ""}, {"signin_success_sms", ""}, {"signin_success_email", ""},
	{"signin_success_voice", ""}, {"signin_enrolment", ""}, {"signin_failure", ""},
	{"signin_failure_unknown_user", ""}, {"signin_mfa_failure", ""}, {"signin_mfa_retry_success", ""},
	{"signin_denied", ""}, {"signin_incomplete", ""}, {"signin_restart_closes_previous", ""},
	{"app_signin", ""}, {"sspr", ""}, {"unlock", ""}, {"interleaved", ""},
	{"interleaved", "flow=signin maxpause=5m"}, {"interleaved", "by=session"}, {"interleaved", "by=ip"},
	{"admin_on_behalf", ""}, {"cut_by_time_range", ""}, {"maxpause", ""}, {"maxspan", ""},
	{"maxspan", "maxspan=10m"}, {"update_password_outside_reset", ""}, {"same_millisecond", ""},
}

// loadNDJSON reads Okta events, oldest first.
func loadNDJSON(t testing.TB, path string) []event {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []event
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev session.Event
		require.NoError(t, session.ParseRaw(sc.Bytes(), &ev), path)
		out = append(out, event{raw: slices.Clone(sc.Bytes()), ms: ev.Time})
	}
	require.NoError(t, sc.Err())
	slices.SortStableFunc(out, func(a, b event) int { return int(a.ms - b.ms) })
	return out
}

// simCorpus is n events of a simulated org over a day, about one per user every few minutes.
func simCorpus(n int, seed uint64) corpus {
	raws := oktasim.Generate(oktasim.GenOptions{Events: n, Users: max(50, n/50), Span: 24 * time.Hour, Seed: seed})
	evs := make([]event, 0, n)
	for _, raw := range raws {
		var ev session.Event
		if err := session.ParseRaw(raw, &ev); err != nil {
			panic(err)
		}
		evs = append(evs, event{raw: raw, ms: ev.Time})
	}
	return corpus{name: fmt.Sprintf("oktasim-%d", n), evs: evs}
}

// TestReduceInterleavingsGolden: every golden scenario, and the command's test corpus, split
// over 1, 3, 8 and 32 indexers and interleaved six ways; half the runs with a reduce budget of
// 4 KiB, so that records go through run files and merges of runs.
func TestReduceInterleavingsGolden(t *testing.T) {
	var cases []corpus
	for _, sc := range scenarioCases {
		c := corpus{name: sc.scenario, evs: loadNDJSON(t, filepath.Join("..", "..", "app", "session", "testdata", "scenarios", sc.scenario+".ndjson"))}
		if sc.args != "" {
			c.args = strings.Fields(sc.args)
			c.name += "[" + sc.args + "]"
		}
		cases = append(cases, c)
	}
	cases = append(cases, corpus{name: "cmd-testdata", evs: loadEvents(t)})
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := &harness{c: c, mapChunk: 4, reduceMax: 5, skew: 2000}
			if c.name == "same_millisecond" {
				h.skew = 0 // its point is ties; skew would only add ties of its own
			}
			h.check(t, []int{1, 3, 8, 32}, []int{defaultReduceBudget, 4 << 10}, uint64(i))
		})
	}
}

// TestReduceInterleavingsSim: 10 000 events of a simulated org's day (3 000 under the race
// detector, where 10 000 cost 38 CPU-seconds).
func TestReduceInterleavingsSim(t *testing.T) {
	n := 10_000
	if testing.Short() || raceEnabled {
		n = 3_000
	}
	h := &harness{c: simCorpus(n, 11), mapChunk: 500, reduceMax: 2_000, skew: 3000}
	h.check(t, []int{1, 3, 8, 32}, []int{defaultReduceBudget, 64 << 10, 16 << 10}, 99)
}

// TestReduceInterleavingsLarge is the same on 250 000 events, the size of a day in a mid-size
// org; it needs OKTASESSION_LARGE=1 (make reduce-check runs it, without the race detector,
// under which it would take many minutes).
func TestReduceInterleavingsLarge(t *testing.T) {
	if os.Getenv("OKTASESSION_LARGE") == "" {
		t.Skip("set OKTASESSION_LARGE=1 (make reduce-check) to run the 250 000-event interleavings")
	}
	h := &harness{c: simCorpus(250_000, 5), mapChunk: 10_000, reduceMax: 50_000, skew: 3000}
	h.check(t, []int{1, 3, 8, 32}, []int{defaultReduceBudget, 1 << 20}, 250)
}

// FuzzReduceOrder is the property behind the harness: any split, any interleaving in blocks
// of any size, any chunking and any budget give the single-phase rows.
func FuzzReduceOrder(f *testing.F) {
	f.Add(uint64(1), uint8(3), uint8(2), uint8(4), uint8(1))
	f.Add(uint64(2), uint8(32), uint8(1), uint8(1), uint8(0))
	f.Add(uint64(3), uint8(8), uint8(9), uint8(30), uint8(200))
	c := corpus{name: "cmd-testdata", evs: loadEvents(f)}
	want := reference(f, c)
	f.Fuzz(func(t *testing.T, seed uint64, n, block, chunk, budgetKiB uint8) {
		rng := rand.New(rand.NewPCG(seed, 0))
		h := &harness{t: t, c: c, mapChunk: 1 + int(chunk%16), reduceMax: 1 + int(chunk), skew: int64(seed % 5000), want: want}
		parts := h.split(1+int(n%40), rng)
		ixs := make([]indexer, len(parts))
		var header []byte
		for i, s := range parts {
			ixs[i] = h.mapPhaseOf(s, rng)
			if ixs[i].header != nil {
				header = ixs[i].header
			}
		}
		defer func(b int) { reduceBudget = b }(reduceBudget)
		reduceBudget = 1<<10 + int(budgetKiB)<<10
		rows := interleave("random-blocks", ixs, 1+int(block), rng)
		h.reducePhase(header, rows, rng).exact(t, want, "random interleaving")
	})
}

// reduceStream is splunkd's side of a reduce over rows, one request per 200 rows, as chunks.
func reduceStream(t testing.TB, dispatch string, header []byte, rows []mapRow) [][]byte {
	return append([][]byte{getinfoFor(t, dispatch)}, reduceChunks(header, rows, 200)...)
}

// reduceChunks makes execute requests of per rows each, the last one finished.
func reduceChunks(header []byte, rows []mapRow, per int) [][]byte {
	var chunks [][]byte
	for i := 0; i < len(rows); i += per {
		body := append(slices.Clone(header), '\r', '\n')
		for _, r := range rows[i:min(i+per, len(rows))] {
			body = append(append(body, r.line...), '\r', '\n')
		}
		chunks = append(chunks, execChunk(i+per >= len(rows), body))
	}
	return chunks
}

// TestReduceCleansUpOnEveryPath ends the reduce in each way a search can end, with records in
// run files, and checks that no file is left in the dispatch directory, or open there.
func TestReduceCleansUpOnEveryPath(t *testing.T) {
	h := &harness{t: t, c: simCorpus(3_000, 21), mapChunk: 500}
	ix := h.mapPhaseOf(h.c.evs, rand.New(rand.NewPCG(1, 1)))
	defer func(b int) { reduceBudget = b }(reduceBudget)
	reduceBudget = 8 << 10

	type end struct {
		name  string
		cut   func(chunks [][]byte, dispatch string, cancel func()) io.Reader // what splunkd sends
		out   io.Writer
		check func(t *testing.T, out string, code int)
	}
	chunksFrom := func(chunks [][]byte, each func(i int)) io.Reader {
		i := 0
		return &chunkReader{next: func() []byte {
			if i == len(chunks) {
				return nil
			}
			each(i)
			i++
			return chunks[i-1]
		}}
	}
	ends := []end{
		{name: "finished", cut: func(chunks [][]byte, _ string, _ func()) io.Reader {
			return chunksFrom(chunks, func(int) {})
		}, check: func(t *testing.T, out string, code int) {
			require.Equal(t, 0, code)
			require.True(t, strings.Contains(out, `"finished":true`), "the last reply went out")
			require.False(t, strings.Contains(out, `["ERROR"`), "without an error")
		}},
		{name: "splunkd closes the pipe mid-search", cut: func(chunks [][]byte, _ string, _ func()) io.Reader {
			return chunksFrom(chunks[:len(chunks)/2], func(int) {})
		}, check: func(t *testing.T, out string, code int) {
			require.Equal(t, 0, code)
			require.False(t, strings.Contains(out, `"finished":true`), "no last reply")
		}},
		{name: "search stopped (SIGTERM)", cut: func(chunks [][]byte, _ string, cancel func()) io.Reader {
			return chunksFrom(chunks, func(i int) {
				if i == len(chunks)/2 {
					cancel()
				}
			})
		}, check: func(t *testing.T, out string, code int) {
			require.Equal(t, 0, code, "reported to splunkd, not to stderr")
			require.Regexp(t, `\["ERROR","scp: stopped: context canceled"\]`, out)
		}},
		{name: "dispatch directory gone before the end", cut: func(chunks [][]byte, dispatch string, _ func()) io.Reader {
			return chunksFrom(chunks, func(i int) {
				if i == len(chunks)-1 {
					require.NoError(t, os.RemoveAll(dispatch))
				}
			})
		}, check: func(t *testing.T, out string, code int) {
			require.Equal(t, 0, code)
			require.Regexp(t, `\["ERROR","oktasession: [^"]*(keeping events in time order|making room for the sequences) in /[^"]*no such file or directory"\]`, out, "the error names the directory and says why")
		}},
		{name: "panic", cut: func(chunks [][]byte, _ string, _ func()) io.Reader {
			return chunksFrom(chunks, func(int) {})
		}, out: &panicWriter{after: 4}, check: func(t *testing.T, out string, code int) {
			require.Equal(t, -1, code, "the panic went through")
		}},
	}
	for _, e := range ends {
		t.Run(e.name, func(t *testing.T) {
			dispatch := t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			in := e.cut(reduceStream(t, dispatch, ix.header, ix.rows), dispatch, cancel)
			var out, errOut bytes.Buffer
			var w io.Writer = &out
			if e.out != nil {
				w = e.out
			}
			code := func() (code int) {
				defer func() {
					if recover() != nil {
						code = -1
					}
				}()
				return Run(ctx, nil, in, w, &errOut)
			}()
			e.check(t, out.String(), code)
			if _, err := os.Stat(dispatch); err == nil {
				names, _ := filesUnder(t, dispatch)
				require.Empty(t, names, "nothing left in the dispatch directory")
			}
			_, open := filesUnder(t, filepath.Dir(dispatch))
			require.Zero(t, open, "no file left open")
		})
	}
}

// panicWriter panics on its after-th write, as a broken stdout deep in a library might.
type panicWriter struct{ writes, after int }

func (p *panicWriter) Write(b []byte) (int, error) {
	if p.writes++; p.writes >= p.after {
		panic("stdout broke")
	}
	return len(b), nil
}

// TestReduceBusyKey: a user with more events than the engine once kept for one key
// (Options.MaxKeyEvents), ten a second for 5.5 hours with no pause of maxpause between them,
// whose sequences the reduce used to refuse (it failed the search rather than print the
// sequence open at the cut in two pieces). The engine now sequences such a key as it goes:
// the reduce gives the rows of --file, all of them whole, with no error or warning.
func TestReduceBusyKey(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("200 001 events for one user: make reduce-check runs it")
	}
	n := session.DefaultMaxKey + 1
	var w scp.RowWriter
	require.NoError(t, w.SetFields("_time", "uuid", "eventType", "actor.id", "actor.type", "actor.alternateId", "outcome.result"))
	var file bytes.Buffer // the same events for --file, as Okta JSON
	const t0 = 1717200000000
	for i := range n {
		ms := t0 + int64(i)*100 // ten a second for 5.5 hours
		typ := []string{"user.session.start", "policy.evaluate_sign_on", "user.authentication.verify"}[i%3]
		w.ValueBytes(formatMillis(nil, ms))
		w.Value(fmt.Sprintf("e%d", i))
		w.Value(typ)
		w.Value("00ubusy0000000000001")
		w.Value("User")
		w.Value("busy@example.com")
		w.Value("SUCCESS")
		require.NoError(t, w.EndRow())
		fmt.Fprintf(&file, `{"uuid":"e%d","published":%q,"eventType":%q,"actor":{"id":"00ubusy0000000000001","type":"User","alternateId":"busy@example.com"},"outcome":{"result":"SUCCESS"}}`+"\n",
			i, time.UnixMilli(ms).UTC().Format("2006-01-02T15:04:05.000Z"), typ)
	}
	dispatch := t.TempDir()
	d := serve(t, bytes.NewReader(append(getinfoFor(t, dispatch), execChunk(true, w.Body())...)))
	require.Len(t, d.bodies, 2)
	require.Equal(t, true, d.meta[1]["finished"])
	require.Len(t, d.msgs, 1, "no error and no warning: %q", d.msgs)
	require.Regexp(t, `^DEBUG .* sequences=66667 .*late=0 forced=0 passes=[1-9]`, d.msgs[0], "sequenced as it went, never cut")
	names, open := filesUnder(t, dispatch)
	require.Empty(t, names)
	require.Zero(t, open)

	var got []string
	var r scp.RowReader
	require.NoError(t, r.Reset(d.bodies[1]))
	idx := make([]int, len(session.SequenceFields))
	for i, f := range session.SequenceFields {
		idx[i] = r.Index(f)
	}
	cells := make([]string, len(idx))
	whole := 0
	for r.Next() {
		for i, c := range idx {
			cells[i] = string(r.Value(c))
		}
		got = append(got, strings.Join(cells, "\x1f"))
		if string(r.Value(r.Index("status"))) == "success" && string(r.Value(r.Index("event_count"))) == "3" {
			whole++
		}
	}
	require.NoError(t, r.Err())
	slices.Sort(got)
	require.Equal(t, n/3, whole, "every sign-in whole: start, policy, verify, success")

	sameRows(t, fileRows(t, nil, &file), got, "a key busier than MaxKeyEvents")
}

// TestWriteReduceStream writes what splunkd sends the reduce for a simulated day split over
// indexers, for measuring the reduce as a process (docs/oktasession.md, "In a distributed
// deployment"): OKTASESSION_REDUCE_STREAM=file OKTASESSION_REDUCE_EVENTS=250000
// OKTASESSION_REDUCE_INDEXERS=8 [OKTASESSION_REDUCE_ROWS=50000]. The map outputs arrive one
// indexer after another in requests of that many rows (splunkd's maxresultrows by default),
// the worst order for a reduce that does not sort.
func TestWriteReduceStream(t *testing.T) {
	path := os.Getenv("OKTASESSION_REDUCE_STREAM")
	if path == "" {
		t.Skip("OKTASESSION_REDUCE_STREAM names no file to write")
	}
	var n, idx int
	per := 50_000
	_, err := fmt.Sscan(os.Getenv("OKTASESSION_REDUCE_EVENTS")+" "+os.Getenv("OKTASESSION_REDUCE_INDEXERS"), &n, &idx)
	require.NoError(t, err)
	if v := os.Getenv("OKTASESSION_REDUCE_ROWS"); v != "" {
		_, err = fmt.Sscan(v, &per)
		require.NoError(t, err)
	}
	h := &harness{t: t, c: simCorpus(n, 5), mapChunk: 10_000, skew: 3000}
	rng := rand.New(rand.NewPCG(uint64(n), uint64(idx)))
	var rows []mapRow
	var header []byte
	for _, part := range h.split(idx, rng) {
		ix := h.mapPhaseOf(part, rng)
		rows = append(rows, ix.rows...)
		if ix.header != nil {
			header = ix.header
		}
	}
	h.c.evs = nil
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	bw := bufio.NewWriterSize(f, 1<<20)
	_, err = bw.Write(getinfoFor(t, "/tmp"))
	require.NoError(t, err)
	for _, c := range reduceChunks(header, rows, per) {
		_, err = bw.Write(c)
		require.NoError(t, err)
	}
	require.NoError(t, bw.Flush())
	t.Logf("%d events, %d map rows from %d indexers, %d rows per request -> %s", n, len(rows), idx, per, path)
}

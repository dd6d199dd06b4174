package appcheck

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The alert tests schedule every alert of savedsearches.conf over a labelled day of Okta events
// (testdata/alerts: corpus.ndjson, made by gen_corpus.py, and labels.json) exactly as Splunk's
// scheduler would run it: each cron time, each run's window from dispatch.earliest_time and
// dispatch.latest_time, the base search over the events' search-time fields (the app's own
// props, transforms, lookups and eventtypes), the real oktasession binary with the arguments
// the search passes, and the rest of the SPL through splpipe_test.go. They require that every
// attack reaches the alert it is labelled for, that no benign look-alike or background user
// sets off any alert, that each sequence is reported by one run only and whole, and that each
// look-alike is close enough to its attack that loosening the alert's discriminating condition
// makes it fire (so the test can fail).

const alertsDir = "testdata/alerts"

// alertLabel is one labelled scenario of labels.json.
type alertLabel struct {
	Scenario string            `json:"scenario"`
	Alert    string            `json:"alert"`
	Also     []string          `json:"also"`
	Role     string            `json:"role"`
	Entity   map[string]string `json:"entity"`
	Note     string            `json:"note"`
	UUIDs    []string          `json:"uuids"`
}

// alertSearches maps the labels' alert names to the saved searches that implement them.
var alertSearches = map[string]string{
	"MFA fatigue":                   "OktaSight - Alert - MFA fatigue",
	"Push answered from elsewhere":  "OktaSight - Alert - Push answered from elsewhere",
	"Sign-in without MFA":           "OktaSight - Alert - Sign-in succeeded without MFA",
	"Password spray":                "OktaSight - Alert - Password spray from one IP",
	"Password spray (low and slow)": "OktaSight - Alert - Low-and-slow password spray from one IP",
	"Brute force":                   "OktaSight - Alert - Failed sign-ins for one user in 5 minutes",
	"Brute force (24 hours)":        "OktaSight - Alert - Failed sign-ins for one user in 24 hours",
	"Session hijack":                "OktaSight - Alert - Session hijack",
	"Recovery takeover":             "OktaSight - Alert - Recovery takeover",
	"Abandoned recovery":            "OktaSight - Alert - Abandoned recovery",
}

// alertMutations loosen each alert's discriminating condition; the named look-alike must then
// be reported, or the look-alike does not test that condition. Keys are macros to redefine;
// "search:" keys replace text in the expanded search.
var alertMutations = map[string]struct {
	lookalike string
	change    map[string]string
}{
	"MFA fatigue":                  {"fatigue_three_pushes", map[string]string{"oktasight_mfa_fatigue_sent_threshold": "3"}},
	"Push answered from elsewhere": {"push_cellular", map[string]string{"oktasight_push_elsewhere_signals": "true()"}},
	"Sign-in without MFA":          {"nomfa_remembered", map[string]string{"oktasight_nomfa_signals": "true()"}},
	"Password spray":               {"spray_office_typos", map[string]string{"search:AND successes == 0": ""}},
	"Brute force":                  {"brute_typos", map[string]string{"oktasight_failed_signin_5m_threshold": "3"}},
	"Brute force (24 hours)":       {"brute_typos", map[string]string{"oktasight_failed_signin_24h_threshold": "3"}},
	"Password spray (low and slow)": {"spray_office_typos", map[string]string{"search:AND successes == 0": "",
		"oktasight_spray_slow_hours_threshold": "1"}},
	"Session hijack":     {"hijack_roaming", map[string]string{"search:AND session_agent_uses == 1": ""}},
	"Recovery takeover":  {"takeover_usual_device", map[string]string{"oktasight_recovery_takeover_signals": "true()"}},
	"Abandoned recovery": {"abandoned_remembered", map[string]string{"oktasight_abandoned_recovery_user_threshold": "1"}},
}

// alertHarness holds what every alert test shares: the corpus with its search-time fields, the
// labels, and the oktasession binary with a cache of its answers.
type alertHarness struct {
	day         time.Time
	events      []fields // newest first, as Splunk returns them
	labels      []alertLabel
	bin         string
	earliestOpt bool // oktasession takes earliest= (searchinfo.earliest_time in Splunk) on the command line
	mu          sync.Mutex
	cache       map[string][]fields
	lookups     map[string]*splLookup
	runs        int // oktasession processes started
}

var (
	harnessOnce sync.Once
	harness     *alertHarness
	harnessErr  error
	harnessDir  string // holds the oktasession binary the alert tests built; TestMain removes it
)

func TestMain(m *testing.M) {
	code := m.Run()
	if harnessDir != "" {
		os.RemoveAll(harnessDir)
	}
	os.Exit(code)
}

func loadAlertHarness(t *testing.T) *alertHarness {
	t.Helper()
	harnessOnce.Do(func() { harness, harnessErr = newAlertHarness(t) })
	require.NoError(t, harnessErr)
	return harness
}

func newAlertHarness(t *testing.T) (*alertHarness, error) {
	var meta struct {
		Day       string       `json:"day"`
		Scenarios []alertLabel `json:"scenarios"`
	}
	raw, err := os.ReadFile(filepath.Join(alertsDir, "labels.json"))
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		return nil, fmt.Errorf("labels.json: %w", err)
	}
	h := &alertHarness{labels: meta.Scenarios, cache: map[string][]fields{}, lookups: map[string]*splLookup{}}
	if h.day, err = time.Parse(time.RFC3339, meta.Day); err != nil {
		return nil, fmt.Errorf("labels.json day: %w", err)
	}
	st := loadSearchTime(t)
	f, err := os.Open(filepath.Join(alertsDir, "corpus.ndjson"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := slices.Clone(sc.Bytes())
		ev, err := st.apply(line, "okta:acme.okta.com")
		if err != nil {
			return nil, fmt.Errorf("corpus.ndjson line %d: %w", n, err)
		}
		pub, err := time.Parse(time.RFC3339Nano, first(ev["published"]))
		if err != nil {
			return nil, fmt.Errorf("corpus.ndjson line %d: published: %w", n, err)
		}
		ev["_time"] = []string{strconv.FormatFloat(float64(pub.UnixMilli())/1000, 'f', 3, 64)}
		ev["index"] = []string{"okta"}
		ev["_raw"] = []string{string(line)}
		h.events = append(h.events, ev)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	slices.Reverse(h.events) // the file is oldest first; Splunk gives newest first
	if harnessDir, err = os.MkdirTemp("", "oktasight-alerts-"); err != nil {
		return nil, err
	}
	h.bin = filepath.Join(harnessDir, "oktasession")
	build := exec.Command("go", "build", "-o", h.bin, "./cmd/oktasession")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building oktasession: %v\n%s", err, out)
	}
	help, _ := exec.Command(h.bin, "--help").CombinedOutput()
	h.earliestOpt = bytes.Contains(help, []byte("earliest="))
	return h, nil
}

// sequenceRows runs oktasession on rows' _raw with args, as the search's window sees it.
func (h *alertHarness) sequenceRows(env *splEnv, args []string, rows []fields) ([]fields, error) {
	hash := fnv.New64a()
	for _, r := range rows {
		hash.Write([]byte(first(r["uuid"])))
	}
	key := fmt.Sprintf("%s|%d|%d|%x", strings.Join(args, " "), env.earliest.Unix(), env.latest.Unix(), hash.Sum64())
	h.mu.Lock()
	cached, ok := h.cache[key]
	h.mu.Unlock()
	if !ok && len(rows) == 0 {
		return nil, nil // no events, no sequences: no process to start
	}
	if !ok {
		var in bytes.Buffer
		for _, r := range rows {
			raw, ok := r.get("_raw")
			if !ok {
				return nil, fmt.Errorf("a row reaches oktasession without _raw")
			}
			in.WriteString(raw)
			in.WriteByte('\n')
		}
		cmdArgs := append([]string{"--file", "-", "--format", "json"}, args...)
		if h.earliestOpt { // what splunkd passes in getinfo's searchinfo.earliest_time
			cmdArgs = append(cmdArgs, "earliest="+strconv.FormatInt(env.earliest.Unix(), 10))
		}
		cmd := exec.Command(h.bin, cmdArgs...)
		cmd.Stdin = &in
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return nil, fmt.Errorf("oktasession %s: %v: %s", strings.Join(cmdArgs, " "), err, stderr.String())
		}
		cached, err = parseSequenceJSON(out)
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.cache[key] = cached
		h.runs++
		h.mu.Unlock()
	}
	res := make([]fields, len(cached))
	for i, r := range cached {
		res[i] = r.clone()
	}
	return res, nil
}

// parseSequenceJSON reads oktasession --format json: one object per line; null and [] are
// absent fields, as an empty cell is in Splunk.
func parseSequenceJSON(out []byte) ([]fields, error) {
	var rows []fields
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, fmt.Errorf("oktasession output %q: %w", line, err)
		}
		f := fields{}
		for k, v := range obj {
			var vs []string
			switch x := v.(type) {
			case nil:
			case []any:
				for _, e := range x {
					vs = append(vs, fmt.Sprint(e))
				}
			default:
				vs = []string{fmt.Sprint(x)}
			}
			if len(vs) > 0 {
				f[k] = vs
			}
		}
		rows = append(rows, f)
	}
	return rows, nil
}

func (h *alertHarness) lookup(t *testing.T) func(string) (*splLookup, error) {
	return func(name string) (*splLookup, error) {
		h.mu.Lock()
		defer h.mu.Unlock()
		if l, ok := h.lookups[name]; ok {
			return l, nil
		}
		dir := ""
		if name == "oktasight_egress_ips" {
			dir = alertsDir // the org's own egress list, as an admin fills the shipped empty one
		}
		l, err := loadSplLookup(t, name, dir)
		if err == nil {
			h.lookups[name] = l
		}
		return l, err
	}
}

// relativeTime resolves a dispatch time (now, -95m@m, @h, -6h@h, -1d@d) against now, in UTC.
func relativeTime(spec string, now time.Time) (time.Time, error) {
	if spec == "" || spec == "now" {
		return now, nil
	}
	m := regexp.MustCompile(`^(?:([+-]\d+)(s|m|h|d))?(?:@(s|m|h|d))?$`).FindStringSubmatch(spec)
	if m == nil || spec == "" {
		return time.Time{}, fmt.Errorf("dispatch time %q is not supported by the checker", spec)
	}
	unit := map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}
	t := now
	if m[1] != "" {
		n, _ := strconv.Atoi(m[1])
		t = t.Add(time.Duration(n) * unit[m[2]])
	}
	if m[3] != "" {
		t = t.Truncate(unit[m[3]])
	}
	return t, nil
}

// cronTimes returns the times in [from, to) a five-field cron schedule fires, for the minute
// and hour forms the app uses (*, */n, n, a,b); day, month and weekday must be *.
func cronTimes(spec string, from, to time.Time) ([]time.Time, error) {
	f := strings.Fields(spec)
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] != "*" {
		return nil, fmt.Errorf("cron %q is not supported by the checker", spec)
	}
	field := func(s string, max int) ([]bool, error) {
		on := make([]bool, max)
		for _, part := range strings.Split(s, ",") {
			switch {
			case part == "*":
				for i := range on {
					on[i] = true
				}
			case strings.HasPrefix(part, "*/"):
				n, err := strconv.Atoi(part[2:])
				if err != nil || n <= 0 {
					return nil, fmt.Errorf("cron %q", spec)
				}
				for i := 0; i < max; i += n {
					on[i] = true
				}
			default:
				n, err := strconv.Atoi(part)
				if err != nil || n < 0 || n >= max {
					return nil, fmt.Errorf("cron %q", spec)
				}
				on[n] = true
			}
		}
		return on, nil
	}
	mins, err := field(f[0], 60)
	if err != nil {
		return nil, err
	}
	hours, err := field(f[1], 24)
	if err != nil {
		return nil, err
	}
	var out []time.Time
	for t := from.Truncate(time.Minute); t.Before(to); t = t.Add(time.Minute) {
		if !t.Before(from) && mins[t.Minute()] && hours[t.Hour()] {
			out = append(out, t)
		}
	}
	return out, nil
}

// alertRun is one scheduled run of an alert and its result rows.
type alertRun struct {
	at, earliest, latest time.Time
	rows                 []fields
}

// scheduleAlert runs one saved search at every time its schedule fires over the corpus's day
// and the hours after it that still report the day's sequences. change redefines macros or
// replaces search text (alertMutations); only runs whose window holds an event of keep run
// when keep is not nil.
func (h *alertHarness) scheduleAlert(t *testing.T, st *confStanza, change map[string]string, keep map[string]bool) []alertRun {
	t.Helper()
	s := loadSPL(t)
	for k, v := range change {
		if !strings.HasPrefix(k, "search:") {
			require.Contains(t, s.macros, k, "mutation of an unknown macro")
			s.macros[k] = v
		}
	}
	q := s.expand(st.Values["search"], 0, func(msg string) { t.Error(msg) })
	for k, v := range change {
		if old, ok := strings.CutPrefix(k, "search:"); ok {
			require.Contains(t, q, old, "mutation: the search no longer has this text")
			q = strings.Replace(q, old, v, 1)
		}
	}
	times, err := cronTimes(st.Values["cron_schedule"], h.day, h.day.Add(34*time.Hour))
	require.NoError(t, err)
	var runs []alertRun
	for _, at := range times {
		e, err := relativeTime(st.Values["dispatch.earliest_time"], at)
		require.NoError(t, err)
		l, err := relativeTime(st.Values["dispatch.latest_time"], at)
		require.NoError(t, err)
		env := &splEnv{earliest: e, latest: l, now: at, events: h.events, lookup: h.lookup(t)}
		env.oktasession = func(args []string, in []fields) ([]fields, error) { return h.sequenceRows(env, args, in) }
		if keep != nil && !slices.ContainsFunc(h.events, func(ev fields) bool {
			tm, _ := evalNumber(first(ev["_time"]))
			return keep[first(ev["uuid"])] && tm >= epoch(e) && tm < epoch(l)
		}) {
			continue
		}
		rows, err := runSPL(env, q)
		require.NoError(t, err, "%s at %s", st.Name, at.Format(time.RFC3339))
		runs = append(runs, alertRun{at: at, earliest: e, latest: l, rows: rows})
	}
	return runs
}

// alerted applies the alert's trigger (number of results > 0) and throttling
// (alert.suppress.fields over alert.suppress.period) and returns the rows that alert.
func alerted(t *testing.T, st *confStanza, runs []alertRun) []fields {
	require.Equal(t, "number of events", st.Values["counttype"])
	require.Equal(t, "greater than", st.Values["relation"])
	require.Equal(t, "0", st.Values["quantity"])
	var period time.Duration
	var keys []string
	if st.Values["alert.suppress"] == "1" {
		d, err := splDuration(st.Values["alert.suppress.period"])
		require.NoError(t, err)
		period = d
		keys = strings.Fields(strings.ReplaceAll(st.Values["alert.suppress.fields"], ",", " "))
		require.NotEmpty(t, keys, "%s: suppression without fields would silence every result", st.Name)
	}
	last := map[string]time.Time{}
	var out []fields
	for _, r := range runs {
		for _, row := range r.rows {
			if period > 0 {
				var k []string
				for _, f := range keys {
					k = append(k, strings.Join(row[f], "\x1f"))
				}
				id := strings.Join(k, "\x00")
				if at, ok := last[id]; ok && r.at.Sub(at) < period {
					continue
				}
				last[id] = r.at
			}
			out = append(out, row)
		}
	}
	return out
}

// names reports whether a row names the labelled entity.
func names(row fields, entity map[string]string) bool {
	for f, v := range entity {
		if !slices.Contains(row[f], v) {
			return false
		}
	}
	return len(entity) > 0
}

func rowSummary(row fields) string {
	var parts []string
	for _, k := range []string{"user", "src", "requester", "flow", "status", "seq_id", "_time", "first_failure"} {
		if v, ok := row[k]; ok {
			parts = append(parts, k+"="+strings.Join(v, ","))
		}
	}
	return strings.Join(parts, " ")
}

func TestAlertsOnLabelledDay(t *testing.T) {
	h := loadAlertHarness(t)
	if !h.earliestOpt {
		t.Log("oktasession has no option for searchinfo.earliest_time: cut fragments are not marked")
	}
	searches := map[string]*confStanza{}
	for _, st := range savedSearches(t) {
		searches[st.Name] = st
	}
	inCorpus := map[string]bool{}
	for _, e := range h.events {
		inCorpus[first(e["uuid"])] = true
	}
	byAlert := map[string][]alertLabel{}
	for _, l := range h.labels {
		require.NotEmpty(t, l.UUIDs, "label %s has no events", l.Scenario)
		for _, u := range l.UUIDs {
			require.True(t, inCorpus[u], "label %s: event %s is not in corpus.ndjson", l.Scenario, u)
		}
		require.Contains(t, alertSearches, l.Alert, "label %s", l.Scenario)
		require.Contains(t, []string{"attack", "lookalike"}, l.Role, "label %s", l.Scenario)
		byAlert[l.Alert] = append(byAlert[l.Alert], l)
	}
	for alert, name := range alertSearches {
		require.Contains(t, searches, name, "saved search for %s", alert)
		hasAttack := slices.ContainsFunc(byAlert[alert], func(l alertLabel) bool { return l.Role == "attack" })
		assert.True(t, hasAttack, "%s: no attack scenario", alert)
	}
	for _, alert := range sortedKeys(alertSearches) {
		st := searches[alertSearches[alert]]
		t.Run(alert, func(t *testing.T) {
			runs := h.scheduleAlert(t, st, nil, nil)
			all := alerted(t, st, runs)
			var every []fields
			for _, r := range runs {
				every = append(every, r.rows...)
			}
			// Every attack labelled for this alert (or also setting it off) is reported.
			for _, l := range h.labels {
				if l.Role != "attack" || l.Alert != alert && !slices.Contains(l.Also, alert) {
					continue
				}
				hit := slices.ContainsFunc(all, func(r fields) bool { return names(r, l.Entity) })
				assert.True(t, hit, "%s: attack %s (%s) is not reported", alert, l.Scenario, l.Note)
			}
			// Every row is an attack's: no look-alike, no background user.
			for _, row := range every {
				ok := slices.ContainsFunc(h.labels, func(l alertLabel) bool {
					return l.Role == "attack" && (l.Alert == alert || slices.Contains(l.Also, alert)) && names(row, l.Entity)
				})
				if !ok {
					who := "a background user"
					for _, l := range h.labels {
						if names(row, l.Entity) {
							who = fmt.Sprintf("%s %s (for %s)", l.Role, l.Scenario, l.Alert)
						}
					}
					t.Errorf("%s reports %s: %s", alert, who, rowSummary(row))
				}
			}
			if usesOktasession(st) {
				checkSequencesOnce(t, h, st, runs)
			}
			t.Logf("%s: %d runs, %d rows, %d alerted", alert, len(runs), len(every), len(all))
		})
	}
	t.Logf("%d oktasession runs", h.runs)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func usesOktasession(st *confStanza) bool {
	return strings.Contains(st.Values["search"], "| oktasession ")
}

var sliceRe = regexp.MustCompile(`start >= info_max_time - (\d+) AND start < info_max_time - (\d+)`)

// checkSequencesOnce requires that an oktasession alert reports each sequence in one run only,
// that what it reports is a whole sequence (the same seq_id as oktasession gives on the whole
// day), and that its window and slice leave maxspan (and its time_window look-back) on each side.
func checkSequencesOnce(t *testing.T, h *alertHarness, st *confStanza, runs []alertRun) {
	q := loadSPL(t).expand(st.Values["search"], 0, func(string) {})
	m := sliceRe.FindStringSubmatch(q)
	require.NotNil(t, m, "%s: the search must report the sequences that start in one slice: start >= info_max_time - A AND start < info_max_time - B", st.Name)
	a, _ := strconv.Atoi(m[1])
	b, _ := strconv.Atoi(m[2])
	seg := regexp.MustCompile(`\| oktasession ([^|]*)`).FindStringSubmatch(q)
	args := strings.Fields(seg[1])
	maxspan := 30 * time.Minute
	for _, arg := range args {
		if v, ok := strings.CutPrefix(arg, "maxspan="); ok {
			d, err := time.ParseDuration(v)
			require.NoError(t, err)
			maxspan = d
		}
	}
	lookback := time.Duration(0)
	for _, w := range regexp.MustCompile(`time_window=(\S+)`).FindAllStringSubmatch(q, -1) {
		d, err := splDuration(w[1])
		require.NoError(t, err)
		lookback = max(lookback, d)
	}
	tail := time.Duration(b) * time.Second
	assert.GreaterOrEqual(t, tail, maxspan, "%s: the slice must end maxspan before the window's end, so its sequences have ended", st.Name)
	for i, r := range runs {
		window := r.latest.Sub(r.earliest)
		leadIn := window - time.Duration(a)*time.Second
		assert.GreaterOrEqual(t, leadIn, maxspan+lookback, "%s at %s: lead-in before the slice", st.Name, r.at)
		if i > 0 {
			prevEnd := runs[i-1].latest.Add(-tail)
			assert.Equal(t, prevEnd, r.latest.Add(-time.Duration(a)*time.Second), "%s at %s: slices of consecutive runs must touch", st.Name, r.at)
		}
	}
	// Each reported sequence: one run, and whole.
	whole := map[string]bool{}
	day := &splEnv{earliest: h.day.Add(-24 * time.Hour), latest: h.day.Add(48 * time.Hour), now: h.day.Add(48 * time.Hour), events: h.events}
	day.oktasession = func(args []string, in []fields) ([]fields, error) { return h.sequenceRows(day, args, in) }
	dayRows, err := runSPL(day, splitPipes(q)[0]+" | oktasession "+seg[1])
	require.NoError(t, err)
	for _, r := range dayRows {
		whole[first(r["seq_id"])] = true
	}
	seen := map[string]time.Time{}
	for _, r := range runs {
		for _, row := range r.rows {
			for _, id := range row["seq_id"] {
				if at, dup := seen[id]; dup {
					t.Errorf("%s: sequence %s reported at %s and again at %s", st.Name, id, at.Format("15:04"), r.at.Format("15:04"))
				}
				seen[id] = r.at
				if !whole[id] && !isUUID(id) {
					t.Errorf("%s: reported sequence %s (%s) is not a whole sequence of the day", st.Name, id, rowSummary(row))
				}
			}
		}
	}
}

func isUUID(s string) bool {
	return regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`).MatchString(s)
}

func TestAlertLookalikesAreCloseCalls(t *testing.T) {
	h := loadAlertHarness(t)
	searches := map[string]*confStanza{}
	for _, st := range savedSearches(t) {
		searches[st.Name] = st
	}
	for _, alert := range sortedKeys(alertMutations) {
		mu := alertMutations[alert]
		t.Run(alert, func(t *testing.T) {
			i := slices.IndexFunc(h.labels, func(l alertLabel) bool { return l.Scenario == mu.lookalike })
			require.GreaterOrEqual(t, i, 0, "look-alike %s", mu.lookalike)
			l := h.labels[i]
			require.Equal(t, "lookalike", l.Role)
			keep := map[string]bool{}
			for _, u := range l.UUIDs {
				keep[u] = true
			}
			st := searches[alertSearches[alert]]
			runs := h.scheduleAlert(t, st, mu.change, keep)
			hit := false
			for _, r := range runs {
				hit = hit || slices.ContainsFunc(r.rows, func(row fields) bool { return names(row, l.Entity) })
			}
			assert.True(t, hit, "%s with %v: the look-alike %s should now be reported; if it is not, it does not test the condition the change loosens", alert, mu.change, l.Scenario)
		})
	}
}

func TestScheduleHelpers(t *testing.T) {
	now := time.Date(2024, 3, 6, 10, 15, 42, 0, time.UTC)
	for spec, want := range map[string]string{
		"-95m@m": "08:40:00", "-5m@m": "10:10:00", "@h": "10:00:00", "-6h@h": "04:00:00", "now": "10:15:42", "-24h@m": "10:15:00",
	} {
		got, err := relativeTime(spec, now)
		require.NoError(t, err, spec)
		assert.Equal(t, want, got.Format("15:04:05"), spec)
	}
	_, err := relativeTime("-1mon@mon", now)
	assert.Error(t, err)
	day := time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)
	ts, err := cronTimes("*/15 * * * *", day, day.Add(time.Hour))
	require.NoError(t, err)
	assert.Len(t, ts, 4)
	ts, err = cronTimes("10 * * * *", day, day.Add(3*time.Hour))
	require.NoError(t, err)
	assert.Equal(t, "02:10", ts[2].Format("15:04"))
	_, err = cronTimes("0 0 * * 1", day, day.Add(time.Hour))
	assert.Error(t, err)
	assert.Equal(t, 0.0, math.Mod(float64(ts[0].Unix()), 60))
}

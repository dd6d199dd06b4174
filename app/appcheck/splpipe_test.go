package appcheck

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file runs the SPL pipelines of the app's saved searches without a Splunk: the base
// search over search-time fields (searchtime_test.go, splsearch_test.go), then the commands the
// alerts use (where, eval, addinfo, sort, stats, eventstats, streamstats, lookup, append, table,
// fields, rename, convert, dedup, mvexpand, and oktasession through a callback), with Splunk's
// rules for null and multivalue fields. A command, option or function it does not know is an
// error, never a silent pass, so a saved search cannot drift beyond what the tests evaluate.

// splEnv is what one run of a search sees.
type splEnv struct {
	earliest, latest time.Time // the run's time range: earliest <= _time < latest
	now              time.Time // when the scheduler dispatched it
	events           []fields  // every event, newest first, with _time, index and _raw
	lookup           func(name string) (*splLookup, error)
	oktasession      func(args []string, in []fields) ([]fields, error)
}

// splitPipes splits SPL into its commands at the pipes outside quotes and [subsearches].
func splitPipes(q string) []string {
	var segs []string
	var cur strings.Builder
	depth, quote := 0, false
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote && c == '\\' && i+1 < len(q):
			cur.WriteByte(c)
			i++
			c = q[i]
		case quote && c == '"':
			quote = false
		case !quote && c == '"':
			quote = true
		case !quote && c == '[':
			depth++
		case !quote && c == ']' && depth > 0:
			depth--
		case !quote && c == '|' && depth == 0:
			segs = append(segs, strings.TrimSpace(cur.String()))
			cur.Reset()
			continue
		}
		cur.WriteByte(c)
	}
	return append(segs, strings.TrimSpace(cur.String()))
}

// runSPL runs a macro-expanded search and returns its result rows.
func runSPL(env *splEnv, q string) ([]fields, error) {
	segs := splitPipes(q)
	if segs[0] == "" {
		return nil, fmt.Errorf("the search starts with a generating command, which the checker does not run")
	}
	base := strings.TrimSpace(strings.TrimPrefix(segs[0], "search "))
	filter, err := parseSearch(base)
	if err != nil {
		return nil, fmt.Errorf("base search %q: %w", base, err)
	}
	var rows []fields
	lo, hi := epoch(env.earliest), epoch(env.latest)
	for _, e := range env.events {
		t, _ := evalNumber(e["_time"][0])
		if t >= lo && t < hi && filter.match(e) {
			rows = append(rows, e)
		}
	}
	// oktasession only reads the events: the other commands change rows, so they get copies.
	if len(segs) < 2 || !strings.HasPrefix(segs[1], "oktasession") {
		for i, e := range rows {
			rows[i] = e.clone()
		}
	}
	for _, seg := range segs[1:] {
		name, body, _ := strings.Cut(seg, " ")
		body = strings.TrimSpace(body)
		if rows, err = runCommand(env, strings.ToLower(name), body, rows); err != nil {
			return nil, fmt.Errorf("| %s: %w", name, err)
		}
	}
	return rows, nil
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (f fields) clone() fields {
	c := make(fields, len(f))
	for k, v := range f {
		c[k] = v
	}
	return c
}

// get returns a field's first value.
func (f fields) get(name string) (string, bool) {
	if v := f[name]; len(v) > 0 {
		return v[0], true
	}
	return "", false
}

func runCommand(env *splEnv, name, body string, rows []fields) ([]fields, error) {
	switch name {
	case "search":
		e, err := parseSearch(body)
		if err != nil {
			return nil, err
		}
		return slices.DeleteFunc(rows, func(f fields) bool { return !e.match(f) }), nil
	case "where":
		e, err := parseEval(body)
		if err != nil {
			return nil, err
		}
		var out []fields
		for _, f := range rows {
			v, err := e.eval(f)
			if err != nil {
				return nil, err
			}
			if v.truthy() {
				out = append(out, f)
			}
		}
		return out, nil
	case "eval":
		return cmdEval(body, rows)
	case "addinfo":
		if body != "" {
			return nil, fmt.Errorf("options %q are not supported", body)
		}
		for _, f := range rows {
			f["info_min_time"] = []string{strconv.FormatFloat(epoch(env.earliest), 'f', 3, 64)}
			f["info_max_time"] = []string{strconv.FormatFloat(epoch(env.latest), 'f', 3, 64)}
			f["info_search_time"] = []string{strconv.FormatFloat(epoch(env.now), 'f', 3, 64)}
			f["info_sid"] = []string{"scheduler__oktasight_" + strconv.FormatInt(env.now.Unix(), 10)}
		}
		return rows, nil
	case "sort":
		return cmdSort(body, rows)
	case "stats", "eventstats", "streamstats":
		return cmdStats(name, body, rows)
	case "lookup":
		return cmdLookup(env, body, rows)
	case "append":
		sub := strings.TrimSpace(body)
		if !strings.HasPrefix(sub, "[") || !strings.HasSuffix(sub, "]") {
			return nil, fmt.Errorf("want append [subsearch], got %q", body)
		}
		more, err := runSPL(env, strings.TrimSpace(sub[1:len(sub)-1]))
		if err != nil {
			return nil, fmt.Errorf("subsearch: %w", err)
		}
		return append(rows, more...), nil
	case "table", "fields":
		return cmdFields(name, body, rows)
	case "rename":
		for _, p := range splitTop(body, ',') {
			w := strings.Fields(p)
			if len(w) != 3 || !strings.EqualFold(w[1], "AS") {
				return nil, fmt.Errorf("want a AS b, got %q", p)
			}
			for _, f := range rows {
				if v, ok := f[w[0]]; ok {
					delete(f, w[0])
					f[unquote(w[2])] = v
				}
			}
		}
		return rows, nil
	case "convert":
		return cmdConvert(body, rows)
	case "dedup":
		keys := strings.Fields(strings.ReplaceAll(body, ",", " "))
		seen := map[string]bool{}
		var out []fields
		for _, f := range rows {
			var k []string
			ok := true
			for _, n := range keys {
				v, has := f[n]
				ok = ok && has
				k = append(k, strings.Join(v, "\x1f"))
			}
			if !ok {
				continue // dedup drops events that lack a field
			}
			if id := strings.Join(k, "\x00"); !seen[id] {
				seen[id] = true
				out = append(out, f)
			}
		}
		return out, nil
	case "mvexpand":
		n := strings.TrimSpace(body)
		var out []fields
		for _, f := range rows {
			vs, ok := f[n]
			if !ok {
				continue
			}
			for _, v := range vs {
				c := f.clone()
				c[n] = []string{v}
				out = append(out, c)
			}
		}
		return out, nil
	case "oktasession":
		if env.oktasession == nil {
			return nil, fmt.Errorf("no oktasession in this environment")
		}
		return env.oktasession(strings.Fields(body), rows)
	}
	return nil, fmt.Errorf("command %s is not supported by the checker", name)
}

// splitTop splits s at sep outside quotes and parentheses.
func splitTop(s string, sep byte) []string {
	var out []string
	depth, quote, start := 0, byte(0), 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == sep && depth == 0:
			out = append(out, strings.TrimSpace(s[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

var evalAssign = regexp.MustCompile(`^\s*("[^"]+"|'[^']+'|[A-Za-z_][A-Za-z0-9_.]*)\s*=([^=].*)$`)

func cmdEval(body string, rows []fields) ([]fields, error) {
	type assign struct {
		name string
		expr evalExpr
	}
	var as []assign
	for _, part := range splitTop(body, ',') {
		m := evalAssign.FindStringSubmatch(strings.ReplaceAll(part, "\n", " "))
		if m == nil {
			return nil, fmt.Errorf("want name = expression, got %q", part)
		}
		e, err := parseEval(m[2])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m[1], err)
		}
		as = append(as, assign{strings.Trim(m[1], `"'`), e})
	}
	for _, f := range rows {
		for _, a := range as { // each assignment sees the ones before it
			v, err := a.expr.eval(f)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", a.name, err)
			}
			switch {
			case v.isBool:
				return nil, fmt.Errorf("%s: a field cannot be assigned a boolean (Splunk stops the search)", a.name)
			case v.null:
				delete(f, a.name)
			default:
				f[a.name] = v.mv
			}
		}
	}
	return rows, nil
}

// compareValues orders two values as sort and min/max do: numbers as numbers, before text.
func compareValues(a, b string) int {
	x, xn := evalNumber(a)
	y, yn := evalNumber(b)
	switch {
	case xn && yn:
		return cmpFloat(x, y)
	case xn:
		return -1
	case yn:
		return 1
	}
	return strings.Compare(a, b)
}

func cmdSort(body string, rows []fields) ([]fields, error) {
	words := strings.Fields(strings.ReplaceAll(body, ",", " "))
	limit := 10000
	if len(words) > 0 {
		if n, err := strconv.Atoi(words[0]); err == nil {
			limit, words = n, words[1:]
		}
	}
	type key struct {
		name string
		desc bool
	}
	var keys []key
	for i := 0; i < len(words); i++ {
		w := words[i]
		desc := false
		if w == "-" || w == "+" {
			desc = w == "-"
			i++
			if i == len(words) {
				return nil, fmt.Errorf("%s without a field", w)
			}
			w = words[i]
		} else if w[0] == '-' || w[0] == '+' {
			desc, w = w[0] == '-', w[1:]
		}
		keys = append(keys, key{w, desc})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("sort needs a field")
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for _, k := range keys {
			a, aok := rows[i].get(k.name)
			b, bok := rows[j].get(k.name)
			if aok != bok {
				return aok // rows without the field go last
			}
			c := compareValues(a, b)
			if k.desc {
				c = -c
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	if limit > 0 && len(rows) > limit {
		rows = rows[:limit]
	}
	return rows, nil
}

func cmdFields(name, body string, rows []fields) ([]fields, error) {
	words := strings.Fields(strings.ReplaceAll(body, ",", " "))
	remove := false
	if name == "fields" && len(words) > 0 && (words[0] == "-" || words[0] == "+") {
		remove, words = words[0] == "-", words[1:]
	}
	pats := make([]*regexp.Regexp, len(words))
	for i, w := range words {
		pats[i] = searchValue(w)
	}
	matches := func(n string) bool {
		return slices.ContainsFunc(pats, func(re *regexp.Regexp) bool { return re.MatchString(n) })
	}
	for _, f := range rows {
		for n := range f {
			internal := strings.HasPrefix(n, "_") && name == "fields" // fields keeps _time and _raw
			if remove == matches(n) && !(internal && !remove) {
				delete(f, n)
			}
		}
	}
	return rows, nil
}

func cmdConvert(body string, rows []fields) ([]fields, error) {
	conv := regexp.MustCompile(`^ctime\(([^)]+)\)(?:\s+AS\s+(\S+))?$`)
	for _, part := range regexp.MustCompile(`\)\s+`).Split(body, -1) {
		part = strings.TrimSpace(part)
		if !strings.HasSuffix(part, ")") && !strings.Contains(part, " AS ") {
			part += ")"
		}
		m := conv.FindStringSubmatch(part)
		if m == nil {
			return nil, fmt.Errorf("only ctime(field) is supported, got %q", part)
		}
		out := m[1]
		if m[2] != "" {
			out = m[2]
		}
		for _, f := range rows {
			var vs []string
			for _, v := range f[m[1]] {
				if x, ok := evalNumber(v); ok {
					vs = append(vs, time.UnixMilli(int64(x*1000)).UTC().Format("01/02/2006 15:04:05.000"))
				}
			}
			if len(vs) > 0 {
				f[out] = vs
			}
		}
	}
	return rows, nil
}

// statsAgg is one aggregation of stats, eventstats or streamstats: fn(arg) AS as.
type statsAgg struct{ fn, arg, as string }

var (
	statsByRe     = regexp.MustCompile(`(?i)\s+BY\s+`)
	statsOptionRe = regexp.MustCompile(`^([a-z_]+)=(\S+)\s*`)
)

var statsAggRe = regexp.MustCompile(`^([a-z_]+)(?:\(([^()]*)\))?(?:\s+(?:AS|as)\s+(\S+))?$`)

// parseStats reads `[option=value ...] agg [, agg ...] [BY f1 [,] f2 ...]`.
func parseStats(body string) (opts map[string]string, aggs []statsAgg, by []string, err error) {
	opts = map[string]string{}
	if i := statsByRe.FindStringIndex(body); i != nil {
		by = strings.Fields(strings.ReplaceAll(body[i[1]:], ",", " "))
		body = body[:i[0]]
	}
	// Options come first: name=value words before the first aggregation.
	for {
		body = strings.TrimSpace(body)
		m := statsOptionRe.FindStringSubmatch(body)
		if m == nil {
			break
		}
		opts[m[1]] = m[2]
		body = body[len(m[0]):]
	}
	// Aggregations are separated by commas or blanks.
	var cur strings.Builder
	depth := 0
	flush := func() error {
		s := strings.TrimSpace(cur.String())
		cur.Reset()
		if s == "" {
			return nil
		}
		m := statsAggRe.FindStringSubmatch(s)
		if m == nil {
			return fmt.Errorf("aggregation %q is not understood", s)
		}
		a := statsAgg{fn: m[1], arg: strings.TrimSpace(m[2]), as: m[3]}
		if a.as == "" {
			a.as = a.fn
			if m[2] != "" {
				a.as = a.fn + "(" + a.arg + ")"
			}
		}
		aggs = append(aggs, a)
		return nil
	}
	words := strings.Fields(strings.ReplaceAll(body, ",", " , "))
	for i := 0; i < len(words); i++ {
		w := words[i]
		if depth == 0 && w == "," {
			if err := flush(); err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		// A new aggregation starts at a word that is not "AS" or the name after it.
		if depth == 0 && cur.Len() > 0 && !strings.EqualFold(w, "AS") && !strings.EqualFold(words[i-1], "AS") {
			if err := flush(); err != nil {
				return nil, nil, nil, err
			}
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
		depth += strings.Count(w, "(") - strings.Count(w, ")")
	}
	if err := flush(); err != nil {
		return nil, nil, nil, err
	}
	if len(aggs) == 0 {
		return nil, nil, nil, fmt.Errorf("no aggregation")
	}
	return opts, aggs, by, nil
}

// statsState accumulates one aggregation over the rows of one group.
type statsState struct {
	a     statsAgg
	n     int
	vals  []string // every value, in row order
	times []float64
}

func (s *statsState) add(f fields) {
	s.n++
	if s.a.arg == "" {
		return
	}
	t, _ := evalNumber(first(f["_time"]))
	for _, v := range f[s.a.arg] {
		s.vals = append(s.vals, v)
		s.times = append(s.times, t)
	}
}

func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

// result returns the aggregation's value, or nil for null.
func (s *statsState) result() ([]string, error) {
	num := func(f float64) []string { return evalNum(f).mv }
	switch s.a.fn {
	case "count":
		if s.a.arg == "" {
			return num(float64(s.n)), nil
		}
		return num(float64(len(s.vals))), nil
	case "dc", "distinct_count":
		return num(float64(len(distinct(s.vals)))), nil
	case "values":
		d := distinct(s.vals)
		sort.Strings(d) // values() sorts lexicographically
		if len(d) == 0 {
			return nil, nil
		}
		return d, nil
	case "list":
		if len(s.vals) == 0 {
			return nil, nil
		}
		return slices.Clone(s.vals), nil
	case "sum", "avg", "range":
		total, n := 0.0, 0
		lo, hi := 0.0, 0.0
		for _, v := range s.vals {
			if x, ok := evalNumber(v); ok {
				if n == 0 || x < lo {
					lo = x
				}
				if n == 0 || x > hi {
					hi = x
				}
				total += x
				n++
			}
		}
		if n == 0 {
			return nil, nil
		}
		switch s.a.fn {
		case "avg":
			return num(total / float64(n)), nil
		case "range":
			return num(hi - lo), nil
		}
		return num(total), nil
	case "min", "max":
		if len(s.vals) == 0 {
			return nil, nil
		}
		best := s.vals[0]
		for _, v := range s.vals[1:] {
			c := compareValues(v, best)
			if s.a.fn == "min" && c < 0 || s.a.fn == "max" && c > 0 {
				best = v
			}
		}
		return []string{best}, nil
	case "first", "last":
		if len(s.vals) == 0 {
			return nil, nil
		}
		if s.a.fn == "first" {
			return []string{s.vals[0]}, nil
		}
		return []string{s.vals[len(s.vals)-1]}, nil
	case "earliest", "latest":
		if len(s.vals) == 0 {
			return nil, nil
		}
		best := 0
		for i := range s.vals {
			if s.a.fn == "earliest" && s.times[i] < s.times[best] || s.a.fn == "latest" && s.times[i] > s.times[best] {
				best = i
			}
		}
		return []string{s.vals[best]}, nil
	}
	return nil, fmt.Errorf("function %s is not supported by the checker", s.a.fn)
}

func distinct(vs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, v := range vs {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// groupKeys returns the BY values of a row (one key per combination of multivalue BY
// fields), or nothing when the row lacks a BY field, which stats then leaves out.
func groupKeys(f fields, by []string) [][]string {
	keys := [][]string{nil}
	for _, b := range by {
		vs, ok := f[b]
		if !ok || len(vs) == 0 {
			return nil
		}
		var next [][]string
		for _, k := range keys {
			for _, v := range distinct(vs) {
				next = append(next, append(slices.Clone(k), v))
			}
		}
		keys = next
	}
	return keys
}

func cmdStats(name, body string, rows []fields) ([]fields, error) {
	opts, aggs, by, err := parseStats(body)
	if err != nil {
		return nil, err
	}
	newStates := func() []*statsState {
		st := make([]*statsState, len(aggs))
		for i, a := range aggs {
			st[i] = &statsState{a: a}
		}
		return st
	}
	set := func(f fields, st []*statsState) error {
		for _, s := range st {
			v, err := s.result()
			if err != nil {
				return err
			}
			if v == nil {
				delete(f, s.a.as)
			} else {
				f[s.a.as] = v
			}
		}
		return nil
	}
	switch name {
	case "stats", "eventstats":
		for k := range opts {
			return nil, fmt.Errorf("%s option %s is not supported by the checker", name, k)
		}
		type group struct {
			key    []string
			states []*statsState
		}
		groups := map[string]*group{}
		var order []string
		for _, f := range rows {
			for _, k := range groupKeys(f, by) {
				id := strings.Join(k, "\x00")
				g := groups[id]
				if g == nil {
					g = &group{key: k, states: newStates()}
					groups[id] = g
					order = append(order, id)
				}
				for _, s := range g.states {
					s.add(f)
				}
			}
		}
		if name == "eventstats" {
			for _, f := range rows {
				ks := groupKeys(f, by)
				if len(ks) != 1 {
					if len(ks) > 1 {
						return nil, fmt.Errorf("eventstats BY a multivalue field is not supported by the checker")
					}
					continue
				}
				if err := set(f, groups[strings.Join(ks[0], "\x00")].states); err != nil {
					return nil, err
				}
			}
			return rows, nil
		}
		if len(by) == 0 && len(groups) == 0 {
			f := fields{}
			return []fields{f}, set(f, newStates())
		}
		sort.SliceStable(order, func(i, j int) bool { // stats orders groups by their BY values
			a, b := groups[order[i]].key, groups[order[j]].key
			for x := range a {
				if c := compareValues(a[x], b[x]); c != 0 {
					return c < 0
				}
			}
			return false
		})
		out := make([]fields, 0, len(order))
		for _, id := range order {
			g := groups[id]
			f := fields{}
			for i, b := range by {
				f[b] = []string{g.key[i]}
			}
			if err := set(f, g.states); err != nil {
				return nil, err
			}
			out = append(out, f)
		}
		return out, nil
	}
	// streamstats
	current, span, window := true, 0.0, 0
	for k, v := range opts {
		switch k {
		case "current":
			current = !(v == "f" || v == "false" || v == "0")
		case "time_window":
			d, err := splDuration(v)
			if err != nil {
				return nil, fmt.Errorf("time_window: %w", err)
			}
			span = d.Seconds()
		case "window":
			if window, err = strconv.Atoi(v); err != nil {
				return nil, fmt.Errorf("window=%s", v)
			}
		default:
			return nil, fmt.Errorf("streamstats option %s is not supported by the checker", k)
		}
	}
	seen := map[string][]fields{} // group -> the rows so far
	last := -1.0
	for _, f := range rows {
		t, ok := evalNumber(first(f["_time"]))
		if span > 0 {
			if !ok {
				return nil, fmt.Errorf("time_window needs _time on every row")
			}
			if t < last {
				return nil, fmt.Errorf("time_window needs rows in ascending _time order (sort 0 _time first)")
			}
			last = t
		}
		ks := groupKeys(f, by)
		if len(ks) > 1 {
			return nil, fmt.Errorf("streamstats BY a multivalue field is not supported by the checker")
		}
		if len(ks) == 0 {
			continue
		}
		id := strings.Join(ks[0], "\x00")
		prior := seen[id]
		var win []fields
		for _, p := range prior {
			pt, _ := evalNumber(first(p["_time"]))
			if span == 0 || t-pt < span {
				win = append(win, p)
			}
		}
		snapshot := f.clone() // the aggregation reads the row as it came in
		if current {
			win = append(win, snapshot)
		}
		if window > 0 && len(win) > window {
			win = win[len(win)-window:]
		}
		st := newStates()
		for _, p := range win {
			for _, s := range st {
				s.add(p)
			}
		}
		if err := set(f, st); err != nil {
			return nil, err
		}
		seen[id] = append(prior, snapshot)
	}
	return rows, nil
}

var spanRe = regexp.MustCompile(`^(\d+)(s|sec|m|min|h|hr|d|day)?$`)

// splDuration reads a span such as 15m, 2h, 1d, 90s or 600.
func splDuration(s string) (time.Duration, error) {
	m := spanRe.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("span %q", s)
	}
	n, _ := strconv.Atoi(m[1])
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "sec": time.Second, "m": time.Minute, "min": time.Minute,
		"h": time.Hour, "hr": time.Hour, "d": 24 * time.Hour, "day": 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, nil
}

// splLookup is a CSV lookup as transforms.conf defines it.
type splLookup struct {
	header   []string
	rows     [][]string
	cidr     map[string]bool
	caseSens bool
	maxMatch int
}

// loadSplLookup reads the transforms.conf stanza name and its CSV, from dir when dir is not
// empty (a test's stand-in for local/ lookups), else from the app's lookups/.
func loadSplLookup(t *testing.T, name, dir string) (*splLookup, error) {
	st := readConf(t, "default/transforms.conf", false).Stanza(name)
	if st == nil {
		return nil, fmt.Errorf("lookup %s is not in transforms.conf", name)
	}
	file := st.Values["filename"]
	if file == "" {
		return nil, fmt.Errorf("lookup %s: only CSV lookups are supported by the checker", name)
	}
	var rows [][]string
	if dir != "" {
		rows = readCSV(t, filepath.Join("app/appcheck", dir, file))
	} else {
		rows = readCSV(t, "lookups/"+file)
	}
	l := &splLookup{header: rows[0], rows: rows[1:], cidr: map[string]bool{}, caseSens: true, maxMatch: 100}
	for _, m := range regexp.MustCompile(`(\w+)\((\w+)\)`).FindAllStringSubmatch(st.Values["match_type"], -1) {
		if m[1] != "CIDR" {
			return nil, fmt.Errorf("lookup %s: match_type %s is not supported by the checker", name, m[1])
		}
		l.cidr[m[2]] = true
	}
	if v := st.Values["case_sensitive_match"]; v == "false" || v == "0" {
		l.caseSens = false
	}
	if v := st.Values["max_matches"]; v != "" {
		l.maxMatch, _ = strconv.Atoi(v)
	}
	return l, nil
}

func (l *splLookup) col(name string) int { return slices.Index(l.header, name) }

// match returns the rows whose input columns match the values (CIDR columns by prefix).
func (l *splLookup) match(cols []string, vals []string) [][]string {
	var out [][]string
	for _, r := range l.rows {
		ok := true
		for i, c := range cols {
			cell := r[l.col(c)]
			switch {
			case l.cidr[c]:
				p, err := netip.ParsePrefix(cell)
				if err != nil {
					if a, aerr := netip.ParseAddr(cell); aerr == nil {
						p = netip.PrefixFrom(a, a.BitLen())
					}
				}
				a, aerr := netip.ParseAddr(vals[i])
				ok = aerr == nil && p.IsValid() && p.Contains(a)
			case l.caseSens:
				ok = cell == vals[i]
			default:
				ok = strings.EqualFold(cell, vals[i])
			}
			if !ok {
				break
			}
		}
		if ok {
			out = append(out, r)
			if len(out) == l.maxMatch {
				break
			}
		}
	}
	return out
}

func cmdLookup(env *splEnv, body string, rows []fields) ([]fields, error) {
	words := strings.Fields(strings.ReplaceAll(body, ",", " "))
	if len(words) < 2 {
		return nil, fmt.Errorf("want lookup name field ..., got %q", body)
	}
	l, err := env.lookup(words[0])
	if err != nil {
		return nil, err
	}
	var in, out [][2]string // lookup column, event field
	outputNew := false
	pairs := &in
	for i := 1; i < len(words); i++ {
		w := words[i]
		if u := strings.ToUpper(w); u == "OUTPUT" || u == "OUTPUTNEW" {
			outputNew, pairs = u == "OUTPUTNEW", &out
			continue
		}
		p := [2]string{w, w}
		if i+2 < len(words) && strings.EqualFold(words[i+1], "AS") {
			p[1] = words[i+2]
			i += 2
		}
		if l.col(p[0]) < 0 {
			return nil, fmt.Errorf("lookup %s has no column %s", words[0], p[0])
		}
		*pairs = append(*pairs, p)
	}
	if len(out) == 0 {
		for _, h := range l.header {
			if !slices.ContainsFunc(in, func(p [2]string) bool { return p[0] == h }) {
				out = append(out, [2]string{h, h})
			}
		}
	}
	cols := make([]string, len(in))
	for i, p := range in {
		cols[i] = p[0]
	}
	for _, f := range rows {
		vals := make([]string, len(in))
		have := true
		for i, p := range in {
			v, ok := f.get(p[1])
			have = have && ok
			vals[i] = v
		}
		var hits [][]string
		if have {
			hits = l.match(cols, vals)
		}
		for _, o := range out {
			if outputNew {
				if _, exists := f[o[1]]; exists {
					continue
				}
			}
			var vs []string
			for _, h := range hits {
				if c := h[l.col(o[0])]; c != "" {
					vs = append(vs, c)
				}
			}
			if len(vs) == 0 {
				delete(f, o[1])
			} else {
				f[o[1]] = vs
			}
		}
	}
	return rows, nil
}

func TestSPLPipelineSubset(t *testing.T) {
	row := func(kv ...string) fields {
		f := fields{}
		for i := 0; i < len(kv); i += 2 {
			f[kv[i]] = strings.Split(kv[i+1], "|")
		}
		return f
	}
	rows := []fields{
		row("_time", "100", "user", "a", "n", "2", "ip", "1.1.1.1"),
		row("_time", "200", "user", "b", "n", "3", "ip", "1.1.1.1"),
		row("_time", "650", "user", "a", "n", "5", "ip", "2.2.2.2|1.1.1.1"),
		row("_time", "1300", "user", "a", "n", "7"),
	}
	clone := func() []fields {
		var out []fields
		for _, f := range rows {
			out = append(out, f.clone())
		}
		return out
	}
	env := &splEnv{earliest: time.Unix(0, 0), latest: time.Unix(3600, 0), now: time.Unix(3700, 0)}
	run := func(cmds ...string) []fields {
		t.Helper()
		out := clone()
		for _, c := range cmds {
			name, body, _ := strings.Cut(c, " ")
			var err error
			out, err = runCommand(env, name, body, out)
			require.NoError(t, err, c)
		}
		return out
	}
	got := run("streamstats time_window=10m sum(n) AS s count AS c BY user")
	assert.Equal(t, []string{"2", "3", "7", "7"}, []string{got[0]["s"][0], got[1]["s"][0], got[2]["s"][0], got[3]["s"][0]},
		"a 10-minute window: 650 sees 100 (550 s before), 1300 only itself (650 s after 650)")
	assert.Equal(t, "2", got[2]["c"][0])
	got = run("streamstats current=f count AS before BY user")
	assert.Equal(t, "0", got[0]["before"][0])
	assert.Equal(t, "2", got[3]["before"][0])
	got = run("stats dc(user) AS users values(user) AS who sum(n) AS total BY ip")
	require.Len(t, got, 2, "a row without ip is left out; a multivalue ip counts for each value")
	assert.Equal(t, fields{"ip": {"1.1.1.1"}, "users": {"2"}, "who": {"a", "b"}, "total": {"10"}}, got[0])
	got = run("eventstats max(n) AS top BY user", "where n == top")
	require.Len(t, got, 2)
	got = run("eval w=if(n > 2 AND isnull(ip), \"x\", null()), k=n * 2 + 1", "where isnotnull(w)")
	require.Len(t, got, 1)
	assert.Equal(t, "15", got[0]["k"][0])
	got = run("addinfo", "where _time >= info_min_time + 600 AND _time < info_max_time - 2300")
	require.Len(t, got, 1)
	assert.Equal(t, "650", got[0]["_time"][0])
	got = run("sort 0 - n", "table user n")
	assert.Equal(t, fields{"user": {"a"}, "n": {"7"}}, got[0])
	_, err := runCommand(env, "eval", "b = n > 2", clone())
	assert.ErrorContains(t, err, "boolean")
	_, err = runCommand(env, "transaction", "user", clone())
	assert.ErrorContains(t, err, "not supported")
	_, err = runCommand(env, "streamstats", "time_window=5m count", []fields{row("_time", "9"), row("_time", "3")})
	assert.ErrorContains(t, err, "ascending")

	l := &splLookup{header: []string{"cidr", "label"}, rows: [][]string{{"10.0.0.0/8", "corp"}, {"192.0.2.7", "one"}},
		cidr: map[string]bool{"cidr": true}, caseSens: true, maxMatch: 1}
	env.lookup = func(string) (*splLookup, error) { return l, nil }
	got, err = runCommand(env, "lookup", "egress cidr AS ip OUTPUT label AS egress",
		[]fields{row("ip", "10.2.3.4"), row("ip", "192.0.2.7"), row("ip", "192.0.2.8"), row("x", "1")})
	require.NoError(t, err)
	assert.Equal(t, []string{"corp"}, got[0]["egress"])
	assert.Equal(t, []string{"one"}, got[1]["egress"])
	assert.Nil(t, got[2]["egress"])
	assert.Nil(t, got[3]["egress"])
}

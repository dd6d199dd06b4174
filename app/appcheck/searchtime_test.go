package appcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file applies the app's search-time configuration for OktaIM2:log to an event the way
// Splunk's search-time operation sequence does (KV_MODE = json, FIELDALIAS, EVAL in parallel,
// automatic LOOKUPs, eventtypes, tags), so tests can see the fields, eventtypes and tags a
// Splunk search head would give each real Okta event.

// searchTime is props.conf's [OktaIM2:log] with the transforms, lookups, eventtypes and tags it
// uses.
type searchTime struct {
	aliases    [][2]string // from, to
	evals      []namedEval
	lookups    []autoLookup // in class order
	eventtypes []namedSearch
	tags       map[string][]string // eventtype -> tags
}

type namedEval struct {
	name string
	expr evalExpr
}

type namedSearch struct {
	name string
	expr searchExpr
}

// autoLookup is one LOOKUP-<class> with its transforms.conf stanza and CSV rows.
type autoLookup struct {
	class     string
	inputs    [][2]string // lookup column, event field
	outputs   [][2]string // lookup column, event field
	outputNew bool
	wildcard  map[string]bool
	caseSens  bool
	header    []string
	rows      [][]string
	patterns  map[string]*regexp.Regexp // wildcard cell -> its regexp
}

func loadSearchTime(t *testing.T) *searchTime {
	t.Helper()
	props := readConf(t, "default/props.conf", false).Stanza("OktaIM2:log")
	require.NotNil(t, props)
	transforms := readConf(t, "default/transforms.conf", false)
	st := &searchTime{tags: map[string][]string{}}
	require.Equal(t, "json", props.Values["KV_MODE"], "the checker reads events as KV_MODE = json")
	aliasPair := regexp.MustCompile(`^(\S+)\s+AS\s+(\S+)$`)
	var lookupClasses []string
	for _, k := range props.Keys {
		v := props.Values[k]
		switch {
		case strings.HasPrefix(k, "FIELDALIAS-"):
			m := aliasPair.FindStringSubmatch(v)
			require.NotNil(t, m, "%s: the checker knows one `a AS b` pair per alias", k)
			st.aliases = append(st.aliases, [2]string{m[1], m[2]})
		case strings.HasPrefix(k, "EVAL-"):
			e, err := parseEval(v)
			require.NoError(t, err, k)
			st.evals = append(st.evals, namedEval{name: strings.TrimPrefix(k, "EVAL-"), expr: e})
		case strings.HasPrefix(k, "LOOKUP-"):
			lookupClasses = append(lookupClasses, k)
		case strings.HasPrefix(k, "EXTRACT-"), strings.HasPrefix(k, "REPORT-"):
			t.Fatalf("%s: the checker does not evaluate regex extractions; teach it before adding one", k)
		}
	}
	sort.Strings(lookupClasses)
	for _, k := range lookupClasses {
		st.lookups = append(st.lookups, parseAutoLookup(t, k, props.Values[k], transforms))
	}
	for _, s := range readConf(t, "default/eventtypes.conf", false).Stanzas {
		if s.Name == "" {
			continue
		}
		e, err := parseSearch(s.Values["search"])
		require.NoError(t, err, "eventtype %s", s.Name)
		st.eventtypes = append(st.eventtypes, namedSearch{name: s.Name, expr: e})
	}
	for _, s := range readConf(t, "default/tags.conf", false).Stanzas {
		if et, ok := strings.CutPrefix(s.Name, "eventtype="); ok {
			for _, tag := range s.Keys {
				if s.Values[tag] == "enabled" {
					st.tags[et] = append(st.tags[et], tag)
				}
			}
		}
	}
	return st
}

func parseAutoLookup(t *testing.T, class, spec string, transforms *confFile) autoLookup {
	words := strings.Fields(strings.ReplaceAll(spec, ",", " "))
	require.NotEmpty(t, words, class)
	l := autoLookup{class: class, wildcard: map[string]bool{}, caseSens: true}
	stanza := transforms.Stanza(words[0])
	require.NotNil(t, stanza, "%s uses lookup %s", class, words[0])
	pairs := &l.inputs
	for i := 1; i < len(words); i++ {
		w := words[i]
		switch strings.ToUpper(w) {
		case "OUTPUT", "OUTPUTNEW":
			l.outputNew = strings.EqualFold(w, "OUTPUTNEW")
			pairs = &l.outputs
			continue
		}
		p := [2]string{w, w}
		if i+2 < len(words) && strings.EqualFold(words[i+1], "AS") {
			p[1] = words[i+2]
			i += 2
		}
		*pairs = append(*pairs, p)
	}
	require.NotEmpty(t, l.inputs, class)
	require.NotEmpty(t, l.outputs, "%s: name the output fields", class)
	for _, m := range regexp.MustCompile(`WILDCARD\((\w+)\)`).FindAllStringSubmatch(stanza.Values["match_type"], -1) {
		l.wildcard[m[1]] = true
	}
	if v := stanza.Values["case_sensitive_match"]; v != "" {
		l.caseSens = v == "true" || v == "1"
	}
	if mm := stanza.Values["max_matches"]; len(l.wildcard) > 0 {
		require.Equal(t, "1", mm, "%s: a wildcard lookup here must take the first matching row only", class)
	}
	rows := readCSV(t, "lookups/"+stanza.Values["filename"])
	l.header, l.rows = rows[0], rows[1:]
	l.compile()
	return l
}

func (l autoLookup) col(name string) int {
	for i, h := range l.header {
		if h == name {
			return i
		}
	}
	return -1
}

// compile turns each wildcard cell into a regular expression (only * is special).
func (l *autoLookup) compile() {
	l.patterns = map[string]*regexp.Regexp{}
	for _, p := range l.inputs {
		if !l.wildcard[p[0]] {
			continue
		}
		for _, r := range l.rows {
			cell := r[l.col(p[0])]
			if _, ok := l.patterns[cell]; ok {
				continue
			}
			parts := strings.Split(cell, "*")
			for j := range parts {
				parts[j] = regexp.QuoteMeta(parts[j])
			}
			flags := "(?s)"
			if !l.caseSens {
				flags = "(?is)"
			}
			l.patterns[cell] = regexp.MustCompile(flags + "^" + strings.Join(parts, ".*") + "$")
		}
	}
}

// row returns the first row matching the event's input values, or nil.
func (l autoLookup) row(in []string) []string {
	for _, r := range l.rows {
		ok := true
		for i, p := range l.inputs {
			cell := r[l.col(p[0])]
			switch {
			case l.wildcard[p[0]]:
				ok = l.patterns[cell].MatchString(in[i])
			case l.caseSens:
				ok = cell == in[i]
			default:
				ok = strings.EqualFold(cell, in[i])
			}
			if !ok {
				break
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

// flattenJSON names JSON members as KV_MODE = json does: nested objects joined with ".", array
// elements under name{}, JSON null as the text "null".
func flattenJSON(prefix string, v any, out fields) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			name := k
			if prefix != "" {
				name = prefix + "." + k
			}
			flattenJSON(name, x[k], out)
		}
	case []any:
		for _, e := range x {
			flattenJSON(prefix+"{}", e, out)
		}
	case nil:
		out[prefix] = append(out[prefix], "null")
	case bool:
		out[prefix] = append(out[prefix], fmt.Sprint(x))
	case json.Number:
		out[prefix] = append(out[prefix], x.String())
	case string:
		out[prefix] = append(out[prefix], x)
	}
}

// apply returns the search-time fields of one raw event, read with the given source.
func (st *searchTime) apply(raw []byte, source string) (fields, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v map[string]any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	f := fields{}
	flattenJSON("", v, f)
	f["sourcetype"] = []string{"OktaIM2:log"}
	f["source"] = []string{source}
	f["host"] = []string{"hf1"}
	for _, a := range st.aliases { // FIELDALIAS a AS b: b takes a's values, or goes when a is absent
		if vs, ok := f[a[0]]; ok {
			f[a[1]] = vs
		} else {
			delete(f, a[1])
		}
	}
	snapshot := fields{}
	for k, vs := range f {
		snapshot[k] = vs
	}
	for _, e := range st.evals { // calculated fields all read the fields as they were before any
		v, err := e.expr.eval(snapshot)
		if err != nil {
			return nil, fmt.Errorf("EVAL-%s: %w", e.name, err)
		}
		if v.isBool {
			return nil, fmt.Errorf("EVAL-%s gives a boolean", e.name)
		}
		if v.null {
			delete(f, e.name)
		} else {
			f[e.name] = v.mv
		}
	}
	beforeLookups := fields{}
	for k, vs := range f {
		beforeLookups[k] = vs
	}
	for _, l := range st.lookups { // automatic lookups do not read each other's output
		in := make([]string, len(l.inputs))
		skip := false
		for i, p := range l.inputs {
			vs, ok := beforeLookups[p[1]]
			if !ok {
				skip = true
				break
			}
			in[i] = vs[0]
		}
		if skip {
			continue // an event without every match field is not looked up
		}
		r := l.row(in)
		for _, o := range l.outputs {
			if l.outputNew {
				if _, exists := f[o[1]]; exists {
					continue
				}
			}
			if r == nil || r[l.col(o[0])] == "" {
				if !l.outputNew {
					delete(f, o[1]) // OUTPUT clears the field when no row (or an empty cell) matches
				}
				continue
			}
			f[o[1]] = []string{r[l.col(o[0])]}
		}
	}
	for _, et := range st.eventtypes {
		if et.expr.match(f) {
			f["eventtype"] = append(f["eventtype"], et.name)
			for _, tag := range st.tags[et.name] {
				if !slices.Contains(f["tag"], tag) { // tag holds each tag once
					f["tag"] = append(f["tag"], tag)
				}
			}
		}
	}
	sort.Strings(f["eventtype"])
	sort.Strings(f["tag"])
	return f, nil
}

func TestSearchTimeLookupSemantics(t *testing.T) {
	l := autoLookup{
		inputs: [][2]string{{"k", "key"}, {"o", "res"}}, outputs: [][2]string{{"out", "out"}},
		wildcard: map[string]bool{"k": true, "o": true}, caseSens: true,
		header: []string{"k", "o", "out"},
		rows:   [][]string{{"a.b", "*", "change"}, {"*", "OK", "good"}, {"*", "*", "other"}},
	}
	l.compile()
	assert.Equal(t, "change", l.row([]string{"a.b", "OK"})[2], "first matching row wins")
	assert.Equal(t, "good", l.row([]string{"a.c", "OK"})[2])
	assert.Equal(t, "other", l.row([]string{"a.c", "ok"})[2], "case-sensitive")
	assert.Equal(t, "other", l.row([]string{"axb", "x"})[2], "a dot is not a wildcard")
}

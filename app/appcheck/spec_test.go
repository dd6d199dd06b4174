package appcheck

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The allow-lists in testdata/splunk-9.2/<name>.keys are the stanzas and keys of Splunk's own
// <name>.conf.spec, version 9.2.0 (github.com/splunk/vscode-extension-splunk,
// spec_files/9.2/, at the commit each file names), written by scripts/spec-keys.py. `splunk
// btool check` reports a key no spec declares; AppInspect adds the rules in specProblems.

// keyRule is one key a spec declares; <...> in its pattern stands for any text.
type keyRule struct {
	pattern    string
	re         *regexp.Regexp
	deprecated bool
}

// stanzaRule is one stanza a spec declares and the keys it lists under it.
type stanzaRule struct {
	pattern string
	re      *regexp.Regexp
	keys    []keyRule
}

// specRules is what one spec file allows: keys before its first stanza apply to every stanza.
type specRules struct {
	source  string // the file the rules came from, for messages
	global  []keyRule
	stanzas []stanzaRule
}

var placeholder = regexp.MustCompile(`<[^>]*>`)

// specPattern turns a spec's key or stanza pattern into an anchored expression in which each
// <placeholder> matches one or more characters.
func specPattern(p string) *regexp.Regexp {
	var b strings.Builder
	last := 0
	for _, loc := range placeholder.FindAllStringIndex(p, -1) {
		b.WriteString(regexp.QuoteMeta(p[last:loc[0]]))
		b.WriteString(".+")
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(p[last:]))
	return regexp.MustCompile("^" + b.String() + "$")
}

// readSpecRules reads a testdata/splunk-9.2/<name>.keys file.
func readSpecRules(t *testing.T, name string) *specRules {
	t.Helper()
	path := filepath.Join("testdata", "splunk-9.2", name+".keys")
	f, err := os.Open(path)
	require.NoError(t, err, "no allow-list for default/%s.conf: add it to scripts/spec-keys.py", name)
	defer f.Close()
	r := &specRules{source: name + ".conf.spec 9.2"}
	var cur *stanzaRule
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "", strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			p := line[1 : len(line)-1]
			if p == "" {
				cur = nil
				continue
			}
			r.stanzas = append(r.stanzas, stanzaRule{pattern: p, re: specPattern(p)})
			cur = &r.stanzas[len(r.stanzas)-1]
		default:
			p, dep := strings.CutSuffix(line, " deprecated")
			k := keyRule{pattern: p, re: specPattern(p), deprecated: dep}
			if cur == nil {
				r.global = append(r.global, k)
			} else {
				cur.keys = append(cur.keys, k)
			}
		}
	}
	require.NoError(t, sc.Err())
	return r
}

// allowedKeys returns the key rules for a stanza, and false when the spec declares stanzas and
// none of them matches the name.
func (r *specRules) allowedKeys(stanza string) ([]keyRule, bool) {
	keys := slices.Clone(r.global)
	matched := false
	for _, s := range r.stanzas {
		if s.re.MatchString(stanza) {
			keys = append(keys, s.keys...)
			matched = true
		}
	}
	return keys, matched || len(r.stanzas) == 0
}

// chunkedKeys are the only commands.conf keys AppInspect accepts for a chunked = true command
// (commands.conf.spec 9.2 lists run_in_preview too; AppInspect does not).
var chunkedKeys = []string{"chunked", "is_risky", "maxwait", "maxchunksize", "filename", "python.version"}

// specProblems lists every stanza and key of one default/<name>.conf that Splunk's spec does
// not declare, that the spec marks deprecated, or that AppInspect rejects. inputKeys are the
// keys README/inputs.conf.spec declares for the app's own scheme (inputs.conf only).
func specProblems(name string, c *confFile, r *specRules, scheme string, inputKeys []string) []string {
	var out []string
	bad := func(s *confStanza, format string, args ...any) {
		out = append(out, fmt.Sprintf("default/%s.conf [%s]: ", name, s.Name)+fmt.Sprintf(format, args...))
	}
	for _, s := range c.Stanzas {
		if s.Name == "" && len(s.Keys) == 0 {
			continue
		}
		rules, ok := r.allowedKeys(s.Name)
		if name == "inputs" {
			// The app's scheme: its default stanza [scheme] and inputs [scheme://name], with
			// Splunk's general keys, the implicit "disabled", and what the app's spec declares.
			ok = s.Name == scheme || strings.HasPrefix(s.Name, scheme+"://")
			for _, k := range append([]string{"disabled"}, inputKeys...) {
				rules = append(rules, keyRule{pattern: k, re: specPattern(k)})
			}
		}
		if !ok {
			bad(s, "no stanza of %s matches this one", r.source)
			continue
		}
		unknown := map[string]bool{}
		for _, k := range s.Keys {
			i := slices.IndexFunc(rules, func(kr keyRule) bool { return kr.re.MatchString(k) })
			switch {
			case i < 0:
				unknown[k] = true
				bad(s, "%s is not a setting of %s", k, r.source)
			case rules[i].deprecated:
				bad(s, "%s is deprecated (%s)", k, r.source)
			}
		}
		v := s.Values
		switch name {
		case "app":
			if s.Name == "install" && slices.Contains(s.Keys, "is_configured") {
				bad(s, "is_configured: AppInspect fails an app that ships already set up")
			}
		case "commands":
			if v["chunked"] == "true" || v["chunked"] == "1" {
				for _, k := range s.Keys {
					if !unknown[k] && !slices.Contains(chunkedKeys, k) && !specPattern("command.arg.<N>").MatchString(k) {
						bad(s, "%s is not allowed with chunked = true (AppInspect allows %s and command.arg.<N>)", k, strings.Join(chunkedKeys, ", "))
					}
				}
			}
		case "macros":
			if iseval, set := v["iseval"]; set && iseval != "true" && iseval != "false" {
				bad(s, "iseval = %s: the spec lists true|false", iseval)
			}
		case "tags":
			for _, k := range s.Keys {
				if v[k] != "enabled" && v[k] != "disabled" {
					bad(s, "%s = %s: a tag is enabled or disabled", k, v[k])
				}
			}
		}
	}
	return out
}

// appSpec is what the app's own README/inputs.conf.spec declares: its scheme and that
// scheme's keys.
func appSpec(t *testing.T) (string, []string) {
	spec := readConf(t, "README/inputs.conf.spec", true)
	for _, s := range spec.Stanzas {
		if scheme, ok := strings.CutSuffix(s.Name, "://<name>"); ok {
			return scheme, s.Keys
		}
	}
	t.Fatal("README/inputs.conf.spec declares no [<scheme>://<name>] stanza")
	return "", nil
}

func TestConfKeysInSplunkSpec(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(root, "default", "*.conf"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	scheme, inputKeys := appSpec(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".conf")
		t.Run(name, func(t *testing.T) {
			c := readConf(t, filepath.Join("default", name+".conf"), false)
			for _, p := range specProblems(name, c, readSpecRules(t, name), scheme, inputKeys) {
				t.Error(p)
			}
		})
	}
}

// TestConfKeysInSplunkSpecRejects shows the check fails on each kind of defect, injected into
// the app's real files.
func TestConfKeysInSplunkSpecRejects(t *testing.T) {
	scheme, inputKeys := appSpec(t)
	tests := []struct {
		name, conf, inject string
		want               []string // substrings of the one problem expected; none for a clean file
	}{
		{name: "the shipped file", conf: "commands"},
		{name: "unknown key", conf: "commands", inject: "required_fieldz = _raw\n",
			want: []string{"required_fieldz is not a setting of commands.conf.spec 9.2"}},
		{name: "spec key AppInspect rejects for chunked", conf: "commands", inject: "run_in_preview = false\n",
			want: []string{"run_in_preview is not allowed with chunked = true"}},
		{name: "deprecated key", conf: "searchbnf", inject: "appears-in = 1.0\n", want: []string{"appears-in is deprecated"}},
		{name: "already configured", conf: "app", inject: "is_configured = true\n", want: []string{"is_configured: AppInspect"}},
		{name: "unknown stanza", conf: "app", inject: "\n[setup]\nlabel = x\n", want: []string{"[setup]: no stanza of app.conf.spec 9.2"}},
		{name: "key of another stanza", conf: "app", inject: "\n[author=oktasight]\nlabel = x\n",
			want: []string{"label is not a setting"}},
		{name: "iseval 0", conf: "macros", inject: "\n[m]\ndefinition = 1\niseval = 0\n", want: []string{"iseval = 0"}},
		{name: "props typo", conf: "props", inject: "\n[x]\nEVALfield = 1\n", want: []string{"EVALfield is not a setting"}},
		{name: "props class key", conf: "props", inject: "\n[x]\nEVAL-field = 1\nREPORT-x = y\n"},
		{name: "tag value", conf: "tags", inject: "\n[eventtype=x]\nauthentication = yes\n", want: []string{"authentication = yes"}},
		{name: "input key nobody declares", conf: "inputs", inject: "polling = 5\n", want: []string{"polling is not a setting"}},
		{name: "another scheme", conf: "inputs", inject: "\n[monitor:///var/log]\n", want: []string{"[monitor:///var/log]: no stanza"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(root, "default", tt.conf+".conf"))
			require.NoError(t, err)
			text := string(raw) + "\n" + tt.inject
			if tt.inject != "" && !strings.HasPrefix(tt.inject, "\n[") {
				// A bare key goes into the file's first stanza.
				first := regexp.MustCompile(`(?m)^\[[^\]]+\]\n`).FindStringIndex(string(raw))
				require.NotNil(t, first)
				text = string(raw[:first[1]]) + tt.inject + string(raw[first[1]:])
			}
			c, err := parseConf(strings.NewReader(text), false)
			require.NoError(t, err)
			got := specProblems(tt.conf, c, readSpecRules(t, tt.conf), scheme, inputKeys)
			if len(tt.want) == 0 {
				assert.Empty(t, got)
				return
			}
			require.Len(t, got, 1, "problems: %q", got)
			for _, w := range tt.want {
				assert.Contains(t, got[0], w)
			}
		})
	}
}

func TestSpecPattern(t *testing.T) {
	tests := []struct {
		pattern, key string
		match        bool
	}{
		{"EVAL-<fieldname>", "EVAL-action", true},
		{"EVAL-<fieldname>", "EVAL-", false},
		{"example<number>", "example12", true},
		{"command.arg.<N>", "command.arg.1", true},
		{"maxwait", "maxwait2", false},
		{"a.b", "axb", false}, // dots are literal
		{"[<spec>]", "[x]", true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.match, specPattern(tt.pattern).MatchString(tt.key), "%s ~ %s", tt.pattern, tt.key)
	}
}

package appcheck

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// confStanza is one [stanza] of a .conf file: its keys in file order and their values.
type confStanza struct {
	Name   string
	Line   int
	Keys   []string
	Values map[string]string
}

// confFile is a parsed .conf file; settings before the first stanza belong to the stanza "".
type confFile struct {
	Stanzas []*confStanza
	byName  map[string]*confStanza
}

// Stanza returns the named stanza, or nil.
func (c *confFile) Stanza(name string) *confStanza { return c.byName[name] }

// parseConf reads Splunk's .conf syntax: [stanza] headers ([] being the global stanza), key = value settings, # comments,
// blank lines, and values continued on the next line by a trailing backslash (the newline is
// kept, as Splunk keeps it). In spec files (spec true) lines starting with * are
// documentation. A duplicate stanza or key, or a line that is none of these, is an error.
func parseConf(r io.Reader, spec bool) (*confFile, error) {
	c := &confFile{byName: map[string]*confStanza{}}
	cur := &confStanza{Values: map[string]string{}}
	c.Stanzas, c.byName[""] = append(c.Stanzas, cur), cur
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 4<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		start := n
		for strings.HasSuffix(line, `\`) && sc.Scan() {
			n++
			line = strings.TrimSuffix(line, `\`) + "\n" + strings.TrimRight(sc.Text(), "\r")
		}
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "", strings.HasPrefix(trimmed, "#"), spec && strings.HasPrefix(trimmed, "*"):
		case strings.HasPrefix(trimmed, "["):
			if !strings.HasSuffix(trimmed, "]") {
				return nil, fmt.Errorf("line %d: stanza header %q has no closing ]", start, trimmed)
			}
			name := trimmed[1 : len(trimmed)-1]
			if strings.Contains(name, "\n") {
				return nil, fmt.Errorf("line %d: stanza header continued onto the next line", start)
			}
			if name == "" {
				// [] is the global stanza, which settings before any header also belong to.
				cur = c.byName[""]
				continue
			}
			if _, dup := c.byName[name]; dup {
				return nil, fmt.Errorf("line %d: stanza [%s] appears twice", start, name)
			}
			cur = &confStanza{Name: name, Line: start, Values: map[string]string{}}
			c.Stanzas, c.byName[name] = append(c.Stanzas, cur), cur
		default:
			key, val, ok := strings.Cut(line, "=")
			key = strings.TrimSpace(key)
			if !ok || key == "" || strings.ContainsAny(key, " \t\n[]") {
				return nil, fmt.Errorf("line %d: want key = value, got %q", start, trimmed)
			}
			if _, dup := cur.Values[key]; dup {
				return nil, fmt.Errorf("line %d: key %q appears twice in [%s]", start, key, cur.Name)
			}
			cur.Keys = append(cur.Keys, key)
			cur.Values[key] = strings.TrimSpace(val)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return c, nil
}

func TestParseConf(t *testing.T) {
	tests := []struct {
		name, in string
		spec     bool
		want     map[string]map[string]string // stanza -> key -> value
		wantErr  string
	}{
		{name: "stanzas and keys", in: "# c\nk0 = v0\n[a]\nx = 1\n  y=  two words \n\n[b://<name>]\nz =\n",
			want: map[string]map[string]string{"": {"k0": "v0"}, "a": {"x": "1", "y": "two words"}, "b://<name>": {"z": ""}}},
		{name: "continuation keeps the newline", in: "[s]\nsearch = a \\\n| b \\\n| c\nnext = 1\n",
			want: map[string]map[string]string{"s": {"search": "a \n| b \n| c", "next": "1"}}},
		{name: "value with equals signs", in: "[s]\ndefinition = index=* sourcetype=\"x\"\n",
			want: map[string]map[string]string{"s": {"definition": `index=* sourcetype="x"`}}},
		{name: "spec documentation", in: "[s://<name>]\nkey = <string>\n* Required. a = b\n", spec: true,
			want: map[string]map[string]string{"s://<name>": {"key": "<string>"}}},
		{name: "star line outside spec", in: "[s]\n* doc\n", wantErr: "want key = value"},
		{name: "duplicate key", in: "[s]\na = 1\na = 2\n", wantErr: `key "a" appears twice`},
		{name: "duplicate stanza", in: "[s]\n[s]\n", wantErr: "stanza [s] appears twice"},
		{name: "unclosed header", in: "[s\n", wantErr: "no closing ]"},
		{name: "no equals", in: "[s]\njunk\n", wantErr: "want key = value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseConf(strings.NewReader(tt.in), tt.spec)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			got := map[string]map[string]string{}
			for _, s := range c.Stanzas {
				if s.Name == "" && len(s.Keys) == 0 {
					continue
				}
				got[s.Name] = s.Values
			}
			require.Equal(t, tt.want, got)
		})
	}
}

// FuzzParseConf checks the parser never panics and that what it accepts it accepts again when
// written back out.
func FuzzParseConf(f *testing.F) {
	f.Add("[a]\nx = 1\n")
	f.Add("[s]\nsearch = a \\\n| b\n# c\n")
	f.Add("k = v\n[b://<n>]\n* doc\nz =\n")
	f.Fuzz(func(t *testing.T, in string) {
		c, err := parseConf(strings.NewReader(in), true)
		if err != nil {
			return
		}
		var b strings.Builder
		for _, s := range c.Stanzas {
			if s.Name != "" {
				fmt.Fprintf(&b, "[%s]\n", s.Name)
			}
			for _, k := range s.Keys {
				fmt.Fprintf(&b, "%s = %s\n", k, strings.ReplaceAll(s.Values[k], "\n", "\\\n"))
			}
		}
		c2, err := parseConf(strings.NewReader(b.String()), true)
		if err != nil {
			t.Fatalf("re-reading %q: %v", b.String(), err)
		}
		if len(c2.Stanzas) != len(c.Stanzas) {
			t.Fatalf("stanzas: %d then %d", len(c.Stanzas), len(c2.Stanzas))
		}
	})
}

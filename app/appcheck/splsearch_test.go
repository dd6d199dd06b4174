package appcheck

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file matches events against the search language of eventtypes, data model constraints,
// tstats where clauses and a search's first segment: field=value (values compared without
// regard to case, * a wildcard), field!=value, field IN (...), NOT, OR, AND (written or
// implied), parentheses. As in Splunk, NOT binds tightest, then OR, then AND: `a b OR c` is
// `a AND (b OR c)`. A term on a multivalue field matches when any value matches. Free text
// (a term without a field) is an error: nothing the app or Security Content's Okta detections
// search needs it.

type searchExpr interface {
	match(f fields) bool
}

type (
	searchAnd  []searchExpr
	searchOr   []searchExpr
	searchNot  struct{ x searchExpr }
	searchTerm struct {
		field  string
		neg    bool // field!=value
		values []*regexp.Regexp
	}
)

func (a searchAnd) match(f fields) bool {
	for _, x := range a {
		if !x.match(f) {
			return false
		}
	}
	return true
}

func (o searchOr) match(f fields) bool {
	for _, x := range o {
		if x.match(f) {
			return true
		}
	}
	return false
}

func (n searchNot) match(f fields) bool { return !n.x.match(f) }

func (t searchTerm) match(f fields) bool {
	vs, ok := f[t.field]
	if !ok {
		return false // field=value and field!=value both need the field
	}
	for _, v := range vs {
		for _, re := range t.values {
			if re.MatchString(v) {
				return !t.neg
			}
		}
	}
	return t.neg
}

// searchValue compiles a search value: case-insensitive, * matches any run.
func searchValue(v string) *regexp.Regexp {
	parts := strings.Split(v, "*")
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return regexp.MustCompile("(?is)^" + strings.Join(parts, ".*") + "$")
}

// tokenizeSearch splits search text into "quoted", (, ), ',', =, != and words.
func tokenizeSearch(s string) ([]string, error) {
	var toks []string
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated quote at %d", i)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case strings.HasPrefix(s[i:], "!="):
			toks = append(toks, "!=")
			i += 2
		case c == '(' || c == ')' || c == ',' || c == '=':
			toks = append(toks, string(c))
			i++
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r\"()=,!", rune(s[j])) {
				j++
			}
			if j == i {
				return nil, fmt.Errorf("unexpected %q at %d", c, i)
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks, nil
}

type searchParser struct {
	toks []string
	pos  int
}

func parseSearch(s string) (searchExpr, error) {
	toks, err := tokenizeSearch(s)
	if err != nil {
		return nil, err
	}
	p := &searchParser{toks: toks}
	e, err := p.and()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", p.toks[p.pos])
	}
	return e, nil
}

func (p *searchParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *searchParser) and() (searchExpr, error) {
	var xs searchAnd
	for {
		switch p.peek() {
		case "", ")":
			if len(xs) == 0 {
				return nil, fmt.Errorf("empty search expression")
			}
			return xs, nil
		case "AND":
			p.pos++
			continue
		}
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		xs = append(xs, x)
	}
}

func (p *searchParser) or() (searchExpr, error) {
	x, err := p.not()
	if err != nil {
		return nil, err
	}
	xs := searchOr{x}
	for p.peek() == "OR" {
		p.pos++
		y, err := p.not()
		if err != nil {
			return nil, err
		}
		xs = append(xs, y)
	}
	if len(xs) == 1 {
		return x, nil
	}
	return xs, nil
}

func (p *searchParser) not() (searchExpr, error) {
	if p.peek() == "NOT" {
		p.pos++
		x, err := p.not()
		return searchNot{x}, err
	}
	return p.term()
}

func unquote(t string) string {
	if len(t) >= 2 && t[0] == '"' {
		return strings.ReplaceAll(t[1:len(t)-1], `\"`, `"`)
	}
	return t
}

func (p *searchParser) term() (searchExpr, error) {
	t := p.peek()
	p.pos++
	if t == "(" {
		x, err := p.and()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return x, nil
	}
	field := unquote(t)
	switch op := p.peek(); {
	case op == "=" || op == "!=":
		p.pos++
		v := p.peek()
		if v == "" || v == "(" || v == ")" {
			return nil, fmt.Errorf("%s%s needs a value", field, op)
		}
		p.pos++
		return searchTerm{field: field, neg: op == "!=", values: []*regexp.Regexp{searchValue(unquote(v))}}, nil
	case strings.EqualFold(op, "IN"):
		p.pos++
		if p.peek() != "(" {
			return nil, fmt.Errorf("%s IN needs (", field)
		}
		p.pos++
		term := searchTerm{field: field}
		for p.peek() != ")" {
			v := p.peek()
			if v == "" {
				return nil, fmt.Errorf("%s IN (...) is not closed", field)
			}
			p.pos++
			if v != "," {
				term.values = append(term.values, searchValue(unquote(v)))
			}
		}
		p.pos++
		return term, nil
	}
	return nil, fmt.Errorf("free-text term %q: the checker knows only field comparisons", t)
}

func TestSearchSubset(t *testing.T) {
	f := fields{
		"eventType":     {"user.session.start"},
		"tag":           {"authentication", "change"},
		"target{}.type": {"AppInstance", "User"},
		"user":          {"bob@example.com"},
	}
	tests := []struct {
		q    string
		want bool
	}{
		{`eventType=USER.session.start`, true},
		{`eventType IN ("a", "user.session.*")`, true},
		{`tag=change target{}.type=User`, true},
		{`eventType=user.session.start tag=nope OR user=bob*`, true}, // OR binds before the implied AND
		{`eventType=x OR tag=nope user=bob*`, false},
		{`NOT (user=*$ tag=authentication)`, true},
		{`user!=bob@example.com`, false},
		{`missing!=x`, false},
		{`NOT missing=x`, true},
		{`tag=change NOT (object_category=file OR object_category=directory)`, true},
	}
	for _, tt := range tests {
		e, err := parseSearch(tt.q)
		require.NoError(t, err, tt.q)
		assert.Equal(t, tt.want, e.match(f), tt.q)
	}
	_, err := parseSearch(`eventType=x failed`)
	assert.ErrorContains(t, err, "free-text")
}

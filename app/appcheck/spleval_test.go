package appcheck

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file evaluates the subset of SPL's eval language that props.conf's calculated fields
// (EVAL-*) use, with Splunk's rules for null and multivalue fields, so the tests can compute
// what Splunk computes at search time without a Splunk.

// fields holds an event's search-time fields: name -> values (more than one for a multivalue
// field). An absent name is null.
type fields map[string][]string

// evalValue is an eval result: null, a boolean, or a (possibly multivalue) string.
type evalValue struct {
	null   bool
	isBool bool
	b      bool
	mv     []string
}

var evalNull = evalValue{null: true}

func evalStr(s string) evalValue { return evalValue{mv: []string{s}} }
func evalBool(b bool) evalValue  { return evalValue{isBool: true, b: b} }
func (v evalValue) truthy() bool { return !v.null && v.isBool && v.b }
func (v evalValue) first() (string, bool) {
	if v.null || v.isBool || len(v.mv) == 0 {
		return "", false
	}
	return v.mv[0], true
}

// evalExpr is a parsed eval expression.
type evalExpr interface {
	eval(f fields) (evalValue, error)
}

type (
	evalLit   struct{ v evalValue }
	evalField struct{ name string }
	evalCall  struct {
		name string
		args []evalExpr
	}
	evalBinary struct {
		op   string
		l, r evalExpr
	}
	evalNot struct{ x evalExpr }
)

func (e evalLit) eval(fields) (evalValue, error) { return e.v, nil }

func (e evalField) eval(f fields) (evalValue, error) {
	v, ok := f[e.name]
	if !ok || len(v) == 0 {
		return evalNull, nil
	}
	return evalValue{mv: v}, nil
}

func (e evalNot) eval(f fields) (evalValue, error) {
	v, err := e.x.eval(f)
	if err != nil || v.null {
		return evalNull, err
	}
	return evalBool(!v.truthy()), nil
}

func (e evalBinary) eval(f fields) (evalValue, error) {
	l, err := e.l.eval(f)
	if err != nil {
		return evalNull, err
	}
	switch e.op {
	case "AND":
		if !l.truthy() {
			return evalBool(false), nil
		}
		r, err := e.r.eval(f)
		return evalBool(r.truthy()), err
	case "OR":
		if l.truthy() {
			return evalBool(true), nil
		}
		r, err := e.r.eval(f)
		return evalBool(r.truthy()), err
	}
	r, err := e.r.eval(f)
	if err != nil {
		return evalNull, err
	}
	ls, lok := l.first()
	rs, rok := r.first()
	if !lok || !rok {
		return evalNull, nil // a comparison or an arithmetic with null is null
	}
	// Two numbers compare as numbers, anything else as text. Values carry no type here, so a
	// quoted literal that looks like a number is a number too (Splunk would compare "10" < "9"
	// as text); the app's searches compare fields with numbers, never two quoted numbers.
	ln, lnum := evalNumber(ls)
	rn, rnum := evalNumber(rs)
	num := lnum && rnum
	switch e.op {
	case "==", "=":
		return evalBool(ls == rs || num && ln == rn), nil
	case "!=":
		return evalBool(!(ls == rs || num && ln == rn)), nil
	case "<", "<=", ">", ">=":
		c := strings.Compare(ls, rs)
		if num {
			c = cmpFloat(ln, rn)
		}
		return evalBool(e.op == "<" && c < 0 || e.op == "<=" && c <= 0 || e.op == ">" && c > 0 || e.op == ">=" && c >= 0), nil
	case ".":
		return evalStr(ls + rs), nil
	case "+":
		if !num {
			return evalStr(ls + rs), nil // + joins text, as in Splunk
		}
		return evalNum(ln + rn), nil
	case "-", "*", "/", "%":
		if !num {
			return evalNull, nil
		}
		switch e.op {
		case "-":
			return evalNum(ln - rn), nil
		case "*":
			return evalNum(ln * rn), nil
		case "/":
			if rn == 0 {
				return evalNull, nil
			}
			return evalNum(ln / rn), nil
		}
		if rn == 0 {
			return evalNull, nil
		}
		return evalNum(math.Mod(ln, rn)), nil
	}
	return evalNull, fmt.Errorf("operator %s is not supported", e.op)
}

// evalNumber reads s as a number the way eval does: decimal, optionally signed.
func evalNumber(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s, "xXpP_") || strings.EqualFold(s, "nan") || strings.Contains(strings.ToLower(s), "inf") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// evalNum is a numeric result, written as Splunk writes it: integers without a decimal point.
func evalNum(f float64) evalValue {
	return evalStr(strconv.FormatFloat(f, 'f', -1, 64))
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (e evalCall) eval(f fields) (evalValue, error) {
	args := make([]evalValue, 0, len(e.args))
	lazy := e.name == "if" || e.name == "case" || e.name == "coalesce"
	if !lazy {
		for _, a := range e.args {
			v, err := a.eval(f)
			if err != nil {
				return evalNull, err
			}
			args = append(args, v)
		}
	}
	want := func(n int) error {
		if len(e.args) != n {
			return fmt.Errorf("%s takes %d arguments, got %d", e.name, n, len(e.args))
		}
		return nil
	}
	switch e.name {
	case "true", "false", "null":
		if err := want(0); err != nil {
			return evalNull, err
		}
		if e.name == "null" {
			return evalNull, nil
		}
		return evalBool(e.name == "true"), nil
	case "if":
		if err := want(3); err != nil {
			return evalNull, err
		}
		c, err := e.args[0].eval(f)
		if err != nil {
			return evalNull, err
		}
		if c.truthy() {
			return e.args[1].eval(f)
		}
		return e.args[2].eval(f)
	case "case":
		if len(e.args)%2 != 0 {
			return evalNull, fmt.Errorf("case takes condition/value pairs")
		}
		for i := 0; i < len(e.args); i += 2 {
			c, err := e.args[i].eval(f)
			if err != nil {
				return evalNull, err
			}
			if c.truthy() {
				return e.args[i+1].eval(f)
			}
		}
		return evalNull, nil
	case "coalesce":
		for _, a := range e.args {
			v, err := a.eval(f)
			if err != nil {
				return evalNull, err
			}
			if !v.null {
				return v, nil
			}
		}
		return evalNull, nil
	case "nullif":
		if err := want(2); err != nil {
			return evalNull, err
		}
		a, aok := args[0].first()
		b, bok := args[1].first()
		if aok && bok && a == b {
			return evalNull, nil
		}
		return args[0], nil
	case "lower":
		if err := want(1); err != nil {
			return evalNull, err
		}
		s, ok := args[0].first()
		if !ok {
			return evalNull, nil
		}
		return evalStr(strings.ToLower(s)), nil
	case "in":
		if len(args) < 2 {
			return evalNull, fmt.Errorf("in takes a value and a list")
		}
		s, ok := args[0].first()
		if !ok {
			return evalBool(false), nil
		}
		for _, a := range args[1:] {
			if t, ok := a.first(); ok && t == s {
				return evalBool(true), nil
			}
		}
		return evalBool(false), nil
	case "like":
		if err := want(2); err != nil {
			return evalNull, err
		}
		s, ok := args[0].first()
		p, pok := args[1].first()
		if !ok || !pok {
			return evalBool(false), nil
		}
		return evalBool(likePattern(p).MatchString(s)), nil
	case "match":
		if err := want(2); err != nil {
			return evalNull, err
		}
		s, ok := args[0].first()
		p, pok := args[1].first()
		if !ok || !pok {
			return evalBool(false), nil
		}
		re, err := compileCached(p)
		if err != nil {
			return evalNull, err
		}
		return evalBool(re.MatchString(s)), nil
	case "isnull", "isnotnull":
		if err := want(1); err != nil {
			return evalNull, err
		}
		return evalBool(args[0].null == (e.name == "isnull")), nil
	case "substr":
		if len(args) != 2 && len(args) != 3 {
			return evalNull, fmt.Errorf("substr takes 2 or 3 arguments")
		}
		s, ok := args[0].first()
		st, sok := args[1].first()
		if !ok || !sok {
			return evalNull, nil
		}
		start, err := strconv.Atoi(st)
		if err != nil || start < 1 {
			return evalNull, fmt.Errorf("substr start %q", st)
		}
		r := []rune(s)
		if start > len(r) {
			return evalStr(""), nil
		}
		r = r[start-1:]
		if len(args) == 3 {
			ls, _ := args[2].first()
			n, err := strconv.Atoi(ls)
			if err != nil {
				return evalNull, fmt.Errorf("substr length %q", ls)
			}
			if n < len(r) {
				r = r[:n]
			}
		}
		return evalStr(string(r)), nil
	case "mvindex":
		if len(args) != 2 {
			return evalNull, fmt.Errorf("mvindex takes 2 arguments here")
		}
		is, ok := args[1].first()
		if args[0].null || !ok {
			return evalNull, nil
		}
		i, err := strconv.Atoi(is)
		if err != nil {
			return evalNull, fmt.Errorf("mvindex index %q", is)
		}
		if i < 0 {
			i += len(args[0].mv)
		}
		if i < 0 || i >= len(args[0].mv) {
			return evalNull, nil
		}
		return evalStr(args[0].mv[i]), nil
	case "mvfind":
		if err := want(2); err != nil {
			return evalNull, err
		}
		p, pok := args[1].first()
		if args[0].null || !pok {
			return evalNull, nil
		}
		re, err := compileCached(p)
		if err != nil {
			return evalNull, err
		}
		for i, s := range args[0].mv {
			if re.MatchString(s) {
				return evalStr(strconv.Itoa(i)), nil
			}
		}
		return evalNull, nil
	}
	if v, ok, err := evalMoreFunctions(e.name, args); ok {
		return v, err
	}
	return evalNull, fmt.Errorf("eval function %s() is not supported by this checker", e.name)
}

// evalMoreFunctions evaluates the eval functions the alerts' searches use after oktasession
// (multivalue counts, numbers, text replacement); ok is false for a function it does not know.
func evalMoreFunctions(name string, args []evalValue) (v evalValue, ok bool, err error) {
	n := func(i int) (float64, bool) {
		s, ok := args[i].first()
		if !ok {
			return 0, false
		}
		return evalNumber(s)
	}
	arity := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return fmt.Errorf("%s takes %d to %d arguments, got %d", name, lo, hi, len(args))
		}
		return nil
	}
	switch name {
	case "mvcount":
		if err := arity(1, 1); err != nil {
			return evalNull, true, err
		}
		if args[0].null {
			return evalNull, true, nil // mvcount of a null field is null, not 0
		}
		return evalNum(float64(len(args[0].mv))), true, nil
	case "tonumber":
		if err := arity(1, 1); err != nil {
			return evalNull, true, err
		}
		if f, ok := n(0); ok {
			return evalNum(f), true, nil
		}
		return evalNull, true, nil
	case "round", "floor", "ceiling", "ceil", "abs":
		if err := arity(1, 2); err != nil {
			return evalNull, true, err
		}
		f, ok := n(0)
		if !ok {
			return evalNull, true, nil
		}
		switch name {
		case "floor":
			return evalNum(math.Floor(f)), true, nil
		case "ceiling", "ceil":
			return evalNum(math.Ceil(f)), true, nil
		case "abs":
			return evalNum(math.Abs(f)), true, nil
		}
		digits := 0.0
		if len(args) == 2 {
			if d, ok := n(1); ok {
				digits = d
			}
		}
		p := math.Pow(10, digits)
		return evalNum(math.Round(f*p) / p), true, nil
	case "max", "min":
		if len(args) == 0 {
			return evalNull, true, fmt.Errorf("%s needs arguments", name)
		}
		best, have := 0.0, false
		for i := range args {
			f, ok := n(i)
			if !ok {
				continue
			}
			if !have || name == "max" && f > best || name == "min" && f < best {
				best, have = f, true
			}
		}
		if !have {
			return evalNull, true, nil
		}
		return evalNum(best), true, nil
	case "len":
		if err := arity(1, 1); err != nil {
			return evalNull, true, err
		}
		s, ok := args[0].first()
		if !ok {
			return evalNull, true, nil
		}
		return evalNum(float64(len([]rune(s)))), true, nil
	case "replace":
		if err := arity(3, 3); err != nil {
			return evalNull, true, err
		}
		p, pok := args[1].first()
		r, rok := args[2].first()
		if args[0].null || !pok || !rok {
			return evalNull, true, nil
		}
		re, err := compileCached(p)
		if err != nil {
			return evalNull, true, err
		}
		// Splunk applies replace to every value of a multivalue field; \1 is a group.
		repl := splunkGroupRef.ReplaceAllString(r, "$${$1}")
		out := make([]string, len(args[0].mv))
		for i, s := range args[0].mv {
			out[i] = re.ReplaceAllString(s, repl)
		}
		return evalValue{mv: out}, true, nil
	case "mvjoin":
		if err := arity(2, 2); err != nil {
			return evalNull, true, err
		}
		sep, _ := args[1].first()
		if args[0].null {
			return evalNull, true, nil
		}
		return evalStr(strings.Join(args[0].mv, sep)), true, nil
	case "mvappend":
		var out []string
		for _, a := range args {
			if !a.null && !a.isBool {
				out = append(out, a.mv...)
			}
		}
		if len(out) == 0 {
			return evalNull, true, nil
		}
		return evalValue{mv: out}, true, nil
	case "mvdedup":
		if err := arity(1, 1); err != nil {
			return evalNull, true, err
		}
		if args[0].null {
			return evalNull, true, nil
		}
		var out []string
		for _, s := range args[0].mv {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		return evalValue{mv: out}, true, nil
	}
	return evalNull, false, nil
}

// compiledRegexps caches the patterns eval compiles: a scheduled day of alerts evaluates the
// same few patterns on every row.
var compiledRegexps sync.Map

func compileCached(p string) (*regexp.Regexp, error) {
	if re, ok := compiledRegexps.Load(p); ok {
		return re.(*regexp.Regexp), nil
	}
	re, err := regexp.Compile(p)
	if err == nil {
		compiledRegexps.Store(p, re)
	}
	return re, err
}

var splunkGroupRef = regexp.MustCompile(`\\(\d)`)

// likePattern turns an SPL like() pattern (% any run, _ one character) into a regexp.
func likePattern(p string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '%':
			b.WriteString(".*")
		case '_':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile("(?s)" + b.String())
}

// unescapeEval reads an eval string literal's body: \\ is a backslash, \" a quote, and any
// other backslash stays (so "^a\.b" and "^a\\.b" are the same regular expression).
func unescapeEval(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == '"') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// evalParser parses one eval expression.
type evalParser struct {
	toks []string
	pos  int
}

// tokenizeEval splits an eval expression into tokens: "strings", 'fields', names, numbers,
// operators and punctuation.
func tokenizeEval(s string) ([]string, error) {
	var toks []string
	isName := func(c byte) bool {
		return unicode.IsLetter(rune(c)) || unicode.IsDigit(rune(c)) || c == '_'
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '"' || c == '\'':
			j := i + 1
			for j < len(s) && s[j] != c {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, fmt.Errorf("unterminated %c at %d", c, i)
			}
			toks = append(toks, s[i:j+1])
			i = j + 1
		case strings.HasPrefix(s[i:], "==") || strings.HasPrefix(s[i:], "!=") ||
			strings.HasPrefix(s[i:], "<=") || strings.HasPrefix(s[i:], ">="):
			toks = append(toks, s[i:i+2])
			i += 2
		case strings.ContainsRune("(),=<>+-*/%", rune(c)):
			toks = append(toks, string(c))
			i++
		case c == '.' && (i+1 >= len(s) || !unicode.IsDigit(rune(s[i+1]))):
			toks = append(toks, ".") // text concatenation
			i++
		case unicode.IsDigit(rune(c)) || c == '.':
			j := i
			for j < len(s) && (unicode.IsDigit(rune(s[j])) || s[j] == '.') {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		case isName(c):
			j := i
			for j < len(s) && isName(s[j]) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		default:
			return nil, fmt.Errorf("unexpected %q at %d", c, i)
		}
	}
	return toks, nil
}

func parseEval(s string) (evalExpr, error) {
	toks, err := tokenizeEval(s)
	if err != nil {
		return nil, err
	}
	p := &evalParser{toks: toks}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q after the expression", p.toks[p.pos])
	}
	return e, nil
}

func (p *evalParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *evalParser) or() (evalExpr, error) { return p.binary("OR", p.and) }

func (p *evalParser) and() (evalExpr, error) { return p.binary("AND", p.not) }

// binary parses operands joined by op (left-associative), each parsed by next.
func (p *evalParser) binary(op string, next func() (evalExpr, error)) (evalExpr, error) {
	l, err := next()
	for err == nil && p.peek() == op {
		p.pos++
		var r evalExpr
		if r, err = next(); err == nil {
			l = evalBinary{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *evalParser) not() (evalExpr, error) {
	if p.peek() == "NOT" {
		p.pos++
		x, err := p.not()
		return evalNot{x: x}, err
	}
	return p.cmp()
}

func (p *evalParser) cmp() (evalExpr, error) {
	l, err := p.additive()
	if err != nil {
		return nil, err
	}
	switch op := p.peek(); op {
	case "==", "=", "!=", "<", "<=", ">", ">=":
		p.pos++
		r, err := p.additive()
		if err != nil {
			return nil, err
		}
		return evalBinary{op: op, l: l, r: r}, nil
	}
	return l, nil
}

// additive parses + - and . (text concatenation), which bind looser than * / %.
func (p *evalParser) additive() (evalExpr, error) {
	l, err := p.multiplicative()
	for err == nil && (p.peek() == "+" || p.peek() == "-" || p.peek() == ".") {
		op := p.peek()
		p.pos++
		var r evalExpr
		if r, err = p.multiplicative(); err == nil {
			l = evalBinary{op: op, l: l, r: r}
		}
	}
	return l, err
}

func (p *evalParser) multiplicative() (evalExpr, error) {
	l, err := p.unary()
	for err == nil && (p.peek() == "*" || p.peek() == "/" || p.peek() == "%") {
		op := p.peek()
		p.pos++
		var r evalExpr
		if r, err = p.unary(); err == nil {
			l = evalBinary{op: op, l: l, r: r}
		}
	}
	return l, err
}

// unary reads a leading minus: a negative number, or 0 - x.
func (p *evalParser) unary() (evalExpr, error) {
	if p.peek() != "-" {
		return p.primary()
	}
	p.pos++
	x, err := p.unary()
	if err != nil {
		return nil, err
	}
	if lit, ok := x.(evalLit); ok {
		if s, ok := lit.v.first(); ok {
			if _, num := evalNumber(s); num {
				return evalLit{evalStr("-" + s)}, nil
			}
		}
	}
	return evalBinary{op: "-", l: evalLit{evalStr("0")}, r: x}, nil
}

func (p *evalParser) primary() (evalExpr, error) {
	t := p.peek()
	if t == "" {
		return nil, fmt.Errorf("expression ends early")
	}
	p.pos++
	switch {
	case t == "(":
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.peek() != ")" {
			return nil, fmt.Errorf("missing )")
		}
		p.pos++
		return e, nil
	case t[0] == '"':
		return evalLit{evalStr(unescapeEval(t[1 : len(t)-1]))}, nil
	case t[0] == '\'':
		return evalField{name: t[1 : len(t)-1]}, nil
	case unicode.IsDigit(rune(t[0])) || t[0] == '.':
		return evalLit{evalStr(t)}, nil
	}
	if p.peek() != "(" {
		return evalField{name: t}, nil
	}
	p.pos++
	call := evalCall{name: t}
	for p.peek() != ")" {
		a, err := p.or()
		if err != nil {
			return nil, err
		}
		call.args = append(call.args, a)
		if p.peek() == "," {
			p.pos++
		} else if p.peek() != ")" {
			return nil, fmt.Errorf("%s(): want , or ) got %q", t, p.peek())
		}
	}
	p.pos++
	return call, nil
}

func TestEvalSubset(t *testing.T) {
	f := fields{
		"target{}.type":        {"AppInstance", "User"},
		"target{}.alternateId": {"app", "bob@example.com"},
		"outcome.reason":       {"null"},
		"eventType":            {"user.session.start"},
		"source":               {"okta:acme.okta.com"},
		"x":                    {"userXsession"},
		"ten":                  {"10"},
	}
	tests := []struct{ expr, want string }{
		{`mvindex('target{}.alternateId', mvfind('target{}.type', "^User$"))`, "bob@example.com"},
		{`coalesce(mvindex('target{}.alternateId', mvfind('target{}.type', "^Group$")), "none")`, "none"},
		{`nullif('outcome.reason', "null")`, "<null>"},
		{`if(in(lower('outcome.reason'), "null", "unknown"), null(), 'outcome.reason')`, "<null>"},
		{`if(like(source, "okta:%"), substr(source, 6), host)`, "acme.okta.com"},
		{`case(eventType=="x", "a", match(eventType, "^user\\.session"), "b", true(), "c")`, "b"},
		{`case(eventType=="x", "a", match(eventType, "^user\.session"), "b", true(), "c")`, "b"},
		{`if(match(x, "^user\.session"), "t", "f")`, "f"}, // \. is a literal dot
		{`case(missing=="x", "a")`, "<null>"},
		{`if(missing=="x" OR eventType!="y", "t", "f")`, "t"},
		{`if(NOT isnull(missing) AND true(), "t", "f")`, "f"},
		{`if(10 > 9, "t", "f")`, "t"},        // numbers compare as numbers...
		{`if(ten > 9, "t", "f")`, "t"},       // ...and so do fields that hold numbers
		{`if("abc" < "abd", "t", "f")`, "t"}, // text compares as text
		{`if(2 == 2.0, "t", "f")`, "t"},
		{`1 + 2 * 3 - 4 / 2`, "5"},
		{`-1 + 3`, "2"},
		{`(1709720100.5 - 1709719800) / 60`, "5.008333333333334"},
		{`round((1709720100.5 - 1709719800) / 60)`, "5"},
		{`floor(3599 / 3600)`, "0"},
		{`"a" . 1 . "b"`, "a1b"},
		{`"a" + "b"`, "ab"},
		{`missing + 1`, "<null>"},
		{`mvcount('target{}.type')`, "2"},
		{`mvcount(missing)`, "<null>"},
		{`replace("Chrome/122.0.6261.94 Safari/537.36", "[0-9][0-9._]*", "")`, "Chrome/ Safari/"},
		{`replace("ab", "(a)(b)", "\\2\\1")`, "ba"},
		{`mvindex('target{}.type', -1)`, "User"},
		{`if(mvfind('target{}.type', "^User$") >= 1, "t", "f")`, "t"},
	}
	for _, tt := range tests {
		e, err := parseEval(tt.expr)
		require.NoError(t, err, tt.expr)
		v, err := e.eval(f)
		require.NoError(t, err, tt.expr)
		got := "<null>"
		if s, ok := v.first(); ok {
			got = s
		}
		assert.Equal(t, tt.want, got, tt.expr)
	}
	_, err := parseEval(`frobnicate(x)`)
	require.NoError(t, err)
	e, _ := parseEval(`frobnicate(x)`)
	_, err = e.eval(f)
	assert.ErrorContains(t, err, "not supported", "an unknown function is an error, not a null")
}

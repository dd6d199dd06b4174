package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors ParseRaw, RawReader and FromFields wrap, so a caller can tell bad input from a
// non-Okta event.
var (
	ErrNotJSON = errors.New("not a JSON object")
	ErrNotOkta = errors.New("not an Okta System Log event (no eventType)")
	// ErrSkipped means the event's type is one the RawReader was told to skip: it read no
	// further than it had to, and only the Event's Type is set.
	ErrSkipped = errors.New("eventType skipped")
)

// rawPaths are the Event fields read from an Okta event's JSON, by their path in it: adding a
// field the engine needs is one line here. The members of target's elements are read per
// element (targetPaths) and chosen in rawParser.pick; published becomes Time.
var rawPaths = [...]rawPath{
	{"eventType", func(e *Event) *string { return &e.Type }},
	{"uuid", func(e *Event) *string { return &e.UUID }},
	{"published", nil},
	{"actor.id", func(e *Event) *string { return &e.ActorID }},
	{"actor.type", func(e *Event) *string { return &e.ActorType }},
	{"actor.alternateId", func(e *Event) *string { return &e.ActorLogin }},
	{"actor.displayName", func(e *Event) *string { return &e.ActorName }},
	{"client.ipAddress", func(e *Event) *string { return &e.IP }},
	{"client.userAgent.rawUserAgent", func(e *Event) *string { return &e.UserAgent }},
	{"authenticationContext.externalSessionId", func(e *Event) *string { return &e.SessionID }},
	{"outcome.result", func(e *Event) *string { return &e.Result }},
	{"outcome.reason", func(e *Event) *string { return &e.Reason }},
	{"debugContext.debugData.factor", func(e *Event) *string { return &e.Factor }},
}

// targetPaths are the members read from each element of target, in slots after rawPaths'.
var targetPaths = [...]string{"id", "type", "alternateId", "displayName"}

// rawPath is a JSON path (members joined by dots) and the Event field its value fills, nil
// for a value read otherwise.
type rawPath struct {
	path  string
	field func(*Event) *string
}

// Slots of the values a parse collects: rawPaths' in their order, then targetPaths'.
const (
	slotType      = 0
	slotPublished = 2
	slotTarget    = len(rawPaths) // slotTarget+i holds targetPaths[i] of the current element
	numSlots      = slotTarget + len(targetPaths)
)

// rawNode is an object of the paths: its members that lead to values (slot >= 0) or to
// objects (kid), and the slots below it, cleared when a duplicate key gives it a new value
// (encoding/json keeps the last). The target array's node reads its elements.
type rawNode struct {
	keys    []string
	kids    []*rawNode
	slots   []int // per key: the value's slot, -1 for an object
	below   []int
	targets bool
}

// rawRoot is the tree of rawPaths and targetPaths.
var rawRoot = func() *rawNode {
	root := &rawNode{}
	add := func(n *rawNode, path string, slot int) {
		for {
			key, rest, more := strings.Cut(path, ".")
			n.below = append(n.below, slot)
			k := n.find([]byte(key))
			if !more {
				n.keys, n.kids, n.slots = append(n.keys, key), append(n.kids, nil), append(n.slots, slot)
				return
			}
			if k < 0 {
				k = len(n.keys)
				n.keys, n.kids, n.slots = append(n.keys, key), append(n.kids, &rawNode{}), append(n.slots, -1)
			}
			n, path = n.kids[k], rest
		}
	}
	for i, p := range rawPaths {
		add(root, p.path, i)
	}
	target := &rawNode{targets: true}
	root.keys, root.kids, root.slots = append(root.keys, "target"), append(root.kids, target), append(root.slots, -1)
	for i, name := range targetPaths {
		add(target, name, slotTarget+i)
	}
	return root
}()

// find returns the index of key among n's members, -1 when it is not one.
func (n *rawNode) find(key []byte) int {
	for k, name := range n.keys {
		if len(name) == len(key) && name == string(key) {
			return k
		}
	}
	return -1
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

// rawVal is where a value lies in the parser's input: [a, e) and what it is. The zero
// rawVal is "no value" (absent, null, an object or an array).
type rawVal struct {
	a, e  int32
	flags uint8
}

const (
	valSet uint8 = 1 << iota // a string, number or boolean
	valEsc                   // a string that holds a backslash escape
)

// rawParser reads the members of an Okta event's JSON that rawPaths name, validating the
// whole document as encoding/json would, without building a tree and without copying: values
// are positions in the input, unescaped only when read (text). It reads JSON as it is (q=1)
// or inside a quoted CSV cell, where every quote is doubled (q=2), so that a _raw cell is
// read straight from the chunk.
type rawParser struct {
	b     []byte
	i     int
	q     int // bytes per quote: 1 in JSON, 2 in a quoted CSV cell
	depth int
	bad   bool
	msg   string // what was wrong, at byte at
	at    int
	v     [numSlots]rawVal
	// The target elements chosen (see pick), set as each element ends.
	user, login, app, auth rawVal
	// skip, when set, stops the parse at an eventType it reports true for.
	skip    func(eventType string) bool
	skipped bool
	buf     []byte // text unescaped from the input
}

// begin starts a parse of b from byte i with quotes q bytes long.
func (p *rawParser) begin(b []byte, i, q int) {
	p.b, p.i, p.q, p.depth, p.bad, p.msg, p.skipped = b, i, q, 0, false, "", false
	p.v = [numSlots]rawVal{}
	p.user, p.login, p.app, p.auth = rawVal{}, rawVal{}, rawVal{}, rawVal{}
	p.buf = p.buf[:0]
}

func (p *rawParser) fail(msg string) {
	if !p.bad {
		p.bad, p.msg, p.at = true, msg, p.i
	}
}

// err returns the parse's error.
func (p *rawParser) err() error {
	return fmt.Errorf("session: raw event: %s at byte %d: %w", p.msg, p.at, ErrNotJSON)
}

// spaces marks JSON's whitespace.
var spaces = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

func (p *rawParser) ws() {
	for p.i < len(p.b) && spaces[p.b[p.i]] {
		p.i++
	}
}

// eat consumes c when it comes next.
func (p *rawParser) eat(c byte) bool {
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// quote reports whether a quote (q bytes) comes next.
func (p *rawParser) quote() bool {
	i := p.i
	return i+p.q <= len(p.b) && p.b[i] == '"' && (p.q == 1 || p.b[i+1] == '"')
}

// document reads a whole JSON object from p.i. With skip set it may stop early (p.skipped).
func (p *rawParser) document() {
	p.ws()
	if p.i >= len(p.b) || p.b[p.i] != '{' {
		p.fail("want '{'")
		return
	}
	p.object(rawRoot)
}

// object reads the object at p.i ('{'), keeping the values of n's members (all skipped when
// n is nil).
func (p *rawParser) object(n *rawNode) {
	if p.depth++; p.depth > maxDepth {
		p.fail("nesting too deep")
		return
	}
	p.i++
	p.ws()
	if p.eat('}') {
		p.depth--
		return
	}
	for {
		p.ws()
		if !p.quote() {
			p.fail("want a member name")
			return
		}
		a, e, esc := p.str()
		if p.bad {
			return
		}
		p.ws()
		if !p.eat(':') {
			p.fail("want ':'")
			return
		}
		p.ws()
		if p.i >= len(p.b) {
			p.fail("want a value")
			return
		}
		k := -1
		if n != nil {
			key := p.b[a:e]
			if esc {
				key = p.unescape(nil, key)
			}
			k = n.find(key)
		}
		switch {
		case k < 0:
			p.skipValue()
		case n.slots[k] >= 0:
			s := n.slots[k]
			p.v[s] = p.scalar()
			if s == slotType && n == rawRoot && p.skip != nil && !p.bad {
				if t := clean(p.text(p.v[s])); t != "" && p.skip(t) {
					p.skipped = true
					return
				}
			}
		default:
			kid := n.kids[k]
			for _, s := range kid.below {
				p.v[s] = rawVal{}
			}
			switch c := p.b[p.i]; {
			case c == '{' && !kid.targets:
				p.object(kid)
			case c == '[' && kid.targets:
				p.user, p.login, p.app, p.auth = rawVal{}, rawVal{}, rawVal{}, rawVal{}
				p.array(kid)
			default:
				if kid.targets {
					p.user, p.login, p.app, p.auth = rawVal{}, rawVal{}, rawVal{}, rawVal{}
				}
				p.skipValue()
			}
			if p.skipped {
				return
			}
		}
		if p.bad {
			return
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if !p.eat('}') {
			p.fail("want ',' or '}'")
			return
		}
		p.depth--
		return
	}
}

// pick keeps the target element just read when it is the first User with an id (the user an
// admin acted on), the first AppInstance with a name, or the first authenticator with a name.
func (p *rawParser) pick() {
	const id, typ, login, name = slotTarget, slotTarget + 1, slotTarget + 2, slotTarget + 3
	switch t := clean(p.text(p.v[typ])); {
	case t == "User" && p.user == (rawVal{}) && clean(p.text(p.v[id])) != "":
		p.user, p.login = p.v[id], p.v[login]
	case t == "AppInstance" && p.app == (rawVal{}) && clean(p.text(p.v[name])) != "":
		p.app = p.v[name]
	case isAuthenticator(t) && p.auth == (rawVal{}) && clean(p.text(p.v[name])) != "":
		p.auth = p.v[name]
	}
}

// isAuthenticator reports whether a target type names the factor used.
func isAuthenticator(t string) bool {
	return t == "AuthenticatorEnrollment" || t == "Authenticator" || t == "Factor"
}

// scalar reads a value to keep: a string's content, a number's or boolean's text; null and
// containers (skipped) are no value.
func (p *rawParser) scalar() rawVal {
	switch c := p.b[p.i]; {
	case c == '"':
		a, e, esc := p.str()
		v := rawVal{int32(a), int32(e), valSet}
		if esc {
			v.flags |= valEsc
		}
		return v
	case c == 'n' || c == '{' || c == '[':
		p.skipValue()
		return rawVal{}
	default:
		a := p.i
		p.skipValue()
		return rawVal{int32(a), int32(p.i), valSet}
	}
}

// skipValue reads and validates the value at p.i.
func (p *rawParser) skipValue() {
	if p.i >= len(p.b) {
		p.fail("want a value")
		return
	}
	switch c := p.b[p.i]; {
	case c == '"':
		p.str()
	case c == '{':
		p.object(nil)
	case c == '[':
		p.array(nil)
	case c == 't':
		p.literal("true")
	case c == 'f':
		p.literal("false")
	case c == 'n':
		p.literal("null")
	case c == '-' || c-'0' <= 9:
		p.number()
	default:
		p.fail(fmt.Sprintf("unexpected %q", c))
	}
}

// array reads and validates the array at p.i ('['). With n (the target node) it reads the
// members of its elements that are objects, choosing elements as they end.
func (p *rawParser) array(n *rawNode) {
	if p.depth++; p.depth > maxDepth {
		p.fail("nesting too deep")
		return
	}
	p.i++
	p.ws()
	if p.eat(']') {
		p.depth--
		return
	}
	for {
		p.ws()
		if n != nil && p.i < len(p.b) && p.b[p.i] == '{' {
			for _, s := range n.below {
				p.v[s] = rawVal{}
			}
			p.object(n)
			if !p.bad {
				p.pick()
			}
		} else {
			p.skipValue()
		}
		if p.bad {
			return
		}
		p.ws()
		if p.eat(',') {
			continue
		}
		if !p.eat(']') {
			p.fail("want ',' or ']'")
			return
		}
		p.depth--
		return
	}
}

func (p *rawParser) literal(w string) {
	if len(p.b)-p.i >= len(w) && string(p.b[p.i:p.i+len(w)]) == w {
		p.i += len(w)
		return
	}
	p.fail("bad literal")
}

// number reads a number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *rawParser) number() {
	b, i := p.b, p.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(b, i); i < 0 {
		p.fail("bad number")
		return
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			p.fail("bad number")
			return
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			p.fail("bad number")
			return
		}
	}
	p.i = i
}

// digits returns the index past the digits at b[i], -1 when there is none.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && b[i]-'0' <= 9 {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// str reads the string whose opening quote is at p.i and returns its content's bounds; esc
// reports a backslash escape in it. Escapes are validated here and decoded only by text.
func (p *rawParser) str() (a, e int, esc bool) {
	b := p.b
	j := p.i + p.q
	a = j
	for {
		j = plainEnd(b, j)
		if j >= len(b) {
			p.i = j
			p.fail("unterminated string")
			return a, a, false
		}
		switch b[j] {
		case '"':
			if p.q == 2 && (j+1 >= len(b) || b[j+1] != '"') {
				// A lone quote ends the CSV cell: the string never ends.
				p.i = j
				p.fail("unterminated string")
				return a, a, false
			}
			p.i = j + p.q
			return a, j, esc
		case '\\':
			n := escapeLen(b, j, p.q)
			if n == 0 {
				p.i = j
				p.fail("bad escape in string")
				return a, a, false
			}
			esc = true
			j += n
		default:
			p.i = j
			p.fail("control character in string")
			return a, a, false
		}
	}
}

// escapeLen returns the length of the valid escape at b[j] ('\\') with quotes q bytes long,
// 0 when it is not one.
func escapeLen(b []byte, j, q int) int {
	if j+1 >= len(b) {
		return 0
	}
	switch b[j+1] {
	case '"':
		if q == 2 && (j+2 >= len(b) || b[j+2] != '"') {
			return 0
		}
		return 1 + q
	case '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		if _, ok := hex4(b, j+2); ok {
			return 6
		}
	}
	return 0
}

// text returns value v as a string: a view of the input when it needs no decoding (the
// common case), else decoded into p.buf as encoding/json decodes it: escapes resolved,
// invalid UTF-8 replaced by U+FFFD.
func (p *rawParser) text(v rawVal) string {
	s := p.b[v.a:v.e]
	if v.flags&valEsc == 0 && ascii(s) {
		return view(s)
	}
	start := len(p.buf)
	p.buf = p.unescape(p.buf, s)
	return view(p.buf[start:len(p.buf):len(p.buf)])
}

// ascii reports whether b holds only ASCII bytes, a word at a time.
func ascii(b []byte) bool {
	var or uint64
	for len(b) >= 8 {
		or |= binary.LittleEndian.Uint64(b)
		b = b[8:]
	}
	for _, c := range b {
		or |= uint64(c)
	}
	return or&0x8080808080808080 == 0
}

// unescape appends the decoded content s of a validated string to dst.
func (p *rawParser) unescape(dst, s []byte) []byte {
	for len(s) > 0 {
		c := s[0]
		switch {
		case c == '\\':
			n, r := 2, rune(0)
			switch s[1] {
			case '"':
				r, n = '"', 1+p.q
			case '\\', '/':
				r = rune(s[1])
			case 'b':
				r = '\b'
			case 'f':
				r = '\f'
			case 'n':
				r = '\n'
			case 'r':
				r = '\r'
			case 't':
				r = '\t'
			case 'u':
				r, _ = hex4(s, 2)
				n = 6
				if utf16.IsSurrogate(r) {
					r2, ok := hex4(s, 8)
					if d := utf16.DecodeRune(r, r2); ok && s[6] == '\\' && s[7] == 'u' && d != utf8.RuneError {
						r, n = d, 12
					} else {
						r = utf8.RuneError
					}
				}
			}
			dst = utf8.AppendRune(dst, r)
			s = s[n:]
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			s = s[1:]
		default:
			r, size := utf8.DecodeRune(s)
			dst = utf8.AppendRune(dst, r) // RuneError for an invalid byte, as encoding/json
			s = s[size:]
		}
	}
	return dst
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// plainEnd returns the index of the first byte from j on that ends a run of plain string
// bytes (a quote, a backslash or a control character), len(b) when there is none. It looks
// at eight bytes at a time: JSON strings are mostly plain.
func plainEnd(b []byte, j int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		x := binary.LittleEndian.Uint64(b[j : j+8 : j+8])
		q := x ^ (lo * '"')
		bs := x ^ (lo * '\\')
		// (v - lo) &^ v & hi flags zero bytes; (x - 0x20*lo) &^ x & hi flags bytes < 0x20
		// (bytes >= 0x80 have their high bit set in x and are excluded by &^ x). Borrows
		// can flag bytes above the first stop byte, never below it: the lowest flag is exact.
		if m := ((q-lo)&^q | (bs-lo)&^bs | (x-lo*0x20)&^x) & hi; m != 0 {
			return j + bits.TrailingZeros64(m)>>3
		}
	}
	for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
		j++
	}
	return j
}

// event fills e (except Ref) from a finished parse.
func (p *rawParser) event(e *Event) error {
	if p.bad {
		return p.err()
	}
	typ := clean(p.text(p.v[slotType]))
	if typ == "" {
		return fmt.Errorf("session: raw event: %w", ErrNotOkta)
	}
	ref := e.Ref
	*e = Event{Ref: ref}
	if p.skipped {
		e.Type = typ
		return ErrSkipped
	}
	for s, path := range rawPaths {
		if path.field != nil && p.v[s].flags != 0 {
			*path.field(e) = clean(p.text(p.v[s]))
		}
	}
	if p.user != (rawVal{}) {
		e.TargetID, e.TargetLogin = clean(p.text(p.user)), clean(p.text(p.login))
	}
	if p.app != (rawVal{}) {
		e.App = clean(p.text(p.app))
	}
	if e.Factor == "" && p.auth != (rawVal{}) {
		e.Factor = clean(p.text(p.auth))
	}
	if pub := p.v[slotPublished]; pub.flags != 0 {
		if t, err := parsePublished(p.text(pub)); err == nil {
			e.Time = t
		}
	}
	return nil
}

// ParseRaw extracts the engine's fields from one Okta System Log event as JSON (the _raw of a
// Splunk event) into e, leaving e.Ref alone; e's strings may point into raw. e.Time is 0 when
// published is absent or not a timestamp; the caller may then use Splunk's _time. Errors wrap
// ErrNotJSON or ErrNotOkta.
func ParseRaw(raw []byte, e *Event) error {
	var p rawParser
	p.begin(raw, 0, 1)
	p.document()
	if !p.bad {
		p.ws()
		if p.i != len(raw) {
			p.fail("trailing data after the object")
		}
	}
	return p.event(e)
}

// RawReader extracts Events from the _raw cells of a chunk's rows, as the chunk sends them:
// quoted, every quote doubled. It can read a quoted cell while the CSV reader looks for its
// end (ScanCell, an scp.CellScanner), so that the cell is scanned once. The zero value is
// ready to use; a RawReader is not safe for concurrent use.
type RawReader struct {
	// Skip, when set, is asked about each event's eventType as soon as it is read: for
	// true, Event returns ErrSkipped without reading the rest of the event.
	Skip func(eventType string) bool
	p    rawParser
	// What ScanCell read last: the cell it parsed (in p), or the cell whose parse stopped at
	// a skipped eventType, and where.
	cell, stopped []byte
	stop          int
}

// ScanCell reads the quoted cell whose opening quote is b[open] as Okta JSON and returns the
// index just past its closing quote. It returns -1 when the cell is not one JSON object, or
// when its event is skipped: the caller then finds the cell's end, and Event finishes.
func (x *RawReader) ScanCell(b []byte, open int) int {
	x.cell, x.stopped = nil, nil
	p := &x.p
	p.skip = x.Skip
	p.begin(b, open+1, 2)
	p.document()
	switch {
	case p.skipped:
		x.stopped, x.stop = b[open:], p.i-open
		return -1
	case p.bad:
		return -1
	}
	p.ws()
	if i := p.i; i < len(b) && b[i] == '"' && (i+1 == len(b) || b[i+1] != '"') {
		x.cell = b[open : i+1]
		return i + 1
	}
	return -1
}

// Event fills e (except Ref) from a _raw cell as the chunk holds it: quoted with its quotes
// doubled, or bare. e's strings may point into the cell. Errors wrap ErrNotJSON or ErrNotOkta,
// or are ErrSkipped (e.Type is then set).
func (x *RawReader) Event(cell []byte, e *Event) error {
	p := &x.p
	switch {
	case same(cell, x.cell):
		// ScanCell parsed it.
	case len(cell) > 0 && len(x.stopped) >= len(cell) && &cell[0] == &x.stopped[0]:
		// ScanCell stopped at a skipped eventType: done unless another one follows.
		x.finishSkipped(cell, x.stop, 2)
	case len(cell) > 0 && cell[0] == '"':
		p.skip = x.Skip
		p.begin(cell, 1, 2)
		x.document(cell, 2)
	default:
		p.skip = x.Skip
		p.begin(cell, 0, 1)
		x.document(cell, 1)
	}
	x.cell, x.stopped = nil, nil
	err := p.event(e)
	if err == nil && x.Skip != nil && x.Skip(e.Type) {
		// Skipped after all: another eventType member followed the one that was.
		*e = Event{Ref: e.Ref, Type: e.Type}
		return ErrSkipped
	}
	return err
}

// same reports whether a and b are the same bytes in memory.
func same(a, b []byte) bool {
	return len(a) > 0 && len(a) == len(b) && &a[0] == &b[0]
}

// document parses the whole cell (q == 2: quoted, q == 1: bare) from p.i.
func (x *RawReader) document(cell []byte, q int) {
	p := &x.p
	p.document()
	if p.skipped {
		x.finishSkipped(cell, p.i, q)
		return
	}
	if !p.bad {
		p.ws()
		if p.i != len(cell)-(q-1) {
			p.fail("trailing data after the object")
		}
	}
}

// finishSkipped ends a parse of cell that stopped at a skipped eventType at cell[i]: it is
// final unless the rest of the cell may hold another eventType member (encoding/json keeps
// the last of duplicate keys), which a parse of the whole cell then reads.
func (x *RawReader) finishSkipped(cell []byte, i, q int) {
	pat := `"eventType"`
	if q == 2 {
		pat = `""eventType""`
	}
	if !bytes.Contains(cell[i:], []byte(pat)) {
		return
	}
	p := &x.p
	p.skip = nil
	p.begin(cell, q-1, q)
	x.document(cell, q)
}

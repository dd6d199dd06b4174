package session

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
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
	// The per-sequence signals (issue 12).
	{"transaction.id", func(e *Event) *string { return &e.TransactionID }},
	{"debugContext.debugData.dtHash", func(e *Event) *string { return &e.DTHash }},
	{"client.geographicalContext.country", func(e *Event) *string { return &e.Country }},
	{"client.geographicalContext.city", func(e *Event) *string { return &e.City }},
	{"securityContext.asNumber", func(e *Event) *string { return &e.ASN }},
	{"securityContext.isp", func(e *Event) *string { return &e.ISP }},
	// Normalized by rawParser.signals; risk, behaviors and logOnlySecurityData are read as
	// text (slotText): a string's, or an object's or array's JSON, as Okta logs them both ways.
	{"securityContext.isProxy", nil},
	{"debugContext.debugData.risk", nil},
	{"debugContext.debugData.behaviors", nil},
	{"debugContext.debugData.logOnlySecurityData", nil},
}

// targetPaths are the members read from each element of target, in slots after rawPaths'.
var targetPaths = [...]string{"id", "type", "alternateId", "displayName"}

// rawPath is a JSON path (members joined by dots) and the Event field its value fills, nil
// for a value read otherwise.
type rawPath struct {
	path  string
	field func(*Event) *string
}

// Slots of the values a parse collects: rawPaths' in their order, then targetPaths'
// (TestRawSlots checks the named ones).
const (
	slotType      = 0
	slotPublished = 2
	slotProxy     = 19
	slotRisk      = 20
	slotBehaviors = 21
	slotLogOnly   = 22
	slotTarget    = len(rawPaths) // slotTarget+i holds targetPaths[i] of the current element
	numSlots      = slotTarget + len(targetPaths)
)

// slotText marks the slots read as text: an object or array is kept as its JSON text, and a
// number or boolean, which Okta never logs there, is no value.
var slotText = [numSlots]bool{slotRisk: true, slotBehaviors: true, slotLogOnly: true}

// rawNode is an object of the paths: its members that lead to values (slot >= 0) or to
// objects (kid), and the slots below it, cleared when a duplicate key gives it a new value
// (encoding/json keeps the last). The target array's node reads its elements.
type rawNode struct {
	keys    []string
	kids    []*rawNode
	slots   []int // per key: the value's slot, -1 for an object
	below   []int
	bit     uint64 // the node's bit in rawParser.entered
	targets bool
	// Each key by the word keyWord makes of it (names): index+1 in table, at keyHash of the
	// word (probing on), so that a member name is looked up without comparing strings.
	names []keyName
	table [64]uint8
}

// keyName is a key as find compares a member name with it: its key word, and for a key of
// eight bytes or more its length, its last eight bytes (tail) and, over 16, its bytes 8 to 16
// (mid): three words tell a name of up to 24 bytes.
type keyName struct {
	word, mid, tail uint64
	len             int
}

// rawRoot is the tree of rawPaths and targetPaths.
var rawRoot = func() *rawNode {
	root := &rawNode{}
	add := func(n *rawNode, path string, slot int) {
		for {
			key, rest, more := strings.Cut(path, ".")
			n.below = append(n.below, slot)
			k := slices.Index(n.keys, key)
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
	var index func(n *rawNode)
	nodes := 0
	index = func(n *rawNode) {
		if nodes == 64 {
			panic("session: rawPaths: more than 64 objects, which rawParser.entered does not tell apart")
		}
		n.bit, nodes = 1<<nodes, nodes+1
		for k, key := range n.keys {
			w := keyWord([]byte(key), 0, len(key))
			name := keyName{word: w, len: len(key)}
			switch {
			case len(key) > 24:
				panic("session: rawPaths: a member name of over 24 bytes, which find does not tell")
			case len(key) > 16:
				name.mid = binary.LittleEndian.Uint64([]byte(key[8:16]))
				fallthrough
			case len(key) >= 8:
				name.tail = binary.LittleEndian.Uint64([]byte(key[len(key)-8:]))
			}
			n.names = append(n.names, name)
			h := keyHash(w)
			for n.table[h] != 0 {
				h = (h + 1) % uint64(len(n.table))
			}
			n.table[h] = uint8(k + 1)
			if kid := n.kids[k]; kid != nil {
				index(kid)
			}
		}
	}
	index(root)
	if nodes > 64 {
		panic("session: rawPaths: over 64 objects, more than rawParser.entered holds")
	}
	return root
}()

// keyWord packs the member name b[a:e] into a word: its first eight bytes, zero-padded, with
// its length in the high byte when it is shorter. Names of up to seven bytes are told apart
// by it alone; find compares longer ones in full.
func keyWord(b []byte, a, e int) uint64 {
	if a+8 <= len(b) {
		return nameWord(binary.LittleEndian.Uint64(b[a:a+8:a+8]), e-a)
	}
	var w uint64
	for i := e - a - 1; i >= 0; i-- {
		w = w<<8 | uint64(b[a+i])
	}
	return nameWord(w, e-a)
}

// nameWord is keyWord of a name n bytes long whose first eight bytes (and maybe more) are x.
func nameWord(x uint64, n int) uint64 {
	if n >= 8 {
		return x
	}
	return x&(1<<(8*n)-1) | uint64(n)<<56
}

// keyHash spreads a key word over a node's table.
func keyHash(w uint64) uint64 { return (w * 0x9e3779b97f4a7c15) >> 58 }

// find returns the index of the member name b[a:e], whose key word is w, among n's members,
// -1 when it is not one.
func (n *rawNode) find(w uint64, b []byte, a, e int) int {
	for h := keyHash(w); ; h = (h + 1) % uint64(len(n.table)) {
		k := int(n.table[h]) - 1
		if k < 0 {
			return -1
		}
		// A name of eight or more bytes (keys have up to 24) by its length and its words
		// at 8 and at the end: 3.2% fewer instructions in the map phase than comparing the
		// strings (callgrind, realistic stream, 3 147 M -> 3 045 M without PGO).
		if name := &n.names[k]; name.word == w && (e-a < 8 || name.len == e-a &&
			binary.LittleEndian.Uint64(b[e-8:e:e]) == name.tail &&
			(e-a <= 16 || binary.LittleEndian.Uint64(b[a+8:a+16:a+16]) == name.mid)) {
			return k
		}
	}
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
	valSet  uint8 = 1 << iota // a string, number or boolean (or JSON text, with valJSON)
	valEsc                    // a string that holds a backslash escape
	valJSON                   // an object or array kept as its JSON text (slotText)
)

// rawParser reads the members of an Okta event's JSON that rawPaths name, validating the
// whole document as encoding/json would, without building a tree and without copying: values
// are positions in the input, unescaped only when read (text). It reads JSON inside a quoted
// CSV cell, where every quote is doubled, so that a _raw cell is read straight from the chunk;
// plain JSON is quoted so first (RawReader.plain).
//
// Its methods take and return the index they read at (-1 after an error, which fail notes),
// so that it stays in a register through the hot loops, not loaded and stored at every test
// (6% fewer instructions in the map phase than an index in the struct: callgrind, realistic
// stream, 3.70 G -> 3.47 G per 100 000 events).
type rawParser struct {
	b     []byte
	plain bool // the input is plain JSON that plain quoted: errors give offsets in it
	depth int
	// The nodes whose objects this parse has entered (their bits): their slots may be set.
	entered uint64
	bad     bool
	msg     string // what was wrong, at byte at
	at      int
	v       [numSlots]rawVal
	// The target elements chosen (see pick), set as each element ends.
	user, login, app, auth rawVal
	// skip, when set, stops the parse at an eventType it reports true for (skipped, and
	// stop is where).
	skip    func(eventType string) bool
	skipped bool
	stop    int
	buf     []byte // text unescaped from the input
}

// begin starts a parse of b, a quoted CSV cell and maybe more.
func (p *rawParser) begin(b []byte) {
	p.b, p.depth, p.bad, p.msg, p.skipped, p.plain = b, 0, false, "", false, false
	p.entered = 0
	p.v = [numSlots]rawVal{}
	p.user, p.login, p.app, p.auth = rawVal{}, rawVal{}, rawVal{}, rawVal{}
	p.buf = p.buf[:0]
}

// fail notes the first error, at byte i, and returns -1.
func (p *rawParser) fail(i int, msg string) int {
	if !p.bad {
		p.bad, p.msg, p.at = true, msg, i
	}
	return -1
}

// err returns the parse's error, at a byte offset in the JSON.
func (p *rawParser) err() error {
	at := p.at
	if p.plain {
		// An offset in the quoted form: back to the JSON, whose quotes are single.
		at = max(0, at-1-bytes.Count(p.b[1:min(at, len(p.b))], []byte{'"'})/2)
	}
	return fmt.Errorf("session: raw event: %s at byte %d: %w", p.msg, at, ErrNotJSON)
}

// spaces marks JSON's whitespace.
var spaces = [256]bool{' ': true, '\t': true, '\n': true, '\r': true}

// ws returns the index of the first byte from i on that is not whitespace. Okta's JSON has
// none: one comparison tells, before the table does.
func ws(b []byte, i int) int {
	for uint(i) < uint(len(b)) && b[i] <= ' ' && spaces[b[i]] {
		i++
	}
	return i
}

// document reads a whole JSON object from b[i]; it returns the index after it, -1 on an
// error. With skip set it may stop early (skipped).
func (p *rawParser) document(i int) int {
	i = ws(p.b, i)
	if i >= len(p.b) || p.b[i] != '{' {
		return p.fail(i, "want '{'")
	}
	return p.object(i, rawRoot)
}

// object reads the object at b[i] ('{'), keeping the values of n's members (all skipped when
// n is nil).
func (p *rawParser) object(i int, n *rawNode) int {
	if p.depth++; p.depth > maxDepth {
		return p.fail(i, "nesting too deep")
	}
	b := p.b
	if i = ws(b, i+1); uint(i) < uint(len(b)) && b[i] == '}' {
		p.depth--
		return i + 1
	}
	for {
		if uint(i) >= uint(len(b)) || b[i] != '"' {
			i = ws(b, i)
		}
		if !quote2(b, i) {
			return p.fail(i, "want a member name")
		}
		// The name: its first word is also its key word for find, when the name is plain.
		a := i + 2
		e, esc, w := -1, false, uint64(0)
		if a+8 <= len(b) {
			x := binary.LittleEndian.Uint64(at8(b, a)[:]) // a > i >= 0
			if m := stopBytes(x); m != 0 {
				k := bits.TrailingZeros64(m) >> 3
				e, w = a+k, nameWord(x, k)
			} else if e = stopAt(b, a+8); e >= 0 {
				w = x
			}
		}
		// The name's doubled closing quote and ':', as Okta writes them, in one load;
		// anything else the general way.
		if e >= 0 && e+4 <= len(b) && binary.LittleEndian.Uint32(at4(b, e)[:])&0xffffff == '"'|'"'<<8|':'<<16 {
			i = e + 3
		} else {
			next := e + 2
			if e < 0 || !quote2(b, e) {
				if e, next, esc = p.str(a); next < 0 {
					return -1
				}
				w = keyWord(b, a, e)
			}
			if i = sep(b, next, ':'); i < 0 {
				return p.fail(ws(b, next), "want ':'")
			}
		}
		if uint(i) < uint(len(b)) && b[i] <= ' ' {
			i = ws(b, i)
		}
		if uint(i) >= uint(len(b)) {
			return p.fail(i, "want a value")
		}
		k := -1
		if n != nil {
			if esc {
				key := p.unescape(nil, b[a:e])
				k = n.find(keyWord(key, 0, len(key)), key, 0, len(key))
			} else {
				k = n.find(w, b, a, e)
			}
		}
		// A plain string, the commonest value, is read here without a call: its content
		// is b[i+2:end].
		end := -1
		if b[i] == '"' {
			if e := stopAt(b, i+2); e >= 0 && quote2(b, e) && quote2(b, i) {
				end = e
			}
		}
		switch {
		case k < 0:
			switch {
			case end >= 0:
				i = end + 2
			case null(b, i):
				i += 4
			default:
				i = p.skipValue(i)
			}
		case n.slots[k] >= 0:
			s := n.slots[k]
			switch {
			case end >= 0:
				p.v[s], i = rawVal{int32(i + 2), int32(end), valSet}, end+2
			case null(b, i):
				p.v[s], i = rawVal{}, i+4
			default:
				p.v[s], i = p.scalar(i, s)
			}
			if s == slotType && n == rawRoot && p.skip != nil && i >= 0 {
				if t := clean(p.text(p.v[s])); t != "" && p.skip(t) {
					p.skipped, p.stop = true, i
					return -1
				}
			}
		default:
			// The slots below an object entered before are cleared; others are clear yet
			// (1.1% fewer instructions in the map phase than clearing them all: callgrind,
			// realistic stream, 2 966 M -> 2 933 M without PGO).
			kid := n.kids[k]
			if p.entered&kid.bit != 0 {
				for _, s := range kid.below {
					p.v[s] = rawVal{}
				}
			}
			p.entered |= kid.bit
			if kid.targets {
				p.user, p.login, p.app, p.auth = rawVal{}, rawVal{}, rawVal{}, rawVal{}
			}
			switch c := b[i]; {
			case c == '{' && !kid.targets:
				i = p.object(i, kid)
			case c == '[' && kid.targets:
				i = p.array(i, kid)
			default:
				i = p.skipValue(i)
			}
		}
		// The end of a member, as array spells the end of an element: a method shared by
		// the two, which the compiler does not inline, cost 3.5% more instructions in the
		// map phase (callgrind, realistic stream).
		if i < 0 {
			return -1
		}
		if j := sep(b, i, ','); j >= 0 {
			i = j
			continue
		}
		if j := sep(b, i, '}'); j >= 0 {
			p.depth--
			return j
		}
		return p.fail(ws(b, i), "want ',' or '}'")
	}
}

// null reports whether b[i:] starts with null, which object reads without a call to
// skipValue or scalar: 2.2% fewer instructions in the map phase (callgrind, realistic
// stream, 2 849 M -> 2 786 M without PGO).
func null(b []byte, i int) bool {
	return 0 <= i && i+4 <= len(b) && binary.LittleEndian.Uint32(at4(b, i)[:]) == 'n'|'u'<<8|'l'<<16|'l'<<24
}

// sep returns the index after separator c at b[i] or after whitespace, -1 when c is not there.
func sep(b []byte, i int, c byte) int {
	if uint(i) < uint(len(b)) && b[i] == c {
		return i + 1
	}
	if i = ws(b, i); uint(i) < uint(len(b)) && b[i] == c {
		return i + 1
	}
	return -1
}

// array reads and validates the array at b[i] ('['). With n (the target node) it reads the
// members of its elements that are objects, choosing elements as they end.
func (p *rawParser) array(i int, n *rawNode) int {
	if p.depth++; p.depth > maxDepth {
		return p.fail(i, "nesting too deep")
	}
	b := p.b
	if i = ws(b, i+1); uint(i) < uint(len(b)) && b[i] == ']' {
		p.depth--
		return i + 1
	}
	for {
		if uint(i) < uint(len(b)) && b[i] <= ' ' {
			i = ws(b, i)
		}
		if n != nil && uint(i) < uint(len(b)) && b[i] == '{' {
			for _, s := range n.below {
				p.v[s] = rawVal{}
			}
			if i = p.object(i, n); i >= 0 {
				p.pick()
			}
		} else {
			i = p.skipValue(i)
		}
		if i < 0 {
			return -1
		}
		if j := sep(b, i, ','); j >= 0 {
			i = j
			continue
		}
		if j := sep(b, i, ']'); j >= 0 {
			p.depth--
			return j
		}
		return p.fail(ws(b, i), "want ',' or ']'")
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

// scalar reads the value at b[i] to keep in slot s: a string's content, a number's or
// boolean's text; null is no value, and so are containers (skipped); slotText[s] keeps
// containers as JSON text and has no value for a number or boolean.
func (p *rawParser) scalar(i, s int) (rawVal, int) {
	switch c := p.b[i]; {
	case c == '"':
		if !quote2(p.b, i) {
			return rawVal{}, p.fail(i, "unterminated string")
		}
		a := i + 2
		e, next, esc := p.str(a)
		v := rawVal{int32(a), int32(e), valSet}
		if esc {
			v.flags |= valEsc
		}
		return v, next
	case c == 'n':
		return rawVal{}, p.skipValue(i)
	case c == '{' || c == '[':
		next := p.skipValue(i)
		if !slotText[s] {
			return rawVal{}, next
		}
		return rawVal{int32(i), int32(next), valSet | valJSON}, next
	default:
		next := p.skipValue(i)
		if slotText[s] {
			return rawVal{}, next
		}
		return rawVal{int32(i), int32(next), valSet}, next
	}
}

// skipValue reads and validates the value at b[i].
func (p *rawParser) skipValue(i int) int {
	if i >= len(p.b) {
		return p.fail(i, "want a value")
	}
	switch c := p.b[i]; {
	case c == '"':
		if !quote2(p.b, i) {
			return p.fail(i, "unterminated string")
		}
		_, next, _ := p.str(i + 2)
		return next
	case c == '{':
		return p.object(i, nil)
	case c == '[':
		return p.array(i, nil)
	case c == 't':
		return p.literal(i, "true")
	case c == 'f':
		return p.literal(i, "false")
	case c == 'n':
		return p.literal(i, "null")
	case c == '-' || c-'0' <= 9:
		return p.number(i)
	default:
		return p.fail(i, fmt.Sprintf("unexpected %q", c))
	}
}

func (p *rawParser) literal(i int, w string) int {
	if len(p.b)-i >= len(w) && string(p.b[i:i+len(w)]) == w {
		return i + len(w)
	}
	return p.fail(i, "bad literal")
}

// number reads a number in JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func (p *rawParser) number(start int) int {
	b, i := p.b, start
	if i < len(b) && b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(b, i); i < 0 {
		return p.fail(start, "bad number")
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			return p.fail(start, "bad number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			return p.fail(start, "bad number")
		}
	}
	return i
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

// str reads the content of a string from b[a] (just past its opening quote): it returns the
// index of its closing quote, the index after that quote (-1 on an error) and whether it holds
// a backslash escape. Escapes are validated here and decoded only by text. The content is
// scanned eight bytes at a time for the bytes that end a run of plain ones (a quote, a
// backslash, a control character): JSON strings are mostly plain.
func (p *rawParser) str(a int) (e, next int, esc bool) {
	b, j := p.b, a
	for {
		for ; j+8 <= len(b); j += 8 {
			x := binary.LittleEndian.Uint64(b[j : j+8 : j+8])
			if m := stopBytes(x); m != 0 {
				j += bits.TrailingZeros64(m) >> 3
				goto stop
			}
		}
		for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
			j++
		}
		if j >= len(b) {
			return a, p.fail(j, "unterminated string"), false
		}
	stop:
		switch b[j] {
		case '"':
			if j+1 >= len(b) || b[j+1] != '"' {
				// A lone quote ends the CSV cell: the string never ends.
				return a, p.fail(j, "unterminated string"), false
			}
			return j, j + 2, esc
		case '\\':
			n := escapeLen(b, j)
			if n == 0 {
				return a, p.fail(j, "bad escape in string"), false
			}
			esc = true
			j += n
		default:
			return a, p.fail(j, "control character in string"), false
		}
	}
}

// quote2 reports whether b[i:] starts with a quote, which a CSV cell doubles.
func quote2(b []byte, i int) bool {
	return 0 <= i && i+2 <= len(b) && binary.LittleEndian.Uint16(at2(b, i)[:]) == '"'<<8|'"'
}

// at2, at4 and at8 return the bytes at b[i:], which the caller has made sure lie inside b
// (0 <= i, i+2, 4 or 8 <= len(b)), without the bounds checks of b[i:i+n:i+n], for the hot
// loads of rawParser: in quote2, stopAt and object's name, 2.1% fewer instructions in the
// map phase (callgrind, realistic stream, 2 933 M -> 2 871 M without PGO). Elsewhere the
// parser compares indexes unsigned (uint(i) < uint(len(b))), which spares the compiler's
// own check and is false for -1 (0.8% fewer, 2 871 M -> 2 849 M).
func at2(b []byte, i int) *[2]byte {
	return (*[2]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

func at4(b []byte, i int) *[4]byte {
	return (*[4]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

func at8(b []byte, i int) *[8]byte {
	return (*[8]byte)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(b)), i))
}

// stopAt returns the index of the first stop byte (see stopBytes) from b[a] on, scanning a
// word at a time, -1 when there is none before the last word of b. It is small enough to
// inline, so that most strings are read without a call (a doubled quote at the index is
// their end; anything else is for str). Its words are read through at8, inside b as the
// tests make sure (unsigned, which the compiler uses past the loop too): 2.6% fewer
// instructions in the map phase than through b[a:a+8:a+8] (callgrind, realistic stream,
// 3 045 M -> 2 966 M without PGO).
func stopAt(b []byte, a int) int {
	if a < 0 {
		return -1
	}
	for ; uint(a)+8 <= uint(len(b)); a += 8 {
		if m := stopBytes(binary.LittleEndian.Uint64(at8(b, a)[:])); m != 0 {
			return a + bits.TrailingZeros64(m)>>3
		}
	}
	return -1
}

// stopBytes flags (high bit) the bytes of x, first byte lowest, that end a run of plain string
// bytes: a quote, a backslash, a control character. The lowest flag is exact; borrows may flag
// bytes above it. x ^ 0x02 maps '"' (0x22) to 0x20 and the control bytes onto themselves, so
// one test for bytes below 0x21 finds both; (v - n) &^ v & hi flags bytes of v below n (bytes
// from 0x80 have their high bit set in v, cleared by &^ v), and v = x ^ '\\' has a zero byte
// where x has a backslash. Two tests instead of one per class: with ws's first comparison,
// 3.8% fewer instructions in the map phase (callgrind, realistic stream, 3.47 G -> 3.34 G).
func stopBytes(x uint64) uint64 {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	qc, bs := x^(lo*0x02), x^(lo*'\\')
	return ((qc-lo*0x21)&^qc | (bs-lo)&^bs) & hi
}

// escapeLen returns the length of the valid escape at b[j] ('\\'), its quote doubled, 0 when
// it is not one.
func escapeLen(b []byte, j int) int {
	if j+1 >= len(b) {
		return 0
	}
	switch b[j+1] {
	case '"':
		if !quote2(b, j+1) {
			return 0
		}
		return 3
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
// invalid UTF-8 replaced by U+FFFD. JSON text (valJSON) is the value's bytes as logged, its
// quotes single again.
func (p *rawParser) text(v rawVal) string {
	s := p.b[v.a:v.e]
	if v.flags&valJSON != 0 {
		start := len(p.buf)
		for {
			k := bytes.IndexByte(s, '"')
			if k < 0 {
				break
			}
			p.buf = append(p.buf, s[:k+1]...)
			s = s[k+2:] // a quote inside the cell is doubled
		}
		p.buf = append(p.buf, s...)
		return view(p.buf[start:len(p.buf):len(p.buf)])
	}
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
				r, n = '"', 3
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
	p.signals(e)
	return nil
}

// signals sets e's normalized signals (AppendBehaviors, RiskLevel, Proxy) from a finished
// parse: logOnlySecurityData stands in for the behaviors and the risk when debugData has
// none (absent, null, blank, a number or a boolean).
func (p *rawParser) signals(e *Event) {
	// Each value is read as text once: text copies JSON and escaped strings into p.buf.
	var logOnly string
	var logOnlyRead bool
	orLogOnly := func(s string) string {
		if strings.TrimSpace(s) != "" {
			return s
		}
		if !logOnlyRead {
			logOnly, logOnlyRead = p.optText(p.v[slotLogOnly]), true
		}
		return logOnly
	}
	if beh := orLogOnly(p.optText(p.v[slotBehaviors])); beh != "" {
		// beh may lie in p.buf: AppendBehaviors writes only past the bytes it reads, and a
		// buffer it outgrows stays as it was.
		start := len(p.buf)
		p.buf = AppendBehaviors(p.buf, beh)
		e.Behaviors = clean(view(p.buf[start:len(p.buf):len(p.buf)]))
	}
	if risk := orLogOnly(p.optText(p.v[slotRisk])); risk != "" {
		e.Risk = RiskLevel(clean(risk))
	}
	if proxy := p.v[slotProxy]; proxy.flags != 0 {
		e.Proxy = Proxy(clean(p.text(proxy)))
	}
}

// optText is text, or "" when v holds no value.
func (p *rawParser) optText(v rawVal) string {
	if v.flags == 0 {
		return ""
	}
	return p.text(v)
}

// ParseRaw extracts the engine's fields from one Okta System Log event as JSON (the _raw of a
// Splunk event) into e, leaving e.Ref alone. e.Time is 0 when published is absent or not a
// timestamp; the caller may then use Splunk's _time. Errors wrap ErrNotJSON or ErrNotOkta.
func ParseRaw(raw []byte, e *Event) error {
	var x RawReader
	return x.Event(raw, e)
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
	quoted        []byte // a bare cell, quoted
}

// ScanCell reads the quoted cell whose opening quote is b[open] as Okta JSON and returns the
// index just past its closing quote. It returns -1 when the cell is not one JSON object, or
// when its event is skipped: the caller then finds the cell's end, and Event finishes.
func (x *RawReader) ScanCell(b []byte, open int) int {
	x.cell, x.stopped = nil, nil
	p := &x.p
	p.skip = x.Skip
	p.begin(b)
	i := p.document(open + 1)
	switch {
	case p.skipped:
		x.stopped, x.stop = b[open:], p.stop-open
		return -1
	case i < 0:
		return -1
	}
	if i = ws(b, i); i < len(b) && b[i] == '"' && (i+1 == len(b) || b[i+1] != '"') {
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
		x.finishSkipped(cell, x.stop)
	case len(cell) > 0 && cell[0] == '"':
		p.skip = x.Skip
		p.begin(cell)
		x.document(cell)
	default:
		// A bare cell (or ParseRaw's JSON): quoted as a CSV cell would be, and read so.
		x.quoted = append(x.quoted[:0], '"')
		for {
			k := bytes.IndexByte(cell, '"')
			if k < 0 {
				break
			}
			x.quoted = append(append(x.quoted, cell[:k+1]...), '"')
			cell = cell[k+1:]
		}
		x.quoted = append(append(x.quoted, cell...), '"')
		p.skip = x.Skip
		p.begin(x.quoted)
		p.plain = true
		x.document(x.quoted)
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

// document parses the whole of a quoted cell.
func (x *RawReader) document(cell []byte) {
	p := &x.p
	i := p.document(1)
	if p.skipped {
		x.finishSkipped(cell, p.stop)
		return
	}
	if i >= 0 {
		if i = ws(cell, i); i != len(cell)-1 {
			p.fail(i, "trailing data after the object")
		}
	}
}

// finishSkipped ends a parse of cell that stopped at a skipped eventType at cell[i]: it is
// final unless the rest of the cell may hold another eventType member (encoding/json keeps
// the last of duplicate keys), which a parse of the whole cell then reads.
func (x *RawReader) finishSkipped(cell []byte, i int) {
	if !bytes.Contains(cell[i:], []byte(`""eventType""`)) {
		return
	}
	p := &x.p
	plain := p.plain
	p.skip = nil
	p.begin(cell)
	p.plain = plain
	x.document(cell)
}

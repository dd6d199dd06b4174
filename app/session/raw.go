package session

import (
	"bytes"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// Errors ParseRaw and FromFields wrap, so a caller can tell bad input from a non-Okta event.
var (
	ErrNotJSON = errors.New("not a JSON object")
	ErrNotOkta = errors.New("not an Okta System Log event (no eventType)")
)

// maxDepth bounds nesting so hostile input cannot exhaust the stack.
const maxDepth = 200

// span is a decoded value's position in rawScanner.buf; the zero span is "no value".
type span struct{ a, b int32 }

// rawScanner is a single-pass JSON reader that decodes only the members ParseRaw needs and
// skips (while still validating) everything else, so one event costs one allocation for its
// strings instead of a map per object.
type rawScanner struct {
	b     []byte
	i     int
	buf   []byte // decoded values, referenced by spans
	depth int
	err   error
}

// target is one element of the target array.
type rawTarget struct{ id, typ, login, name span }

// rawFields are the spans ParseRaw collects.
type rawFields struct {
	uuid, typ, published                      span
	actorID, actorType, actorLogin, actorName span
	ip, ua, session, result, reason, factor   span
	targetID, targetLogin, app, authenticator span
	haveType                                  bool
	// The per-sequence signals (issue 12).
	txn, behaviors, logOnly, dtHash, risk span
	country, city, asn, isp, proxy        span
}

// ParseRaw extracts the engine's fields from one Okta System Log event as JSON (the _raw of a
// Splunk event) into e, leaving e.Ref alone. e.Time is 0 when published is absent or not a
// timestamp; the caller may then use Splunk's _time. Errors wrap ErrNotJSON or ErrNotOkta.
func ParseRaw(raw []byte, e *Event) error {
	s := rawScanner{b: raw, buf: make([]byte, 0, 512)}
	var f rawFields
	s.ws()
	if !s.eat('{') {
		return fmt.Errorf("session: raw event: want '{' at byte %d: %w", s.i, ErrNotJSON)
	}
	s.object(func(key []byte) {
		switch string(key) {
		case "uuid":
			f.uuid = s.scalar()
		case "eventType":
			f.typ = s.scalar()
			f.haveType = f.typ.b > f.typ.a
		case "published":
			f.published = s.scalar()
		case "actor":
			s.objectOrNull(func(k []byte) {
				switch string(k) {
				case "id":
					f.actorID = s.scalar()
				case "type":
					f.actorType = s.scalar()
				case "alternateId":
					f.actorLogin = s.scalar()
				case "displayName":
					f.actorName = s.scalar()
				default:
					s.skip()
				}
			})
		case "target":
			s.targets(&f)
		case "client":
			s.objectOrNull(func(k []byte) {
				switch string(k) {
				case "ipAddress":
					f.ip = s.scalar()
				case "userAgent":
					s.member("rawUserAgent", &f.ua)
				case "geographicalContext":
					s.objectOrNull(func(k []byte) {
						switch string(k) {
						case "country":
							f.country = s.scalar()
						case "city":
							f.city = s.scalar()
						default:
							s.skip()
						}
					})
				default:
					s.skip()
				}
			})
		case "authenticationContext":
			s.member("externalSessionId", &f.session)
		case "outcome":
			s.objectOrNull(func(k []byte) {
				switch string(k) {
				case "result":
					f.result = s.scalar()
				case "reason":
					f.reason = s.scalar()
				default:
					s.skip()
				}
			})
		case "debugContext":
			s.objectOrNull(func(k []byte) {
				if string(k) == "debugData" {
					s.debugData(&f)
					return
				}
				s.skip()
			})
		case "transaction":
			s.member("id", &f.txn)
		case "securityContext":
			s.objectOrNull(func(k []byte) {
				switch string(k) {
				case "asNumber":
					f.asn = s.scalar()
				case "isp":
					f.isp = s.scalar()
				case "isProxy":
					f.proxy = s.scalar()
				default:
					s.skip()
				}
			})
		default:
			s.skip()
		}
	})
	if s.err == nil {
		s.ws()
		if s.i != len(s.b) {
			s.fail("trailing data after the object")
		}
	}
	if s.err != nil {
		return s.err
	}
	if !f.haveType {
		return fmt.Errorf("session: raw event: %w", ErrNotOkta)
	}
	f.signals(&s)
	str := string(s.buf)
	get := func(sp span) string { return clean(str[sp.a:sp.b]) }
	ref := e.Ref
	*e = Event{
		UUID: get(f.uuid), Type: get(f.typ),
		ActorID: get(f.actorID), ActorType: get(f.actorType), ActorLogin: get(f.actorLogin), ActorName: get(f.actorName),
		TargetID: get(f.targetID), TargetLogin: get(f.targetLogin), App: get(f.app),
		IP: get(f.ip), UserAgent: get(f.ua), SessionID: get(f.session),
		Result: get(f.result), Reason: get(f.reason), Factor: get(f.factor),
		TransactionID: get(f.txn), Behaviors: get(f.behaviors), DTHash: get(f.dtHash),
		Risk: RiskLevel(get(f.risk)), Country: get(f.country), City: get(f.city),
		ASN: get(f.asn), ISP: get(f.isp), Proxy: Proxy(get(f.proxy)),
		Ref: ref,
	}
	if e.Factor == "" {
		e.Factor = get(f.authenticator)
	}
	if p := get(f.published); p != "" {
		if t, err := parsePublished(p); err == nil {
			e.Time = t
		}
	}
	return nil
}

// debugData reads debugContext.debugData: the factor and the signals. behaviors and
// logOnlySecurityData are kept whether Okta logs them as a string or as JSON.
func (s *rawScanner) debugData(f *rawFields) {
	s.objectOrNull(func(k []byte) {
		switch string(k) {
		case "factor":
			f.factor = s.scalar()
		case "behaviors":
			f.behaviors = s.text()
		case "logOnlySecurityData":
			f.logOnly = s.text()
		case "risk":
			f.risk = s.text()
		case "dtHash":
			f.dtHash = s.scalar()
		default:
			s.skip()
		}
	})
}

// signals normalizes the behaviors (into new bytes of s.buf) and takes the risk and the
// behaviors from logOnlySecurityData when debugData has none: absent, null, blank, or a
// number or boolean, which Okta never logs there.
func (f *rawFields) signals(s *rawScanner) {
	if s.blank(f.behaviors) {
		f.behaviors = f.logOnly
	}
	if s.blank(f.risk) {
		f.risk = f.logOnly
	}
	if f.behaviors != (span{}) {
		a := int32(len(s.buf))
		// A view, not a copy: AppendBehaviors writes only past the bytes it reads, and a
		// buffer it outgrows stays as it was.
		s.buf = AppendBehaviors(s.buf, view(s.buf[f.behaviors.a:f.behaviors.b]))
		f.behaviors = span{a, int32(len(s.buf))}
	}
}

// blank reports whether a span holds nothing but white space.
func (s *rawScanner) blank(v span) bool {
	return len(bytes.TrimSpace(s.buf[v.a:v.b])) == 0
}

// text reads a value as text: a string decoded, an object or array as its JSON. A number
// or boolean is no list of behaviors Okta writes, so it reads as none.
func (s *rawScanner) text() span {
	s.ws()
	if s.i < len(s.b) && (s.b[s.i] == '{' || s.b[s.i] == '[') {
		start := s.i
		s.skip()
		a := int32(len(s.buf))
		s.buf = append(s.buf, s.b[start:s.i]...)
		return span{a, int32(len(s.buf))}
	}
	if s.i < len(s.b) && s.b[s.i] == '"' {
		return s.str()
	}
	s.skip()
	return span{}
}

// isAuthenticator reports whether a target type names the factor used.
func isAuthenticator(t string) bool {
	return t == "AuthenticatorEnrollment" || t == "Authenticator" || t == "Factor"
}

// targets reads the target array, keeping the first User, AppInstance and authenticator.
func (s *rawScanner) targets(f *rawFields) {
	s.ws()
	if s.literal("null") {
		return
	}
	if !s.eat('[') {
		s.skip() // not an array: tolerated and ignored, like any other odd value
		return
	}
	s.elements(func() {
		var t rawTarget
		s.objectOrNull(func(k []byte) {
			switch string(k) {
			case "id":
				t.id = s.scalar()
			case "type":
				t.typ = s.scalar()
			case "alternateId":
				t.login = s.scalar()
			case "displayName":
				t.name = s.scalar()
			default:
				s.skip()
			}
		})
		switch typ := string(s.buf[t.typ.a:t.typ.b]); {
		case typ == "User" && f.targetID == (span{}) && !isNone(string(s.buf[t.id.a:t.id.b])):
			f.targetID, f.targetLogin = t.id, t.login
		case typ == "AppInstance" && f.app == (span{}):
			f.app = t.name
		case isAuthenticator(typ) && f.authenticator == (span{}):
			f.authenticator = t.name
		}
	})
}

// member reads an object (or null) and decodes only its member named name into dst.
func (s *rawScanner) member(name string, dst *span) {
	s.objectOrNull(func(k []byte) {
		if string(k) == name {
			*dst = s.scalar()
			return
		}
		s.skip()
	})
}

func (s *rawScanner) fail(msg string) {
	if s.err == nil {
		s.err = fmt.Errorf("session: raw event: %s at byte %d: %w", msg, s.i, ErrNotJSON)
	}
}

func (s *rawScanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *rawScanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *rawScanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// objectOrNull reads null or an object, calling member for each key with the scanner placed
// before the value; member must consume the value.
func (s *rawScanner) objectOrNull(member func(key []byte)) {
	s.ws()
	if s.literal("null") {
		return
	}
	if !s.eat('{') {
		s.skip()
		return
	}
	s.object(member)
}

// object reads the members of an object whose '{' was consumed.
func (s *rawScanner) object(member func(key []byte)) {
	if s.depth++; s.depth > maxDepth {
		s.fail("nesting too deep")
		return
	}
	defer func() { s.depth-- }()
	s.ws()
	if s.eat('}') {
		return
	}
	for s.err == nil {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			s.fail("want a member name")
			return
		}
		key := s.key()
		s.ws()
		if !s.eat(':') {
			s.fail("want ':'")
			return
		}
		if s.err != nil {
			return
		}
		member(key)
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat('}') {
			s.fail("want ',' or '}'")
		}
		return
	}
}

// elements reads the elements of an array whose '[' was consumed.
func (s *rawScanner) elements(elem func()) {
	if s.depth++; s.depth > maxDepth {
		s.fail("nesting too deep")
		return
	}
	defer func() { s.depth-- }()
	s.ws()
	if s.eat(']') {
		return
	}
	for s.err == nil {
		elem()
		s.ws()
		if s.eat(',') {
			continue
		}
		if !s.eat(']') {
			s.fail("want ',' or ']'")
		}
		return
	}
}

// key returns a member name, decoded only when it holds escapes.
func (s *rawScanner) key() []byte {
	start := s.i + 1
	for j := start; j < len(s.b); j++ {
		switch c := s.b[j]; {
		case c == '"':
			s.i = j + 1
			return s.b[start:j]
		case c == '\\':
			sp := s.str()
			return s.buf[sp.a:sp.b]
		case c < 0x20:
			s.i = j
			s.fail("control character in string")
			return nil
		}
	}
	s.i = len(s.b)
	s.fail("unterminated string")
	return nil
}

// scalar reads a value the engine keeps: a string is decoded, a number or boolean keeps its
// text, null and containers give no value.
func (s *rawScanner) scalar() span {
	s.ws()
	if s.i >= len(s.b) {
		s.fail("want a value")
		return span{}
	}
	switch c := s.b[s.i]; {
	case c == '"':
		return s.str()
	case c == '-' || (c >= '0' && c <= '9') || c == 't' || c == 'f':
		start := s.i
		s.skip()
		a := int32(len(s.buf))
		s.buf = append(s.buf, s.b[start:s.i]...)
		return span{a, int32(len(s.buf))}
	default:
		s.skip()
		return span{}
	}
}

// str decodes the string at s.i into buf.
func (s *rawScanner) str() span {
	a := int32(len(s.buf))
	j := s.i + 1
	for {
		start := j
		j = plainEnd(s.b, j)
		s.buf = append(s.buf, s.b[start:j]...)
		if j >= len(s.b) {
			s.i = j
			s.fail("unterminated string")
			return span{}
		}
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return span{a, int32(len(s.buf))}
		case '\\':
			n, ok := s.escape(j)
			if !ok {
				s.i = j
				s.fail("bad escape in string")
				return span{}
			}
			j = n
		default:
			s.i = j
			s.fail("control character in string")
			return span{}
		}
	}
}

// escape decodes the escape at b[j] ('\\') into buf and returns the index after it.
func (s *rawScanner) escape(j int) (int, bool) {
	if j+1 >= len(s.b) {
		return 0, false
	}
	switch c := s.b[j+1]; c {
	case '"', '\\', '/':
		s.buf = append(s.buf, c)
	case 'b':
		s.buf = append(s.buf, '\b')
	case 'f':
		s.buf = append(s.buf, '\f')
	case 'n':
		s.buf = append(s.buf, '\n')
	case 'r':
		s.buf = append(s.buf, '\r')
	case 't':
		s.buf = append(s.buf, '\t')
	case 'u':
		r, ok := hex4(s.b, j+2)
		if !ok {
			return 0, false
		}
		n := j + 6
		if utf16.IsSurrogate(r) {
			if r2, ok := hex4(s.b, j+8); ok && s.b[j+6] == '\\' && s.b[j+7] == 'u' {
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r, n = d, j+12
				} else {
					r = utf8.RuneError
				}
			} else {
				r = utf8.RuneError
			}
		}
		s.buf = utf8.AppendRune(s.buf, r)
		return n, true
	default:
		return 0, false
	}
	return j + 2, true
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

// skip consumes and validates one value of any type.
func (s *rawScanner) skip() {
	s.ws()
	if s.i >= len(s.b) {
		s.fail("want a value")
		return
	}
	switch c := s.b[s.i]; {
	case c == '{':
		s.i++
		s.object(func([]byte) { s.skip() })
	case c == '[':
		s.i++
		s.elements(s.skip)
	case c == '"':
		s.skipString()
	case c == 't':
		s.word("true")
	case c == 'f':
		s.word("false")
	case c == 'n':
		s.word("null")
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.b) {
			c := s.b[s.i]
			if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
				s.i++
				continue
			}
			break
		}
		if s.i == start+1 && c == '-' {
			s.fail("bad number")
		}
	default:
		s.fail(fmt.Sprintf("unexpected %q", c))
	}
}

// skipString validates the string at s.i without decoding it.
func (s *rawScanner) skipString() {
	j := s.i + 1
	for {
		j = plainEnd(s.b, j)
		if j >= len(s.b) {
			s.i = j
			s.fail("unterminated string")
			return
		}
		switch s.b[j] {
		case '"':
			s.i = j + 1
			return
		case '\\':
			mark := len(s.buf)
			n, ok := s.escape(j)
			s.buf = s.buf[:mark] // validated, not kept
			if !ok {
				s.i = j
				s.fail("bad escape in string")
				return
			}
			j = n
		default:
			s.i = j
			s.fail("control character in string")
			return
		}
	}
}

// plainEnd returns the index of the first byte from j on that ends a run of plain string
// bytes (a quote, a backslash or a control character), len(b) when there is none. It looks
// at eight bytes at a time: JSON strings are mostly plain.
func plainEnd(b []byte, j int) int {
	const lo, hi = 0x0101010101010101, 0x8080808080808080
	for ; j+8 <= len(b); j += 8 {
		x := uint64(b[j]) | uint64(b[j+1])<<8 | uint64(b[j+2])<<16 | uint64(b[j+3])<<24 |
			uint64(b[j+4])<<32 | uint64(b[j+5])<<40 | uint64(b[j+6])<<48 | uint64(b[j+7])<<56
		q := x ^ (lo * '"')
		bs := x ^ (lo * '\\')
		// (v - lo) &^ v & hi flags zero bytes; (x - 0x20*lo) &^ x & hi flags bytes < 0x20
		// (bytes >= 0x80 have their high bit set in x and are excluded by &^ x).
		if ((q-lo)&^q|(bs-lo)&^bs|(x-lo*0x20)&^x)&hi != 0 {
			break
		}
	}
	for j < len(b) && b[j] != '"' && b[j] != '\\' && b[j] >= 0x20 {
		j++
	}
	return j
}

func (s *rawScanner) word(w string) {
	if !s.literal(w) {
		s.fail("bad literal")
	}
}

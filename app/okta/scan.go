package okta

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxDepth bounds nesting, as encoding/json does, so a hostile body cannot exhaust the stack.
const maxDepth = 10000

// scanner validates JSON in one pass over a byte slice, as strictly as encoding/json (except
// that, like encoding/json, it leaves invalid UTF-8 to the reader of a string), without
// building anything. It is the input's hot path: Okta pages are megabytes of JSON, and
// encoding/json's Decoder reads every byte three times.
type scanner struct {
	b     []byte
	i     int
	depth int
}

// syntaxError is a JSON syntax error at an offset of the body.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return e.msg }

func (s *scanner) eof() error { return io.ErrUnexpectedEOF }

func (s *scanner) invalid(context string) error {
	if s.i >= len(s.b) {
		return s.eof()
	}
	return &syntaxError{msg: fmt.Sprintf("invalid character %s %s", quoteChar(s.b[s.i]), context), offset: s.i}
}

func quoteChar(c byte) string {
	switch {
	case c == '\'':
		return `'\''`
	case c == '"':
		return `'"'`
	case c < 0x20 || c >= 0x7f:
		return fmt.Sprintf("%q", rune(c))
	}
	return "'" + string(c) + "'"
}

func (s *scanner) ws() {
	b, i := s.b, s.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	s.i = i
}

// value skips one JSON value at s.i (after white space).
func (s *scanner) value() error {
	s.ws()
	if s.i >= len(s.b) {
		return s.eof()
	}
	switch c := s.b[s.i]; {
	case c == '{':
		return s.object()
	case c == '[':
		return s.array()
	case c == '"':
		_, err := s.str()
		return err
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return s.invalid("looking for beginning of value")
}

func (s *scanner) nest() error {
	s.depth++
	if s.depth > maxDepth {
		return &syntaxError{msg: "exceeded max depth", offset: s.i}
	}
	return nil
}

func (s *scanner) object() error {
	if err := s.nest(); err != nil {
		return err
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := s.key(); err != nil {
			return err
		}
		if err := s.value(); err != nil {
			return err
		}
		if done, err := s.next('}', "after object key:value pair"); done || err != nil {
			return err
		}
	}
}

// key reads `"name" :` (with white space around) and returns nothing: members are skipped.
func (s *scanner) key() error {
	s.ws()
	if s.i >= len(s.b) {
		return s.eof()
	}
	if s.b[s.i] != '"' {
		return s.invalid("looking for beginning of object key string")
	}
	if _, err := s.str(); err != nil {
		return err
	}
	s.ws()
	if s.i >= len(s.b) {
		return s.eof()
	}
	if s.b[s.i] != ':' {
		return s.invalid("after object key")
	}
	s.i++
	return nil
}

// next reads the ',' or closing byte after a member or element.
func (s *scanner) next(closing byte, context string) (done bool, err error) {
	s.ws()
	if s.i >= len(s.b) {
		return false, s.eof()
	}
	switch s.b[s.i] {
	case ',':
		s.i++
		return false, nil
	case closing:
		s.i++
		s.depth--
		return true, nil
	}
	return false, s.invalid(context)
}

func (s *scanner) array() error {
	if err := s.nest(); err != nil {
		return err
	}
	s.i++ // [
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		s.depth--
		return nil
	}
	for {
		if err := s.value(); err != nil {
			return err
		}
		if done, err := s.next(']', "after array element"); done || err != nil {
			return err
		}
	}
}

// str skips a string at s.i (its opening quote) and reports whether it holds escapes. It
// works on a local index: this loop is most of the input's CPU time.
func (s *scanner) str() (escaped bool, err error) {
	b, i := s.b, s.i+1
	for {
		// Eight bytes at a time while none is a quote, a backslash or a control character.
		for i+8 <= len(b) && !stringSpecial(binary.LittleEndian.Uint64(b[i:i+8])) {
			i += 8
		}
		for i < len(b) && b[i] >= 0x20 && b[i] != '"' && b[i] != '\\' {
			i++
		}
		if i >= len(b) {
			s.i = i
			return escaped, s.eof()
		}
		switch c := b[i]; {
		case c == '"':
			s.i = i + 1
			return escaped, nil
		case c == '\\':
			escaped = true
			s.i = i
			if err := s.escape(); err != nil {
				return escaped, err
			}
			i = s.i
		default: // a control character
			s.i = i
			return escaped, s.invalid("in string literal")
		}
	}
}

func (s *scanner) escape() error {
	s.i++ // backslash
	if s.i >= len(s.b) {
		return s.eof()
	}
	switch s.b[s.i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.i++
		return nil
	case 'u':
		s.i++
		for range 4 {
			if s.i >= len(s.b) {
				return s.eof()
			}
			c := s.b[s.i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return s.invalid("in \\u hexadecimal character escape")
			}
			s.i++
		}
		return nil
	}
	return s.invalid("in string escape code")
}

// stringSpecial reports whether any byte of w is '"', '\\' or below 0x20 (SWAR).
func stringSpecial(w uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	q, bs := w^(ones*'"'), w^(ones*'\\')
	return ((w-ones*0x20)&^w|(q-ones)&^q|(bs-ones)&^bs)&highs != 0
}

func (s *scanner) number() error {
	b := s.b
	if b[s.i] == '-' {
		s.i++
	}
	if s.i >= len(b) {
		return s.eof()
	}
	switch c := b[s.i]; {
	case c == '0':
		s.i++
	case c >= '1' && c <= '9':
		for s.i < len(b) && b[s.i] >= '0' && b[s.i] <= '9' {
			s.i++
		}
	default:
		return s.invalid("in numeric literal")
	}
	if s.i < len(b) && b[s.i] == '.' {
		s.i++
		if err := s.digits(); err != nil {
			return err
		}
	}
	if s.i < len(b) && (b[s.i] == 'e' || b[s.i] == 'E') {
		s.i++
		if s.i < len(b) && (b[s.i] == '+' || b[s.i] == '-') {
			s.i++
		}
		if err := s.digits(); err != nil {
			return err
		}
	}
	return nil
}

func (s *scanner) digits() error {
	if s.i >= len(s.b) {
		return s.eof()
	}
	if c := s.b[s.i]; c < '0' || c > '9' {
		return s.invalid("in numeric literal")
	}
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
	}
	return nil
}

func (s *scanner) literal(word string) error {
	for k := 0; k < len(word); k++ {
		if s.i >= len(s.b) {
			return s.eof()
		}
		if s.b[s.i] != word[k] {
			return s.invalid("in literal " + word + " (expecting " + quoteChar(word[k]) + ")")
		}
		s.i++
	}
	return nil
}

// member is where a top-level member's value lies in the body, and whether it is a string
// with escapes (which needs unquoting).
type member struct {
	start, end int // value bytes, quotes included; end == 0 when absent
	escaped    bool
}

// event skips one array element, an object at s.i, and returns where its top-level uuid and
// published members are. A repeated key counts as its last occurrence, as in encoding/json.
func (s *scanner) event() (uuid, published member, err error) {
	if err := s.nest(); err != nil {
		return uuid, published, err
	}
	s.i++ // {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		s.depth--
		return uuid, published, nil
	}
	for {
		s.ws()
		if s.i >= len(s.b) {
			return uuid, published, s.eof()
		}
		if s.b[s.i] != '"' {
			return uuid, published, s.invalid("looking for beginning of object key string")
		}
		ks := s.i
		kesc, err := s.str()
		if err != nil {
			return uuid, published, err
		}
		name := keyName(s.b[ks:s.i], kesc)
		s.ws()
		if s.i >= len(s.b) {
			return uuid, published, s.eof()
		}
		if s.b[s.i] != ':' {
			return uuid, published, s.invalid("after object key")
		}
		s.i++
		s.ws()
		vs := s.i
		var vesc bool
		if s.i < len(s.b) && s.b[s.i] == '"' {
			vesc, err = s.str()
		} else {
			err = s.value()
		}
		if err != nil {
			return uuid, published, err
		}
		switch name {
		case "uuid":
			uuid = member{vs, s.i, vesc}
		case "published":
			published = member{vs, s.i, vesc}
		}
		if done, err := s.next('}', "after object key:value pair"); done || err != nil {
			return uuid, published, err
		}
	}
}

// keyName returns the key if it is one the event reader wants, else "".
func keyName(quoted []byte, escaped bool) string {
	if !escaped {
		switch string(quoted) {
		case `"uuid"`:
			return "uuid"
		case `"published"`:
			return "published"
		}
		return ""
	}
	var k string
	if json.Unmarshal(quoted, &k) != nil {
		return ""
	}
	return k
}

// text returns a member's string value: "" for absent or null, an error for another type.
func (m member) text(b []byte, name string) (string, error) {
	if m.end == 0 {
		return "", nil
	}
	v := b[m.start:m.end]
	switch {
	case string(v) == "null":
		return "", nil
	case v[0] != '"':
		return "", fmt.Errorf("%s: want a string, got %s", name, clip(string(v), 40))
	case !m.escaped && utf8.Valid(v):
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

var errNotObject = errors.New("not a JSON object")

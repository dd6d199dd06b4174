package okta

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
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
	depth int // containers open around s.i
}

// syntaxError is a JSON syntax error at an offset of the body.
type syntaxError struct {
	msg    string
	offset int
}

func (e *syntaxError) Error() string { return e.msg }

func (s *scanner) invalid(context string) error { return invalidAt(s.b, s.i, context) }

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
	s.i = skipWS(s.b, s.i)
}

// value skips one JSON value at s.i (after white space).
func (s *scanner) value() error {
	i, err := skipValue(s.b, s.i, s.depth)
	s.i = i
	return err
}

func (s *scanner) nest() error {
	s.depth++
	if s.depth > maxDepth {
		return &syntaxError{msg: "exceeded max depth", offset: s.i}
	}
	return nil
}

// next reads the ',' or closing byte after a member or element.
func (s *scanner) next(closing byte, context string) (done bool, err error) {
	s.ws()
	if s.i >= len(s.b) {
		return false, io.ErrUnexpectedEOF
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

// skipValue skips the JSON value that starts at b[i] (after white space), inside depth open
// containers, and returns the index after it. The grammar lives in the control flow of
// skipObject and skipArray, with the index in a local variable: a call per container, not
// per token, and no state to dispatch on. This is most of the input's CPU time. On error the
// index is where the error is.
func skipValue(b []byte, i, depth int) (int, error) {
	c, i, err := tok(b, i)
	if err != nil {
		return i, err
	}
	return skipValueAt(b, i, c, depth)
}

// skipValueAt is skipValue for a value whose first byte c = b[i] is known.
func skipValueAt(b []byte, i int, c byte, depth int) (int, error) {
	switch {
	case c == '"':
		j, ok := plainWord(b, i+1)
		if ok {
			return j, nil
		}
		j, _, err := strFrom(b, j)
		return j, err
	case c == '{':
		return skipObject(b, i, depth)
	case c == '[':
		return skipArray(b, i, depth)
	case c == '-' || c >= '0' && c <= '9':
		return number(b, i)
	// A literal is checked a word at a time (Okta's events hold a dozen nulls each); literal
	// reports where one goes wrong.
	case c == 't':
		if i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:]) == trueWord {
			return i + 4, nil
		}
		return literal(b, i, "true")
	case c == 'f':
		if i+5 <= len(b) && binary.LittleEndian.Uint32(b[i:]) == falsWord && b[i+4] == 'e' {
			return i + 5, nil
		}
		return literal(b, i, "false")
	case c == 'n':
		if i+4 <= len(b) && binary.LittleEndian.Uint32(b[i:]) == nullWord {
			return i + 4, nil
		}
		return literal(b, i, "null")
	}
	return i, invalidAt(b, i, "looking for beginning of value")
}

// skipObject skips the object whose '{' is b[i].
func skipObject(b []byte, i, depth int) (int, error) {
	if depth >= maxDepth {
		return i, &syntaxError{msg: "exceeded max depth", offset: i}
	}
	c, i, err := tok(b, i+1)
	if err != nil {
		return i, err
	}
	if c == '}' {
		return i + 1, nil
	}
	for {
		if c != '"' {
			return i, invalidAt(b, i, "looking for beginning of object key string")
		}
		j, ok := plainWord(b, i+1)
		if !ok {
			if j, ok = plainWord(b, j); !ok {
				if j, _, err = strFrom(b, j); err != nil {
					return j, err
				}
			}
		}
		i = j
		if i+1 < len(b) && b[i] == ':' && b[i+1] > ' ' {
			c, i = b[i+1], i+1 // compact JSON: the value follows the colon
		} else {
			if c, i, err = tok(b, i); err != nil {
				return i, err
			}
			if c != ':' {
				return i, invalidAt(b, i, "after object key")
			}
			if c, i, err = tok(b, i+1); err != nil {
				return i, err
			}
		}
		if c == '"' {
			// Most values are strings: skipped here, without a call to skipValueAt. This is
			// the key's code again on purpose: a shared strEnd does not inline and cost 4.7%
			// more instructions per page decoded (callgrind, BenchmarkDecodePage).
			j, ok := plainWord(b, i+1)
			if !ok {
				if j, ok = plainWord(b, j); !ok {
					if j, _, err = strFrom(b, j); err != nil {
						return j, err
					}
				}
			}
			i = j
		} else if c == '{' {
			// A nested object, the next most common value: one call, not two.
			if i, err = skipObject(b, i, depth+1); err != nil {
				return i, err
			}
		} else if i, err = skipValueAt(b, i, c, depth+1); err != nil {
			return i, err
		}
		if i+1 < len(b) && b[i] == ',' && b[i+1] == '"' {
			c, i = '"', i+1 // compact JSON: the next key follows the comma
			continue
		}
		if c, i, err = tok(b, i); err != nil {
			return i, err
		}
		switch c {
		case ',':
			if c, i, err = tok(b, i+1); err != nil {
				return i, err
			}
			continue
		case '}':
			return i + 1, nil
		}
		return i, invalidAt(b, i, "after object key:value pair")
	}
}

// skipArray skips the array whose '[' is b[i]. Its loop repeats skipObject's tail on
// purpose: a shared helper does not inline and costs 6% more instructions per page.
func skipArray(b []byte, i, depth int) (int, error) {
	if depth >= maxDepth {
		return i, &syntaxError{msg: "exceeded max depth", offset: i}
	}
	c, i, err := tok(b, i+1)
	if err != nil {
		return i, err
	}
	if c == ']' {
		return i + 1, nil
	}
	for {
		if i, err = skipValueAt(b, i, c, depth+1); err != nil {
			return i, err
		}
		if c, i, err = tok(b, i); err != nil {
			return i, err
		}
		switch c {
		case ',':
			if c, i, err = tok(b, i+1); err != nil {
				return i, err
			}
			continue
		case ']':
			return i + 1, nil
		}
		return i, invalidAt(b, i, "after array element")
	}
}

// tok returns the first byte from b[i] on that is not white space, and its index; compact
// JSON, the usual case, takes the inlined first test.
func tok(b []byte, i int) (byte, int, error) {
	if i < len(b) && b[i] > ' ' {
		return b[i], i, nil
	}
	i = skipWS(b, i)
	if i >= len(b) {
		return 0, i, io.ErrUnexpectedEOF
	}
	return b[i], i, nil
}

// invalidAt is the syntax error for the byte at b[i], or io.ErrUnexpectedEOF past the end.
func invalidAt(b []byte, i int, context string) error {
	if i >= len(b) {
		return io.ErrUnexpectedEOF
	}
	return &syntaxError{msg: fmt.Sprintf("invalid character %s %s", quoteChar(b[i]), context), offset: i}
}

// plainWord looks at the eight bytes of string content from j: when the first quote,
// backslash or control character among them is a quote, it returns the index after it and
// true; otherwise the index of that byte (j+8 when there is none) and false, and strFrom, or
// plainWord again, goes on from there. Called at a string's first content byte, then once
// more, it ends most of Okta's keys and values (up to fifteen bytes) without a call: it is
// small enough to inline.
func plainWord(b []byte, j int) (end int, ok bool) {
	end = j
	if j+8 <= len(b) {
		m := stringSpecial(binary.LittleEndian.Uint64(b[j:]))
		end += bits.TrailingZeros64(m) >> 3 // j+8 when m is 0
		if m != 0 && b[end] == '"' {
			return end + 1, true
		}
	}
	return end, false
}

// str skips the string whose opening quote is b[i] and returns the index after it and
// whether it holds escapes.
func str(b []byte, i int) (int, bool, error) {
	return strFrom(b, i+1)
}

// strFrom skips the rest of a string whose content goes on at b[i].
func strFrom(b []byte, i int) (int, bool, error) {
	escaped := false
	for {
		i = plainRun(b, i)
		if i >= len(b) {
			return i, escaped, io.ErrUnexpectedEOF
		}
		switch b[i] {
		case '"':
			return i + 1, escaped, nil
		case '\\':
			escaped = true
			j, err := escape(b, i)
			if err != nil {
				return j, escaped, err
			}
			i = j
		default: // a control character
			return i, escaped, invalidAt(b, i, "in string literal")
		}
	}
}

// plainRun returns the index of the first byte from i on that is a quote, a backslash or a
// control character, or len(b). It reads eight bytes at a time and jumps straight to the
// byte that stopped it; reslicing by constants lets the compiler drop the bounds checks.
func plainRun(b []byte, i int) int {
	t := b[min(i, len(b)):]
	for len(t) >= 16 {
		if m := stringSpecial(binary.LittleEndian.Uint64(t[0:8])); m != 0 {
			return len(b) - len(t) + bits.TrailingZeros64(m)>>3
		}
		if m := stringSpecial(binary.LittleEndian.Uint64(t[8:16])); m != 0 {
			return len(b) - len(t) + 8 + bits.TrailingZeros64(m)>>3
		}
		t = t[16:]
	}
	if len(t) >= 8 {
		if m := stringSpecial(binary.LittleEndian.Uint64(t[0:8])); m != 0 {
			return len(b) - len(t) + bits.TrailingZeros64(m)>>3
		}
		t = t[8:]
	}
	for k, c := range t {
		if c < 0x20 || c == '"' || c == '\\' {
			return len(b) - len(t) + k
		}
	}
	return len(b)
}

// escape skips the escape sequence whose backslash is b[i].
func escape(b []byte, i int) (int, error) {
	i++
	if i >= len(b) {
		return i, io.ErrUnexpectedEOF
	}
	switch b[i] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return i + 1, nil
	case 'u':
		i++
		for range 4 {
			if i >= len(b) {
				return i, io.ErrUnexpectedEOF
			}
			c := b[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return i, invalidAt(b, i, "in \\u hexadecimal character escape")
			}
			i++
		}
		return i, nil
	}
	return i, invalidAt(b, i, "in string escape code")
}

// stringSpecial returns a mask with the high bit set in the lowest byte of w that is '"',
// '\\' or below 0x20 (SWAR). Bytes above that one may be flagged falsely (borrows), so only
// the lowest flag, found with bits.TrailingZeros64, is exact; 0 means none of the eight is.
func stringSpecial(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// Each term's high bit is set where a byte is below its constant; a byte of 0x80 or more
	// never is, and XOR with an ASCII constant keeps the high bit, hence one &^ w for all.
	q, bs := w^(ones*'"'), w^(ones*'\\')
	return ((w - ones*0x20) | (q - ones) | (bs - ones)) &^ w & highs
}

// number skips the number that starts at b[i].
func number(b []byte, i int) (int, error) {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return i, io.ErrUnexpectedEOF
	}
	switch c := b[i]; {
	case c == '0':
		i++
	case c >= '1' && c <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, invalidAt(b, i, "in numeric literal")
	}
	var err error
	if i < len(b) && b[i] == '.' {
		if i, err = decimals(b, i+1); err != nil {
			return i, err
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i, err = decimals(b, i); err != nil {
			return i, err
		}
	}
	return i, nil
}

// decimals skips one or more decimal digits from b[i].
func decimals(b []byte, i int) (int, error) {
	if i >= len(b) {
		return i, io.ErrUnexpectedEOF
	}
	if c := b[i]; c < '0' || c > '9' {
		return i, invalidAt(b, i, "in numeric literal")
	}
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
	}
	return i, nil
}

// The first four bytes of true, false and null, as a little-endian word.
const (
	trueWord = 't' | 'r'<<8 | 'u'<<16 | 'e'<<24
	falsWord = 'f' | 'a'<<8 | 'l'<<16 | 's'<<24
	nullWord = 'n' | 'u'<<8 | 'l'<<16 | 'l'<<24
)

// literal skips word (true, false or null), which should start at b[i].
func literal(b []byte, i int, word string) (int, error) {
	for k := 0; k < len(word); k++ {
		if i >= len(b) {
			return i, io.ErrUnexpectedEOF
		}
		if b[i] != word[k] {
			return i, invalidAt(b, i, "in literal "+word+" (expecting "+quoteChar(word[k])+")")
		}
		i++
	}
	return i, nil
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
	uuid, published, s.i, err = members(s.b, s.i+1, s.depth)
	if err == nil {
		s.depth--
	}
	return uuid, published, err
}

// members is event's loop over the members of the object whose '{' is just before b[i], inside
// depth open containers; end is the index after the object, or where an error is. The index
// lives in a local variable, not the scanner, so that it can stay in a register.
func members(b []byte, i, depth int) (uuid, published member, end int, err error) {
	i = skipWS(b, i)
	if i < len(b) && b[i] == '}' {
		return uuid, published, i + 1, nil
	}
	for {
		i = skipWS(b, i)
		if i >= len(b) || b[i] != '"' {
			return uuid, published, i, invalidAt(b, i, "looking for beginning of object key string")
		}
		ks := i
		var kesc bool
		j, ok := plainWord(b, i+1)
		if !ok {
			if j, kesc, err = strFrom(b, j); err != nil {
				return uuid, published, j, err
			}
		}
		i = j
		name := keyName(b[ks:i], kesc)
		i = skipWS(b, i)
		if i >= len(b) || b[i] != ':' {
			return uuid, published, i, invalidAt(b, i, "after object key")
		}
		i = skipWS(b, i+1)
		vs := i
		var vesc bool
		switch {
		case i >= len(b):
			return uuid, published, i, io.ErrUnexpectedEOF
		case b[i] == '"':
			i, vesc, err = str(b, i)
		default:
			i, err = skipValueAt(b, i, b[i], depth)
		}
		if err != nil {
			return uuid, published, i, err
		}
		switch name {
		case "uuid":
			uuid = member{vs, i, vesc}
		case "published":
			published = member{vs, i, vesc}
		}
		i = skipWS(b, i)
		if i >= len(b) {
			return uuid, published, i, io.ErrUnexpectedEOF
		}
		switch b[i] {
		case ',':
			i++
			continue
		case '}':
			return uuid, published, i + 1, nil
		}
		return uuid, published, i, invalidAt(b, i, "after object key:value pair")
	}
}

// skipWS returns the index of the first byte from i on that is not JSON white space.
func skipWS(b []byte, i int) int {
	for i < len(b) && b[i] <= ' ' && (b[i] == ' ' || b[i] == '\n' || b[i] == '\r' || b[i] == '\t') {
		i++
	}
	return i
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

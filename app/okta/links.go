package okta

import (
	"net/http"
	"strings"
)

// ParseLinks returns the targets of the "next" and "self" links in the Link headers of a
// response (RFC 8288). Okta sends each link as its own header line; links joined by commas in
// one line, quoted or unquoted rel values and rel lists ("next self") are read too. The first
// link of each relation wins; a malformed link is skipped. Targets are returned as written.
func ParseLinks(h http.Header) (next, self string) {
	for _, line := range h.Values("Link") {
		for s := line; ; {
			var target string
			var rels []string
			var ok bool
			target, rels, s, ok = nextLink(s)
			if ok {
				for _, r := range rels {
					switch {
					case strings.EqualFold(r, "next") && next == "":
						next = target
					case strings.EqualFold(r, "self") && self == "":
						self = target
					}
				}
			}
			if s == "" {
				break
			}
		}
	}
	return next, self
}

// nextLink reads one link-value from s: `<target>; param=value; rel="a b"`, up to the comma
// that ends it, and returns what follows that comma. ok is false when the link is malformed;
// rest then starts after the next comma outside quotes and angle brackets.
func nextLink(s string) (target string, rels []string, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t,")
	if s == "" {
		return "", nil, "", false
	}
	if s[0] != '<' {
		return "", nil, skipLink(s), false
	}
	end := strings.IndexByte(s, '>')
	if end < 0 {
		return "", nil, "", false
	}
	target = strings.TrimSpace(s[1:end])
	s = s[end+1:]
	ok = true
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return target, rels, "", ok
		}
		switch s[0] {
		case ',':
			return target, rels, s[1:], ok
		case ';':
			s = s[1:]
		default:
			return "", nil, skipLink(s), false
		}
		var name, value string
		name, value, s, ok = param(s)
		if !ok {
			return "", nil, skipLink(s), false
		}
		if strings.EqualFold(name, "rel") && rels == nil {
			rels = strings.Fields(value)
			if rels == nil {
				rels = []string{}
			}
		}
	}
}

// param reads `name[=value]` or `name="quoted value"` after a ';'.
func param(s string) (name, value, rest string, ok bool) {
	s = strings.TrimLeft(s, " \t")
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	if i == 0 {
		return "", "", s, false
	}
	name, s = s[:i], strings.TrimLeft(s[i:], " \t")
	if s == "" || s[0] != '=' {
		return name, "", s, true
	}
	s = strings.TrimLeft(s[1:], " \t")
	if s != "" && s[0] == '"' {
		var b strings.Builder
		for i := 1; i < len(s); i++ {
			switch c := s[i]; c {
			case '\\':
				if i+1 < len(s) {
					i++
					b.WriteByte(s[i])
				}
			case '"':
				return name, b.String(), s[i+1:], true
			default:
				b.WriteByte(c)
			}
		}
		return "", "", "", false // unterminated quote
	}
	// Unquoted values should be tokens; anything up to the next separator is taken, as
	// lenient parsers do, so that type=application/json does not spoil the link.
	i = 0
	for i < len(s) && strings.IndexByte(";, \t", s[i]) < 0 {
		i++
	}
	return name, s[:i], s[i:], true
}

// skipLink returns what follows the next comma of s that is outside quotes and <...>.
func skipLink(s string) string {
	inQuote, inAngle := false, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"' && !inAngle:
			inQuote = !inQuote
		case c == '<' && !inQuote:
			inAngle = true
		case c == '>' && !inQuote:
			inAngle = false
		case c == ',' && !inQuote && !inAngle:
			return s[i+1:]
		}
	}
	return ""
}

// isTokenChar reports whether c may appear in an RFC 7230 token.
func isTokenChar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

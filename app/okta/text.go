package okta

import (
	"bytes"
	"unicode/utf8"
)

// The text rule: every sink (the modular-input XML stream, NDJSON, HEC, SCS) gets an event's
// bytes exactly as Okta sent them, with two exceptions that only a broken answer can hold, so
// that all of them write the same bytes and each one's format can carry them:
//
//   - a byte that does not belong to a valid UTF-8 sequence (Go's utf8.DecodeRune: a stray
//     continuation byte, a cut sequence, an overlong form, an encoded surrogate) becomes
//     U+FFFD. JSON text must be UTF-8 (RFC 8259 section 8.1), XML 1.0 cannot carry such bytes at
//     all and Splunk indexes _raw as UTF-8; no escape could keep the byte, so the replacement
//     character marks where it was, as Go and Splunk's own UTF-8 handling do.
//   - the noncharacters U+FFFE and U+FFFF, valid UTF-8 and valid in JSON strings but not
//     XML 1.0 characters, become the JSON escapes \ufffe and \uffff: the same JSON value
//     (spath and KV_MODE=json read the same string), in bytes every sink can carry.
//
// Other characters pass unchanged, control characters included: raw ones cannot occur in a
// page the scanner accepted (JSON forbids them in strings), and the XML stream writes \t, \n
// and \r as character references.

// mendText applies the text rule to the events of body, giving each changed event its own
// bytes, and returns the events it changed. A page that is valid UTF-8 without the byte 0xEF
// (the lead byte of U+FFFE and U+FFFF) is left alone after two fast passes.
func mendText(events []Event, body []byte) []int {
	if utf8.Valid(body) && bytes.IndexByte(body, 0xef) < 0 {
		return nil
	}
	var changed []int
	for i := range events {
		if raw, ok := mend(events[i].Raw); ok {
			events[i].Raw = raw
			changed = append(changed, i)
		}
	}
	return changed
}

// mend returns raw with the text rule applied, and whether that changed it; an unchanged raw
// is returned as is.
func mend(raw []byte) ([]byte, bool) {
	var out []byte
	start := 0
	for i := 0; i < len(raw); {
		if raw[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRune(raw[i:])
		var rep string
		switch {
		case r == utf8.RuneError && size == 1:
			rep = "\uFFFD"
		case r == 0xFFFE:
			rep = `\ufffe`
		case r == 0xFFFF:
			rep = `\uffff`
		default:
			i += size
			continue
		}
		if out == nil {
			out = make([]byte, 0, len(raw)+16)
		}
		out = append(out, raw[start:i]...)
		out = append(out, rep...)
		i += size
		start = i
	}
	if out == nil {
		return raw, false
	}
	out = append(out, raw[start:]...)
	return out[:len(out):len(out)], true
}

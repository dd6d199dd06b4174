package okta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"
)

// errMalformed is returned by the member scanner for input that is not a JSON object; the
// decoder validates each element first, so it means a bug rather than bad data.
var errMalformed = errors.New("malformed JSON object")

// eventFields returns the string values of the top-level "uuid" and "published" members of
// raw, an object the json.Decoder has already validated ("" when absent or null). It walks the
// object once without building anything: decoding the whole event with json.Unmarshal costs
// two more passes over every byte. Keys match exactly (encoding/json would also take "UUID");
// a repeated key counts as its last occurrence, as in encoding/json.
func eventFields(raw []byte) (uuid, published string, err error) {
	i := skipSpace(raw, 0)
	if i >= len(raw) || raw[i] != '{' {
		return "", "", errors.New("not a JSON object")
	}
	i++
	for {
		i = skipSpace(raw, i)
		if i >= len(raw) {
			return "", "", errMalformed
		}
		switch raw[i] {
		case '}':
			return uuid, published, nil
		case ',':
			i++
			continue
		case '"':
		default:
			return "", "", errMalformed
		}
		kEnd, ok := skipString(raw, i)
		if !ok {
			return "", "", errMalformed
		}
		key := raw[i:kEnd]
		i = skipSpace(raw, kEnd)
		if i >= len(raw) || raw[i] != ':' {
			return "", "", errMalformed
		}
		i = skipSpace(raw, i+1)
		vEnd, ok := skipValue(raw, i)
		if !ok {
			return "", "", errMalformed
		}
		val := raw[i:vEnd]
		i = vEnd
		var dst *string
		var name string
		switch {
		case keyIs(key, "uuid"):
			dst, name = &uuid, "uuid"
		case keyIs(key, "published"):
			dst, name = &published, "published"
		default:
			continue
		}
		s, err := stringValue(val)
		if err != nil {
			return "", "", fmt.Errorf("%s: %w", name, err)
		}
		*dst = s
	}
}

// keyIs compares a quoted JSON key with name; a key with escapes is decoded first.
func keyIs(quoted []byte, name string) bool {
	if bytes.IndexByte(quoted, '\\') < 0 {
		return len(quoted) == len(name)+2 && string(quoted[1:len(quoted)-1]) == name
	}
	var k string
	return json.Unmarshal(quoted, &k) == nil && k == name
}

// stringValue is the value of a JSON string ("" for null).
func stringValue(val []byte) (string, error) {
	switch {
	case string(val) == "null":
		return "", nil
	case len(val) < 2 || val[0] != '"':
		return "", fmt.Errorf("want a string, got %s", clip(string(val), 20))
	case bytes.IndexByte(val, '\\') < 0 && utf8.Valid(val):
		return string(val[1 : len(val)-1]), nil
	}
	// Escapes, or invalid UTF-8 that encoding/json turns into U+FFFD.
	var s string
	if err := json.Unmarshal(val, &s); err != nil {
		return "", err
	}
	return s, nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string that starts at b[i] == '"'.
func skipString(b []byte, i int) (int, bool) {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1, true
		}
	}
	return 0, false
}

// skipValue returns the index after the value that starts at b[i].
func skipValue(b []byte, i int) (int, bool) {
	if i >= len(b) {
		return 0, false
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				end, ok := skipString(b, i)
				if !ok {
					return 0, false
				}
				i = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, true
				}
			}
		}
		return 0, false
	}
	start := i
	for i < len(b) && b[i] != ',' && b[i] != '}' && b[i] != ']' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' && b[i] != '\r' {
		i++
	}
	return i, i > start
}

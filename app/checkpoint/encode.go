package checkpoint

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// encode returns cp as JSON, byte for byte what json.Marshal writes. The input saves a
// checkpoint after every page, with the uuids of the last two pages in it (some 70 KB), and
// encoding/json's per-byte string escaper made that a measurable share of the input's CPU;
// uuids are plain ASCII and are copied as they are.
func encode(cp *Checkpoint) ([]byte, error) {
	b := make([]byte, 0, 512+len(cp.Seen)*(len(cp.LastUUID)+3))
	b = append(b, `{"version":`...)
	b = strconv.AppendInt(b, int64(cp.Version), 10)
	b = appendField(b, "stanza", cp.Stanza, false)
	b = appendField(b, "org_url", cp.OrgURL, false)
	b = appendField(b, "start_date", cp.StartDate, true)
	b = appendField(b, "filter", cp.Filter, true)
	b = appendField(b, "q", cp.Q, true)
	b = appendField(b, "next_url", cp.NextURL, false)
	b = appendField(b, "last_published", cp.LastPublished, true)
	b = appendField(b, "last_uuid", cp.LastUUID, true)
	if len(cp.Seen) > 0 {
		b = append(b, `,"seen":[`...)
		for i, s := range cp.Seen {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, s)
		}
		b = append(b, ']')
	}
	b = append(b, `,"events":`...)
	b = strconv.AppendInt(b, cp.Events, 10)
	b = append(b, `,"updated_at":`...)
	t, err := cp.UpdatedAt.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("updated_at: %w", err)
	}
	b = append(b, t...)
	return append(b, '}'), nil
}

func appendField(b []byte, name, value string, omitEmpty bool) []byte {
	if omitEmpty && value == "" {
		return b
	}
	b = append(b, `,"`...)
	b = append(b, name...)
	b = append(b, `":`...)
	return appendString(b, value)
}

// appendString writes s as a JSON string: directly when every byte is printable ASCII that
// encoding/json leaves alone, else through encoding/json (which escapes <, > and & too).
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if !plainJSON[s[i]] {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainJSON marks the bytes encoding/json writes as they are inside a string.
var plainJSON = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\' && c != '<' && c != '>' && c != '&'
	}
	return t
}()

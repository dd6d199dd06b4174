package backfill

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Known says which events are already in the index, by uuid.
type Known interface {
	Has(uuid string) bool
}

// KnownNone knows of no indexed event: with it a backfill skips nothing. It is for when
// splunkd cannot be asked (standalone runs, no credentials); Run logs a warning when given it.
type KnownNone struct{}

// Has reports false.
func (KnownNone) Has(string) bool { return false }

// Exporter runs a search over [earliest, latest) and calls fn once per result row with its
// fields; splunkd's search/jobs/export endpoint does this (app/splunkd implements it).
// Preview rows may be passed too: KnownFromExport keeps the union of all rows.
type Exporter interface {
	Export(ctx context.Context, search string, earliest, latest time.Time, fn func(fields map[string]string) error) error
}

// ExportMargin widens the export's time range on both sides. Events are indexed with _time =
// published (the input sets it), so the range itself would do; the margin covers events
// indexed by other tools or with a timestamp Splunk re-read (an offset or zone read wrongly,
// up to an hour's drift), at the cost of listing an hour's more uuids on each side.
const ExportMargin = time.Hour

// DefaultSourcetype is the sourcetype the input writes.
const DefaultSourcetype = "OktaIM2:log"

// ErrSearchArg is wrapped by the errors of ExportSearch for an index or sourcetype that
// cannot be put in a search safely.
var ErrSearchArg = errors.New("not usable in a search")

// ExportSearch is the search that lists the distinct uuids of the events of index and
// sourcetype (default DefaultSourcetype):
//
//	search index="okta" sourcetype="OktaIM2:log" | stats count by uuid | fields uuid
//
// uuid is a search-time field (KV_MODE=json), so tstats cannot see it; stats runs on the
// indexers and sends back one short row per distinct uuid instead of every event's _raw, and
// events indexed twice already collapse into one row.
func ExportSearch(index, sourcetype string) (string, error) {
	if sourcetype == "" {
		sourcetype = DefaultSourcetype
	}
	if err := checkIndex(index); err != nil {
		return "", err
	}
	st, err := quote("sourcetype", sourcetype)
	if err != nil {
		return "", err
	}
	return `search index="` + index + `" sourcetype=` + st + ` | stats count by uuid | fields uuid`, nil
}

// checkIndex accepts Splunk's index names: letters, digits, "_" and "-", not starting with
// "-"; no wildcard, so the search reads the one index asked for.
func checkIndex(index string) error {
	if index == "" {
		return fmt.Errorf("index: %w: is empty", ErrSearchArg)
	}
	if len(index) > 80 {
		return fmt.Errorf("index: %w: longer than 80 characters", ErrSearchArg)
	}
	for i := 0; i < len(index); i++ {
		c := index[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' && i > 0
		if !ok {
			return fmt.Errorf("index: %w: %q is not an index name (letters, digits, _ and -)", ErrSearchArg, clip(index, 80))
		}
	}
	return nil
}

// quote makes v a quoted search term; a line break or control character is refused, as it
// could end the search string.
func quote(field, v string) (string, error) {
	if len(v) > 200 {
		return "", fmt.Errorf("%s: %w: longer than 200 characters", field, ErrSearchArg)
	}
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return "", fmt.Errorf("%s: %w: contains a control character", field, ErrSearchArg)
		}
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`, nil
}

// KnownFromExport asks splunkd, through exporter, for the uuids of the events of index and
// sourcetype published in [since, until), widened by ExportMargin on both sides. It runs one
// search and holds the uuids in memory (about 40 bytes each for Okta's canonical uuids).
func KnownFromExport(ctx context.Context, exporter Exporter, index, sourcetype string, since, until time.Time) (Known, error) {
	search, err := ExportSearch(index, sourcetype)
	if err != nil {
		return nil, fmt.Errorf("backfill: %w", err)
	}
	set := NewUUIDSet()
	err = exporter.Export(ctx, search, since.Add(-ExportMargin), until.Add(ExportMargin), func(fields map[string]string) error {
		if u := fields["uuid"]; u != "" {
			set.Add(u)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("backfill: list the uuids already in index %s: %w", index, err)
	}
	return set, nil
}

// UUIDSet is a Known built from a list of uuids. Okta's uuids in canonical form (36
// characters, lower-case hex and dashes) are held as 16 bytes; any other string as is.
type UUIDSet struct {
	compact map[[16]byte]struct{}
	other   map[string]struct{}
}

// NewUUIDSet returns an empty set.
func NewUUIDSet() *UUIDSet {
	return &UUIDSet{compact: make(map[[16]byte]struct{}), other: make(map[string]struct{})}
}

// Add puts uuid in the set.
func (s *UUIDSet) Add(uuid string) {
	if k, ok := compactUUID(uuid); ok {
		s.compact[k] = struct{}{}
		return
	}
	s.other[strings.Clone(uuid)] = struct{}{}
}

// Has reports whether uuid was added.
func (s *UUIDSet) Has(uuid string) bool {
	if k, ok := compactUUID(uuid); ok {
		_, found := s.compact[k]
		return found
	}
	_, found := s.other[uuid]
	return found
}

// Len is the number of distinct uuids in the set.
func (s *UUIDSet) Len() int { return len(s.compact) + len(s.other) }

// compactUUID packs a canonical lower-case uuid ("8-4-4-4-12" hex digits) into 16 bytes. Only
// that one spelling is packed, so two different strings never share a key.
func compactUUID(s string) ([16]byte, bool) {
	var k [16]byte
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return k, false
	}
	n := 0 // nibbles written
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		d, ok := hexDigit(s[i])
		if !ok {
			return k, false
		}
		k[n/2] |= d << (4 * (1 - n%2))
		n++
	}
	return k, true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// clip shortens outside input quoted in an error.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

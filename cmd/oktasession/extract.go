package main

import (
	"errors"
	"strconv"

	"github.com/oktasight/oktasight/app/scp"
	"github.com/oktasight/oktasight/app/session"
)

// okta is the compact Event from one row, or why there is none.
type outcome uint8

const (
	rowEvent   outcome = iota // an Okta event with a time
	rowNotOkta                // neither Okta JSON in _raw nor an eventType field
	rowNoTime                 // an Okta event without published or _time
)

// extractor turns rows into session Events: from the compact fields a map phase wrote, else
// from Okta JSON in _raw, else from Splunk's extracted fields. It keeps per-field scratch
// space and interns repeated values, so a row costs a few small allocations.
type extractor struct {
	r       *scp.RowReader
	raw     int // _raw column, -1 when absent
	time    int // _time column
	osType  int // os_type column of compact records
	typ     int // eventType column
	scratch [][]string
	bytes   [][]byte
	get     func(name string) []string
	// calls remembers, per position in a row's sequence of lookups, the field asked for:
	// FromFields asks for the same names in the same order on every row, so the k-th lookup
	// usually hits calls[k] without a map access.
	calls []lookup
	k     int
}

type lookup struct {
	name  string
	idx   int
	cache *[8]string // recent values of a low-cardinality field, nil for others
}

// lowCardinality lists fields with a handful of distinct values: they are shared through a
// small cache instead of allocated per row. Other values are copied; a map to intern them
// costs more CPU than the allocation it saves.
var lowCardinality = map[string]bool{
	"eventType": true, "os_type": true, "actor.type": true, "os_actor_type": true,
	"outcome.result": true, "os_result": true, "target{}.type": true,
}

func newExtractor() *extractor {
	x := &extractor{}
	x.get = x.values
	return x
}

// bind looks up the columns of a new chunk.
func (x *extractor) bind(r *scp.RowReader) {
	x.r = r
	x.raw, x.time, x.osType, x.typ = r.Index("_raw"), r.Index("_time"), r.Index("os_type"), r.Index("eventType")
	if cap(x.scratch) < r.NumFields() {
		x.scratch = make([][]string, r.NumFields())
	}
	x.scratch = x.scratch[:r.NumFields()]
	x.calls = x.calls[:0]
}

// event fills ev from the reader's current row.
func (x *extractor) event(ev *session.Event) outcome {
	r := x.r
	x.k = 0
	switch {
	case x.osType >= 0 && len(r.Value(x.osType)) > 0:
		if session.FromFields(x.get, ev) != nil {
			return rowNotOkta
		}
	case x.raw >= 0 && len(r.Value(x.raw)) > 0:
		err := session.ParseRaw(r.Value(x.raw), ev)
		if err != nil && (x.typ < 0 || session.FromFields(x.get, ev) != nil) {
			// _raw is not Okta JSON (ParseRaw's ErrNotJSON or ErrNotOkta) and no fields either.
			return rowNotOkta
		}
	default:
		if x.typ < 0 || session.FromFields(x.get, ev) != nil {
			return rowNotOkta
		}
	}
	if ev.Time == 0 && x.time >= 0 {
		ev.Time = epochMillis(r.Value(x.time))
	}
	if ev.Time == 0 {
		return rowNoTime
	}
	return rowEvent
}

// values is the getter session.FromFields reads a row through.
func (x *extractor) values(name string) []string {
	var l lookup
	if x.k < len(x.calls) && x.calls[x.k].name == name {
		l = x.calls[x.k]
	} else {
		l = lookup{name: name, idx: x.r.Index(name)}
		if lowCardinality[name] {
			l.cache = new([8]string)
		}
		if x.k < len(x.calls) {
			x.calls[x.k] = l
		} else if x.k == len(x.calls) {
			x.calls = append(x.calls, l)
		}
	}
	x.k++
	i := l.idx
	if i < 0 {
		return nil
	}
	var err error
	x.bytes, err = x.r.Values(i, x.bytes[:0])
	if err != nil {
		x.bytes = x.bytes[:0]
		if v := x.r.Value(i); len(v) > 0 {
			x.bytes = append(x.bytes, v) // a broken __mv_ cell: fall back to the plain column
		}
	}
	out := x.scratch[i][:0]
	for _, b := range x.bytes {
		out = append(out, str(b, l.cache))
	}
	x.scratch[i] = out
	return out
}

// str returns b as a string, from cache when it holds an equal one.
func str(b []byte, cache *[8]string) string {
	if cache == nil {
		return string(b)
	}
	for i, s := range cache {
		if s == string(b) && (s != "" || i == 0) {
			return s
		}
	}
	s := string(b)
	copy(cache[1:], cache[:7])
	cache[0] = s
	return s
}

var errEpoch = errors.New("not epoch seconds")

// epochMillis reads Splunk's _time (epoch seconds with an optional fraction); 0 when it is not one.
func epochMillis(b []byte) int64 {
	ms, err := parseEpochMillis(b)
	if err != nil {
		return 0
	}
	return ms
}

func parseEpochMillis(b []byte) (int64, error) {
	whole, frac := b, []byte(nil)
	for i, c := range b {
		if c == '.' {
			whole, frac = b[:i], b[i+1:]
			break
		}
	}
	sec := int64(0)
	for _, c := range whole {
		if c < '0' || c > '9' || sec > 1<<40 {
			return 0, errEpoch
		}
		sec = sec*10 + int64(c-'0')
	}
	if len(whole) == 0 || sec == 0 {
		return 0, errEpoch
	}
	ms := int64(0)
	for i := 0; i < 3; i++ {
		ms *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, errEpoch
			}
			ms += int64(c - '0')
		}
	}
	return sec*1000 + ms, nil
}

// formatMillis writes milliseconds as epoch seconds with three decimals, Splunk's _time form.
func formatMillis(dst []byte, ms int64) []byte {
	dst = strconv.AppendInt(dst, ms/1000, 10)
	f := ms % 1000
	return append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
}

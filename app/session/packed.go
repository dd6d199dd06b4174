package session

import (
	"math"
	"strings"
)

// numStrings is how many string fields an Event has.
const numStrings = 15

// packed is a buffered event in a third of the memory of an Event: its strings copied into one
// allocation, so the engine owns them (the caller's Event may point into a buffer it reuses)
// and the events of the time window cost little more than their bytes.
type packed struct {
	time, ref int64
	cls       *class
	data      string
	end       [numStrings]uint32 // end of each string in data, in strs order
}

// strs lists an Event's string fields in packing order.
func strs(e *Event) [numStrings]*string {
	return [numStrings]*string{&e.UUID, &e.Type, &e.ActorID, &e.ActorType, &e.ActorLogin, &e.ActorName,
		&e.TargetID, &e.TargetLogin, &e.App, &e.IP, &e.UserAgent, &e.SessionID, &e.Result, &e.Reason, &e.Factor}
}

// pack copies ev. Strings beyond 4 GiB in total do not occur in Okta events; they are cut.
func pack(ev *Event, c *class) packed {
	p := packed{time: ev.Time, ref: ev.Ref, cls: c}
	src := strs(ev)
	n := 0
	for _, s := range src {
		n += len(*s)
	}
	var b strings.Builder
	b.Grow(min(n, math.MaxUint32))
	for i, s := range src {
		if b.Len()+len(*s) > math.MaxUint32 {
			p.end[i] = uint32(b.Len())
			continue
		}
		b.WriteString(*s)
		p.end[i] = uint32(b.Len())
	}
	p.data = b.String()
	return p
}

// unpack fills ev from p; its strings share p's bytes.
func (p *packed) unpack(ev *Event) {
	ev.Time, ev.Ref = p.time, p.ref
	start := uint32(0)
	for i, s := range strs(ev) {
		*s = p.data[start:p.end[i]]
		start = p.end[i]
	}
}

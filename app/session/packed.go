package session

import (
	"math"
	"unsafe"
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

// arenaBlock is the size of the blocks packed strings are copied into.
const arenaBlock = 64 << 10

// arena hands out immutable copies of bytes from large blocks, so copying an event costs no
// allocation of its own. Bytes once written are never changed, so the strings stay valid for
// as long as anything refers to them, and a block is freed when nothing does.
type arena struct{ block []byte }

// pack copies ev into a. Strings beyond 4 GiB in total do not occur in Okta events; they are cut.
func (a *arena) pack(ev *Event, c *class) packed {
	p := packed{time: ev.Time, ref: ev.Ref, cls: c}
	src := strs(ev)
	n := 0
	for _, s := range src {
		n += len(*s)
	}
	n = min(n, math.MaxUint32)
	if cap(a.block)-len(a.block) < n {
		a.block = make([]byte, 0, max(arenaBlock, n))
	}
	start := len(a.block)
	for i, s := range src {
		if len(a.block)-start+len(*s) > n {
			p.end[i] = uint32(len(a.block) - start)
			continue
		}
		a.block = append(a.block, *s...)
		p.end[i] = uint32(len(a.block) - start)
	}
	p.data = unsafe.String(unsafe.SliceData(a.block[start:]), len(a.block)-start)
	return p
}

// unpack fills ev from p; its strings share p's bytes.
func (p *packed) unpack(ev *Event) {
	d, e := p.data, &p.end
	*ev = Event{Time: p.time, Ref: p.ref,
		UUID: d[:e[0]], Type: d[e[0]:e[1]], ActorID: d[e[1]:e[2]], ActorType: d[e[2]:e[3]],
		ActorLogin: d[e[3]:e[4]], ActorName: d[e[4]:e[5]], TargetID: d[e[5]:e[6]], TargetLogin: d[e[6]:e[7]],
		App: d[e[7]:e[8]], IP: d[e[8]:e[9]], UserAgent: d[e[9]:e[10]], SessionID: d[e[10]:e[11]],
		Result: d[e[11]:e[12]], Reason: d[e[12]:e[13]], Factor: d[e[13]:e[14]]}
}

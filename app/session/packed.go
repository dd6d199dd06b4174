package session

import (
	"math"
	"unsafe"
)

// numStrings is how many string fields an Event has.
const numStrings = 15

// Positions of the packed strings. The eventType is not among them: it is the class's.
const (
	pUUID = iota
	pActorID
	pActorType
	pActorLogin
	pActorName
	pTargetID
	pTargetLogin
	pApp
	pIP
	pUserAgent
	pSessionID
	pResult
	pReason
	pFactor
	numPacked
)

// outcome is an outcome.result classified once, when the event is packed.
type outcome uint8

const (
	outcomeOther   outcome = iota
	outcomeFailure         // FAILURE
	outcomeDeny            // DENY
)

func outcomeOf(result string) outcome {
	switch {
	case failed(result):
		return outcomeFailure
	case denied(result):
		return outcomeDeny
	}
	return outcomeOther
}

// packed is a buffered event in a third of the memory of an Event: its strings copied into one
// allocation, so the engine owns them (the caller's Event may point into a buffer it reuses)
// and the events of the time window cost little more than their bytes. The machine reads the
// packed events themselves, so sequencing a key copies no Event.
type packed struct {
	time, ref int64
	cls       *class
	data      string
	end       [numPacked]uint32 // end of each string in data, in pUUID... order
	outcome   outcome
}

// strs lists an Event's string fields in declaration order.
func strs(e *Event) [numStrings]*string {
	return [numStrings]*string{&e.UUID, &e.Type, &e.ActorID, &e.ActorType, &e.ActorLogin, &e.ActorName,
		&e.TargetID, &e.TargetLogin, &e.App, &e.IP, &e.UserAgent, &e.SessionID, &e.Result, &e.Reason, &e.Factor}
}

// packedStrs lists the string fields an event packs, in pUUID... order.
func packedStrs(e *Event) [numPacked]string {
	return [numPacked]string{e.UUID, e.ActorID, e.ActorType, e.ActorLogin, e.ActorName,
		e.TargetID, e.TargetLogin, e.App, e.IP, e.UserAgent, e.SessionID, e.Result, e.Reason, e.Factor}
}

// str returns packed string i; the compiler folds the bounds of a constant i.
func (p *packed) str(i int) string {
	lo := uint32(0)
	if i > 0 {
		lo = p.end[i-1]
	}
	return p.data[lo:p.end[i]]
}

// typ returns the eventType, which its class determines.
func (p *packed) typ() string { return p.cls.typ }

// arenaBlock is the size of the blocks packed strings are copied into.
const arenaBlock = 64 << 10

// arena hands out immutable copies of bytes from large blocks, so copying an event costs no
// allocation of its own. Bytes once written are never changed, so the strings stay valid for
// as long as anything refers to them, and a block is freed when nothing does.
type arena struct {
	block []byte // len is the block's size; bytes before off are handed out
	off   int
}

// pack copies ev into a. Strings beyond 4 GiB in total do not occur in Okta events; they are cut.
func (a *arena) pack(ev *Event, c *class) packed {
	p := packed{time: ev.Time, ref: ev.Ref, cls: c, outcome: outcomeOf(ev.Result)}
	src := packedStrs(ev)
	n := 0
	for i := range src {
		n += len(src[i])
	}
	if n > math.MaxUint32 {
		cut(&src)
		n = math.MaxUint32
	}
	if len(a.block)-a.off < n {
		a.block, a.off = make([]byte, max(arenaBlock, n)), 0
	}
	// Copy into a local slice, so the loop stores no pointer into the arena (no write barrier).
	buf := a.block[a.off : a.off+n]
	o := 0
	for i := range src {
		if len(src[i]) > 0 {
			o += copy(buf[o:], src[i])
		}
		p.end[i] = uint32(o)
	}
	if n > 0 {
		a.off += n
		p.data = unsafe.String(unsafe.SliceData(buf), n)
	}
	return p
}

// cut shortens the strings so that they total at most 4 GiB, dropping the last ones first.
func cut(src *[numPacked]string) {
	left := math.MaxUint32
	for i := range src {
		if len(src[i]) > left {
			src[i] = ""
		}
		left -= len(src[i])
	}
}

// user returns the Okta user a packed event is about (see userOf).
func (p *packed) user() (id, login string) {
	return userOf(p.cls, p.str(pActorType), p.str(pActorID), p.str(pActorLogin), p.str(pTargetID), p.str(pTargetLogin))
}

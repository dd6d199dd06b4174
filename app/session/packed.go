package session

import (
	"math"
	"strings"
	"unsafe"
)

// numStrings is how many string fields an Event has.
const numStrings = 24

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
	pTxn
	pBehaviors
	pDTHash
	pCountry
	pCity
	pASN
	pISP
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

// packed is a buffered event in a quarter of the memory of an Event: its strings copied into
// one allocation, so the engine owns them (the caller's Event may point into a buffer it
// reuses) and the events of the time window cost little more than their bytes. The machine
// reads the packed events themselves, so sequencing a key copies no Event. Risk and Proxy,
// which have four and two values, are kept as bits, and the strings' ends as 16 bits: 96
// bytes with the signals where 112 held the 14 strings before them (BenchmarkOpenFlow).
type packed struct {
	time, ref int64
	cls       *class
	data      string
	end       [numPacked]uint16   // end of each string in data, in pUUID... order
	ids       [numInterned]uint16 // interned values of the fields in interned, 0 when in data
	outcome   outcome
	flags     uint8 // risk level (riskLevels index) in the low two bits, flagProxy
}

// flagProxy marks an event from a proxy (securityContext.isProxy).
const flagProxy = 1 << 2

// risk returns the event's risk level as a riskLevels index.
func (p *packed) risk() uint8 { return p.flags & 3 }

// strs lists an Event's string fields in declaration order.
func strs(e *Event) [numStrings]*string {
	return [numStrings]*string{&e.UUID, &e.Type, &e.ActorID, &e.ActorType, &e.ActorLogin, &e.ActorName,
		&e.TargetID, &e.TargetLogin, &e.App, &e.IP, &e.UserAgent, &e.SessionID, &e.Result, &e.Reason, &e.Factor,
		&e.TransactionID, &e.Behaviors, &e.DTHash, &e.Risk, &e.Country, &e.City, &e.ASN, &e.ISP, &e.Proxy}
}

// str returns packed string i from data, where every field not in interned is; the compiler
// folds the bounds of a constant i.
func (p *packed) str(i int) string {
	lo := uint16(0)
	if i > 0 {
		lo = p.end[i-1]
	}
	return p.data[lo:p.end[i]]
}

// has reports whether field i (after pUUID) is set: its end differs from the end before it.
// It compares two offsets instead of cutting the string.
func (p *packed) has(i int) bool { return p.end[i] != p.end[i-1] }

// actorType, actorName, result and userAgent return the fields that may be interned.
func (p *packed) actorType(t *interner) string { return t.str(p, 0, pActorType) }
func (p *packed) actorName(t *interner) string { return t.str(p, 1, pActorName) }
func (p *packed) result(t *interner) string    { return t.str(p, 2, pResult) }
func (p *packed) userAgent(t *interner) string { return t.str(p, 3, pUserAgent) }

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
	in    interner
}

// pack copies ev into p, its strings into a. Strings beyond 64 KiB in total do not occur in
// Okta events (a long user agent is 1 KiB); they are cut. It is written out field by field: this is the engine's busiest
// code, and a loop over an array of the fields costs twice as much.
func (a *arena) pack(p *packed, ev *Event, c *class) {
	// Field by field, without zeroing data and end first: every path below sets them.
	p.time, p.ref, p.cls, p.outcome, p.ids = ev.Time, ev.Ref, c, outcomeOf(ev.Result), [numInterned]uint16{}
	p.flags = 0
	if ev.Risk != "" {
		p.flags = riskIndex(ev.Risk)
	}
	if ev.Proxy != "" {
		p.flags |= flagProxy
	}
	actorType, actorName, result, userAgent := ev.ActorType, ev.ActorName, ev.Result, ev.UserAgent
	// An empty field has nothing to intern: skipping it here saves the call that compares it
	// with the field's last value (4M instructions on f200k, which has neither display names
	// nor user agents, measured).
	if actorType != "" {
		if id := a.in.id(0, actorType); id != 0 {
			p.ids[0], actorType = id, ""
		}
	}
	if actorName != "" {
		if id := a.in.id(1, actorName); id != 0 {
			p.ids[1], actorName = id, ""
		}
	}
	if result != "" {
		if id := a.in.id(2, result); id != 0 {
			p.ids[2], result = id, ""
		}
	}
	if userAgent != "" {
		if id := a.in.id(3, userAgent); id != 0 {
			p.ids[3], userAgent = id, ""
		}
	}
	n := len(ev.UUID) + len(ev.ActorID) + len(actorType) + len(ev.ActorLogin) + len(actorName) +
		len(ev.TargetID) + len(ev.TargetLogin) + len(ev.App) + len(ev.IP) + len(userAgent) +
		len(ev.SessionID) + len(result) + len(ev.Reason) + len(ev.Factor) +
		len(ev.TransactionID) + len(ev.Behaviors) + len(ev.DTHash) + len(ev.Country) + len(ev.City) +
		len(ev.ASN) + len(ev.ISP)
	if n > math.MaxUint16 || n < 0 {
		a.packLong(p, [numPacked]string{ev.UUID, ev.ActorID, actorType, ev.ActorLogin, actorName,
			ev.TargetID, ev.TargetLogin, ev.App, ev.IP, userAgent, ev.SessionID, result, ev.Reason, ev.Factor,
			ev.TransactionID, ev.Behaviors, ev.DTHash, ev.Country, ev.City, ev.ASN, ev.ISP})
		return
	}
	if n == 0 {
		p.data, p.end = "", [numPacked]uint16{}
		return
	}
	if len(a.block)-a.off < n {
		a.block, a.off = make([]byte, max(arenaBlock, n)), 0
	}
	// Copy into a local slice, so that no pointer into the arena is stored per string.
	buf := a.block[a.off : a.off+n : a.off+n]
	a.off += n
	p.data = unsafe.String(unsafe.SliceData(buf), n)
	e := &p.end
	o := put(buf, 0, ev.UUID)
	e[pUUID] = uint16(o)
	o = put(buf, o, ev.ActorID)
	e[pActorID] = uint16(o)
	o = put(buf, o, actorType)
	e[pActorType] = uint16(o)
	o = put(buf, o, ev.ActorLogin)
	e[pActorLogin] = uint16(o)
	o = put(buf, o, actorName)
	e[pActorName] = uint16(o)
	o = put(buf, o, ev.TargetID)
	e[pTargetID] = uint16(o)
	o = put(buf, o, ev.TargetLogin)
	e[pTargetLogin] = uint16(o)
	o = put(buf, o, ev.App)
	e[pApp] = uint16(o)
	o = put(buf, o, ev.IP)
	e[pIP] = uint16(o)
	o = put(buf, o, userAgent)
	e[pUserAgent] = uint16(o)
	o = put(buf, o, ev.SessionID)
	e[pSessionID] = uint16(o)
	o = put(buf, o, result)
	e[pResult] = uint16(o)
	o = put(buf, o, ev.Reason)
	e[pReason] = uint16(o)
	o = put(buf, o, ev.Factor)
	e[pFactor] = uint16(o)
	o = put(buf, o, ev.TransactionID)
	e[pTxn] = uint16(o)
	o = put(buf, o, ev.Behaviors)
	e[pBehaviors] = uint16(o)
	o = put(buf, o, ev.DTHash)
	e[pDTHash] = uint16(o)
	o = put(buf, o, ev.Country)
	e[pCountry] = uint16(o)
	o = put(buf, o, ev.City)
	e[pCity] = uint16(o)
	o = put(buf, o, ev.ASN)
	e[pASN] = uint16(o)
	o = put(buf, o, ev.ISP)
	e[pISP] = uint16(o)
}

// put copies s into buf at o and returns the offset after it.
func put(buf []byte, o int, s string) int {
	if len(s) > 0 {
		copy(buf[o:], s)
	}
	return o + len(s)
}

// packLong packs strings that total more than 64 KiB, cut to fit.
func (a *arena) packLong(p *packed, src [numPacked]string) {
	cut(&src)
	n := 0
	for i := range src {
		n += len(src[i])
	}
	a.block, a.off = make([]byte, n), n
	o := 0
	for i := range src {
		o = put(a.block, o, src[i])
		p.end[i] = uint16(o)
	}
	p.data = unsafe.String(unsafe.SliceData(a.block), n)
}

// cut drops the strings that do not fit in the 64 KiB a packed event holds, in field order:
// the fields that find a user (first) are kept.
func cut(src *[numPacked]string) {
	left := math.MaxUint16
	for i := range src {
		if len(src[i]) > left {
			src[i] = ""
		}
		left -= len(src[i])
	}
}

// user returns the Okta user a packed event is about: the actor when it is a User, except that
// an admin acting on another user (onBehalf types) belongs to the target; otherwise the first
// target of type User; a failed sign-in of an unknown user (actor of type User or none) is
// keyed by the attempted login. It tells empty fields by their offsets and cuts only the
// strings it returns or compares: every event and every sequence asks (24M instructions on
// f200k when it cut all four strings, 17M now, measured).
func (p *packed) user() (id, login string) {
	actorUser, actorNone := p.ids[0] == idUser, false
	if p.ids[0] == 0 {
		actorUser, actorNone = p.str(pActorType) == "User", !p.has(pActorType)
	}
	hasActor, hasTarget := p.has(pActorID), p.has(pTargetID)
	if actorUser && hasActor {
		if p.cls.onBehalf && hasTarget && p.str(pTargetID) != p.str(pActorID) {
			return p.str(pTargetID), p.str(pTargetLogin)
		}
		return p.str(pActorID), p.str(pActorLogin)
	}
	if hasTarget {
		return p.str(pTargetID), p.str(pTargetLogin)
	}
	if p.cls.start && p.has(pActorLogin) && (actorUser || actorNone) {
		return "", p.str(pActorLogin)
	}
	return "", ""
}

// interned lists the fields whose values repeat across events (actor types, display names,
// results, user agents): the engine keeps one copy of each value instead of one per event,
// which makes the buffered events smaller and the bytes copied and collected fewer.
var interned = [...]int{pActorType, pActorName, pResult, pUserAgent}

const numInterned = len(interned)

// Limits of an interner: values past them are copied with each event, so that a stream of
// ever new values costs memory in proportion to the time window, not to the input.
const (
	internSlots    = 256     // recent values remembered per field
	maxInternBytes = 1 << 20 // bytes of interned values
	maxInterned    = 1 << 14 // values (ids are uint16)
)

// idUser is the number of the value "User".
const idUser = 1

// interner keeps one copy of each value of the interned fields, numbered from 1.
type interner struct {
	vals  []string // by id; vals[0] is unused
	ids   map[string]uint16
	size  int  // bytes in vals
	full  bool // a value did not fit: no more are interned
	last  [numInterned]internSlot
	slots [numInterned][internSlots]uint16
}

// internSlot is a value and its number.
type internSlot struct {
	s  string
	id uint16
}

// id returns the number of s as a value of interned field k, interning it if there is room;
// 0 when s is empty or there is no room. A field's value is most often the one before.
func (t *interner) id(k int, s string) uint16 {
	if l := &t.last[k]; l.s == s {
		return l.id // "" starts as the last value, numbered 0
	}
	return t.lookup(k, s)
}

// lookup is id for a value other than the field's last one.
func (t *interner) lookup(k int, s string) uint16 {
	if s == "" {
		return 0
	}
	// A slot per field, picked by the length and three of the bytes, remembers the last value
	// seen there: most events find their value without hashing it whole.
	h := uint64(len(s))<<24 | uint64(s[0])<<16 | uint64(s[len(s)/2])<<8 | uint64(s[len(s)-1])
	slot := &t.slots[k][(h*0x9e3779b97f4a7c15)>>56]
	if id := *slot; id != 0 && t.vals[id] == s {
		t.last[k] = internSlot{t.vals[id], id}
		return id
	}
	if t.vals == nil {
		// "User", the actor type of most events, is numbered idUser, so that finding an
		// event's user compares numbers.
		t.vals, t.ids, t.size = []string{"", "User"}, map[string]uint16{"User": idUser}, len("User")
	}
	if t.full {
		// Past the limits, a value not in its slot is copied with its event: searching the
		// table for it would cost every event of a stream of ever new values a hash.
		return 0
	}
	id, ok := t.ids[s]
	if !ok {
		if len(t.vals) >= maxInterned || t.size+len(s) > maxInternBytes {
			t.full = true
			return 0
		}
		id = uint16(len(t.vals))
		v := strings.Clone(s)
		t.vals = append(t.vals, v)
		t.ids[v] = id
		t.size += len(v)
	}
	*slot = id
	t.last[k] = internSlot{t.vals[id], id}
	return id
}

// str returns field i of p, which is interned field k.
func (t *interner) str(p *packed, k, i int) string {
	if id := p.ids[k]; id != 0 {
		return t.vals[id]
	}
	return p.str(i)
}

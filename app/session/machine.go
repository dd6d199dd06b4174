package session

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"unsafe"
)

// flowRun is a flow being assembled by the machine.
type flowRun struct {
	kind    Flow
	items   []*packed
	start   int64
	last    int64
	opened  int // order of opening within one run, for "most recently started"
	success bool
	// superseded is set when the user started the same flow again before this one ended:
	// the rule makes such a flow incomplete unless it succeeded or was denied.
	superseded bool
	started    bool   // a start event (user.session.start, a recovery send) is among items
	app        string // app_signin: the app its policy evaluation, sso or deny names
	// own holds copies of items[:len(own)], and items[i] points at own[i], once the flow has
	// outlived a pass over a busy key (keyState): the key's buffer then drops the events.
	own []packed
}

// keyState is what the machine carries from one pass over a busy key's events to the next:
// its open flows and the ids of sequences a later one could repeat.
type keyState struct {
	open    [numFlows]*flowRun
	openSet uint8
	opened  int
	ids     []seqID
}

// seqID is an id emitted for a key, with the start of its sequence.
type seqID struct {
	h     uint64
	start int64
}

// machine is the forward state machine that sequences one key's events, oldest first. It
// holds scratch space reused across runs so that sequencing allocates little.
type machine struct {
	e                 *Engine
	key               string
	open              [numFlows]*flowRun
	openSet           uint8 // bit f set when open[f] is not nil: most events find one flow open, or none
	opened            int
	free              []*flowRun
	ids               []seqID            // ids emitted for the key, to tell apart sequences of duplicated events
	idBlock           *[idBlockSize]byte // the block idString cuts ids from
	idOff             int                // the bytes of idBlock handed out
	seq               Sequence
	sorted            []*packed
	maxPause, maxSpan int64
	lists             [numLists]distinctSet // build's sets for lists grown past distinctScan
	listsUsed         uint16                // bit k set when lists[k] holds values of the sequence being built
	idSet             map[uint64]struct{}   // m.ids as a set, once they outgrow a scan
	probes            int                   // comparisons and set lookups, for TestDistinctValuesLinear
	// A pass over a busy key: front is the time before which every event of the key is in
	// (none can come that sorts before it), end says that no event of the key comes after the
	// ones stepped, and wait is set when mfaFlow cannot decide yet: the front from which it can.
	front, wait int64
	end         bool
}

func (m *machine) init(e *Engine) {
	m.e = e
	m.maxPause = e.o.MaxPause.Milliseconds()
	m.maxSpan = e.o.MaxSpan.Milliseconds()
}

// begin starts sequencing a key: afresh, or where its last pass left it (st).
func (m *machine) begin(key string, st *keyState) {
	m.key = key
	if m.idSet != nil {
		m.idSet = resetSet(m.idSet)
	}
	if st == nil {
		m.ids = m.ids[:0]
		m.opened = 0
		return
	}
	m.open, m.openSet, m.opened = st.open, st.openSet, st.opened
	m.ids = append(m.ids[:0], st.ids...)
	if len(m.ids) > distinctScan {
		m.indexIDs()
	}
}

// steps steps items, the key's events sorted oldest first, and returns how many it stepped:
// all unless an MFA event could not yet tell which flow it opens (then m.wait is set). front
// and end describe what may come after items (see machine.front).
func (m *machine) steps(items []*packed, front int64, end bool) int {
	m.front, m.end = front, end
	for i := range items {
		if !m.step(items, i) {
			return i
		}
	}
	return len(items)
}

// finish closes every open flow: the caller guarantees that no event of the key lies within
// MaxPause after the ones stepped.
func (m *machine) finish() {
	for m.openSet != 0 {
		// Close the oldest first, so a key's sequences come out in start order.
		var f *flowRun
		for b := m.openSet; b != 0; b &= b - 1 {
			if g := m.open[bits.TrailingZeros8(b)]; f == nil || g.opened < f.opened {
				f = g
			}
		}
		m.close(f)
	}
}

// suspend ends a pass over a busy key whose later events are still to come: it moves the
// open flows into st (from e's free states when st is nil), each holding copies of its events,
// and keeps the ids that a sequence starting at bound or later, or one of the open flows,
// could repeat: an id is derived from its sequence's start, so an earlier one cannot. It
// returns nil, and recycles st, when there is nothing to carry.
func (m *machine) suspend(st *keyState, bound int64, e *Engine) *keyState {
	kept := m.ids[:0]
	for _, id := range m.ids {
		if id.start >= bound || m.openStart(id.start) {
			kept = append(kept, id)
		}
	}
	m.ids = kept
	if m.openSet == 0 && len(kept) == 0 {
		if st != nil {
			e.putState(st)
		}
		return nil
	}
	if st == nil {
		st = e.getState()
	}
	for b := m.openSet; b != 0; b &= b - 1 {
		m.open[bits.TrailingZeros8(b)].keep()
	}
	st.open, st.openSet, st.opened = m.open, m.openSet, m.opened
	st.ids = append(st.ids[:0], kept...)
	m.open, m.openSet = [numFlows]*flowRun{}, 0
	return st
}

// openStart reports whether an open flow starts at t.
func (m *machine) openStart(t int64) bool {
	for b := m.openSet; b != 0; b &= b - 1 {
		if m.open[bits.TrailingZeros8(b)].start == t {
			return true
		}
	}
	return false
}

// keep copies the events the flow joined since it last kept them into own, so that it no
// longer points into a key's buffer.
func (f *flowRun) keep() {
	n := len(f.own)
	if cap(f.own) < len(f.items) {
		own := make([]packed, n, max(2*cap(f.own), len(f.items), 4))
		copy(own, f.own)
		clear(f.own)
		f.own = own
		for i := range n {
			f.items[i] = &own[i]
		}
	}
	f.own = f.own[:len(f.items)]
	for i := n; i < len(f.items); i++ {
		f.own[i] = *f.items[i]
		f.items[i] = &f.own[i]
	}
}

// step routes items[i]; the items after it serve an MFA event that finds no flow open. It
// returns false, and has changed nothing that stepping items[i] again would not, when that MFA
// event needs events not in items yet.
func (m *machine) step(items []*packed, i int) bool {
	it := items[i]
	t := it.time
	for b := m.openSet; b != 0; b &= b - 1 {
		if f := m.open[bits.TrailingZeros8(b)]; t-f.last > m.maxPause {
			m.close(f)
		}
	}
	c := it.cls
	switch c.role {
	case roleStart:
		if f := m.open[c.flow]; f != nil {
			if c.start && it.outcome != outcomeFailure && !f.started && t-f.start <= m.maxSpan && sameSignin(f, it) {
				// The start of the sign-in its policy evaluation or MFA opened: Okta
				// logged it later, or in the same millisecond after them.
				f.started = true
				m.join(f, it)
				return true
			}
			f.superseded = true
			m.close(f)
		}
		f := m.start(c.flow, it)
		if c.start && it.outcome == outcomeFailure {
			m.close(f) // each failed sign-in is a sequence of its own
		}
	case roleMFA:
		f := m.newest()
		for f != nil && t-f.start > m.maxSpan {
			m.close(f)
			f = m.newest()
		}
		if f == nil {
			// Closing flows above is done once: stepping it again finds none to close.
			k, ok := m.mfaFlow(items, i)
			if !ok {
				return false
			}
			m.start(k, it)
			return true
		}
		m.join(f, it)
	case roleContinue, roleTerminal:
		kind := c.flow
		if c.policy && it.has(pApp) {
			kind = FlowAppSignin // an app's sign-on policy: the app sign-in's first step
		}
		f := m.open[kind]
		switch {
		case f == nil:
		case t-f.start > m.maxSpan:
			m.close(f)
			f = nil
		case kind == FlowAppSignin && f.app != "" && it.has(pApp) && it.str(pApp) != f.app:
			// Another app: the user left the first app's sign-in unfinished.
			f.superseded = true
			m.close(f)
			f = nil
		}
		if f == nil {
			if c.update {
				m.e.stats.Unowned++
				return true
			}
			f = m.start(kind, it)
		} else {
			m.join(f, it)
		}
		if kind == FlowAppSignin && f.app == "" {
			f.app = it.str(pApp)
		}
		if c.role == roleTerminal {
			switch {
			case c.deny:
				m.close(f)
			case it.outcome == outcomeOther:
				f.success = true
				m.close(f)
			}
		}
	}
	return true
}

// sameSignin reports whether a user.session.start belongs to the open sign-in f: an event of f
// shares its transaction.id (a start and its policy evaluation do) or its Okta session.
func sameSignin(f *flowRun, it *packed) bool {
	txn, sid := it.str(pTxn), it.str(pSessionID)
	for _, x := range f.items {
		if txn != "" && x.str(pTxn) == txn || sid != "" && x.str(pSessionID) == sid {
			return true
		}
	}
	return false
}

// mfaLookahead bounds the events mfaFlow reads ahead.
const mfaLookahead = 64

// mfaFlow returns the flow an MFA event opens when no flow is open: the flow of the next step
// of its Okta session (a later event with the same externalSessionId that is not MFA, within
// maxpause of the events before it and maxspan of the MFA event), as when the search's range
// cut a sign-in after its policy evaluation; app_signin when there is none (MFA* then sso).
// In a pass over a busy key whose later events are still to come, it returns false when such
// an event could still come (m.wait is then the front from which none can).
func (m *machine) mfaFlow(items []*packed, i int) (Flow, bool) {
	it := items[i]
	sid := it.str(pSessionID)
	if sid == "" {
		return FlowAppSignin, true
	}
	last := it.time
	reach := i + 1 + mfaLookahead
	for _, n := range items[i+1 : min(len(items), reach)] {
		if n.time-last > m.maxPause || n.time-it.time > m.maxSpan {
			return FlowAppSignin, true
		}
		last = n.time
		c := n.cls
		if c.role == roleMFA || n.str(pSessionID) != sid {
			continue
		}
		switch {
		case c.policy && n.has(pApp):
			return FlowAppSignin, true
		case c.update:
			// A signed-in user changing the password after a step-up: no reset.
			return FlowAppSignin, true
		case c.role == roleStart && !c.start:
			// A recovery send starts its own flow: the MFA before it is not part of it.
			return FlowAppSignin, true
		case c.flow != FlowNone:
			return c.flow, true
		}
	}
	// Out of events: a later one, at m.front or after, is out of reach past a pause or the span.
	if !m.end && len(items) < reach && m.front-last <= m.maxPause && m.front-it.time <= m.maxSpan {
		m.wait = min(last+m.maxPause, it.time+m.maxSpan) + 1
		return FlowNone, false
	}
	return FlowAppSignin, true
}

// newest returns the most recently started open flow.
func (m *machine) newest() *flowRun {
	var n *flowRun
	for b := m.openSet; b != 0; b &= b - 1 {
		if f := m.open[bits.TrailingZeros8(b)]; n == nil || f.opened > n.opened {
			n = f
		}
	}
	return n
}

func (m *machine) start(kind Flow, it *packed) *flowRun {
	var f *flowRun
	if n := len(m.free); n > 0 {
		f, m.free = m.free[n-1], m.free[:n-1]
	} else {
		f = &flowRun{}
	}
	m.opened++
	*f = flowRun{kind: kind, items: append(f.items[:0], it), start: it.time, last: it.time, opened: m.opened,
		started: it.cls.role == roleStart, own: f.own}
	m.open[kind] = f
	m.openSet |= 1 << kind
	return f
}

func (m *machine) join(f *flowRun, it *packed) {
	f.items = append(f.items, it)
	f.last = it.time
}

// close finishes a flow: it builds the sequence, emits it when its flow is selected and frees
// the flow.
func (m *machine) close(f *flowRun) {
	m.open[f.kind] = nil
	m.openSet &^= 1 << f.kind
	m.e.stats.Sequenced += len(f.items)
	if m.e.o.Flows[f.kind] {
		s := m.build(f)
		m.e.stats.Sequences++
		if m.e.assign != nil {
			for i, it := range f.items {
				m.e.assign(it.ref, Assignment{SeqID: s.ID, Flow: s.Flow, Step: i + 1, Status: s.Status})
			}
		}
		if m.e.emit != nil {
			m.e.emit(s)
		}
	}
	clearPointers(f.items)
	f.items = f.items[:0]
	if len(f.own) > 0 {
		// Its copies would keep their events' strings, and the arena blocks they are in, alive.
		clear(f.own)
		f.own = f.own[:0]
		if cap(f.own) > maxKeptOwn {
			f.own = nil
		}
	}
	m.free = append(m.free, f)
}

// maxKeptOwn is the most copies a freed flow keeps room for.
const maxKeptOwn = 64

// signals adds an event's behaviors, dtHash, geography and network to the sequence's lists.
func (m *machine) signals(s *Sequence, ev *packed) {
	for b := ev.str(pBehaviors); b != ""; {
		name, rest, _ := strings.Cut(b, ",")
		s.Behaviors = m.appendDistinct(listBehaviors, s.Behaviors, name)
		b = rest
	}
	s.DTHash = m.appendDistinct(listDTHash, s.DTHash, ev.str(pDTHash))
	s.Country = m.appendDistinct(listCountry, s.Country, ev.str(pCountry))
	s.City = m.appendDistinct(listCity, s.City, ev.str(pCity))
	s.ASN = m.appendDistinct(listASN, s.ASN, ev.str(pASN))
	s.ISP = m.appendDistinct(listISP, s.ISP, ev.str(pISP))
}

// policyRank orders sign-on policy results by strictness; other values rank below ALLOW.
func policyRank(r string) int {
	switch r {
	case "DENY":
		return 3
	case "CHALLENGE":
		return 2
	case "ALLOW":
		return 1
	}
	return 0
}

// stricter returns the stricter of two policy results, a when they rank alike.
func stricter(a, b string) string {
	if a == "" || policyRank(b) > policyRank(a) {
		return b
	}
	return a
}

// required lists each flow's required steps; a send step stands for any of its three channels.
var required = [numFlows][]string{
	FlowSignin:    {typeSessionStart, typePolicy, typeVerify},
	FlowAppSignin: {typeSSO},
	FlowSSPR:      {missingResetSend, typeResetPassword, typeUpdatePassword},
	FlowUnlock:    {missingUnlockSend, typeUnlock},
}

// requiredSeen returns the required steps of flow k that an event of type typ and role stands
// for, bit i for required[k][i]; init keeps it in each class.
func requiredSeen(k Flow, typ string, role role) uint8 {
	var seen uint8
	for i, r := range required[k] {
		if r == typ || (i == 0 && role == roleStart && k != FlowSignin) {
			seen |= 1 << i
		}
	}
	return seen
}

// build fills the reused Sequence from a closed flow.
func (m *machine) build(f *flowRun) *Sequence {
	s := &m.seq
	// Field by field rather than *s = Sequence{...}, which builds the whole struct and copies it
	// (15M of 1,580M instructions on 85k sequences, measured). ID, Status and StoppedAt are
	// set below; TestBuildResets checks that no field keeps a value from the sequence before.
	s.Flow, s.Start, s.End, s.EventCount = f.kind, f.start, f.last, len(f.items)
	s.UserID, s.User, s.SessionID, s.App, s.Channel = "", "", "", "", ""
	s.MFASent, s.MFAVerified, s.MFAEnrolled, s.MFAFailed = 0, 0, 0, 0
	s.Missing, s.SrcIP, s.UserAgent, s.Steps = s.Missing[:0], s.SrcIP[:0], s.UserAgent[:0], s.Steps[:0]
	s.MFAFactors, s.Reasons, s.UUIDs = s.MFAFactors[:0], s.Reasons[:0], s.UUIDs[:0]
	s.Behaviors, s.DTHash, s.Country, s.City, s.ASN, s.ISP = s.Behaviors[:0], s.DTHash[:0], s.Country[:0], s.City[:0], s.ASN[:0], s.ISP[:0]
	if m.listsUsed != 0 {
		m.resetLists()
	}
	var seen uint8 // required steps seen, bit i for required[f.kind][i]
	denyStep, policySeen, policy, flags := false, false, "", uint8(0)
	in := &m.e.arena.in
	for _, ev := range f.items {
		c := ev.cls
		failedOrDenied := ev.outcome != outcomeOther
		if s.UserID == "" || s.User == "" {
			id, login := ev.user()
			if s.UserID == "" && id != "" {
				s.UserID, s.User = id, login
			}
			if s.User == "" {
				s.User = login
			}
		}
		if s.SessionID == "" {
			s.SessionID = ev.str(pSessionID)
		}
		s.SrcIP = m.appendDistinct(listSrcIP, s.SrcIP, ev.str(pIP))
		s.UserAgent = m.appendDistinct(listUserAgent, s.UserAgent, ev.userAgent(in))
		if ev.end[pISP] != ev.end[pTxn] { // pBehaviors to pISP, the signal strings, not all empty
			m.signals(s, ev)
		}
		flags = max(flags&3, ev.flags&3) | (flags|ev.flags)&flagProxy
		if c.policy {
			policySeen, policy = true, stricter(policy, ev.result(in))
		}
		if f.kind == FlowAppSignin && s.App == "" {
			s.App = ev.str(pApp)
		}
		if c.role == roleStart && f.kind != FlowSignin && s.Channel == "" {
			s.Channel = c.channel
		}
		s.Steps = append(s.Steps, c.typ)
		if uuid := ev.str(pUUID); uuid != "" {
			s.UUIDs = append(s.UUIDs, uuid)
		}
		if c.role == roleMFA {
			s.MFAFactors = m.appendDistinct(listFactors, s.MFAFactors, factorName(c.factor, ev.str(pFactor)))
			switch {
			case c.mfaSend:
				s.MFASent++
			case failedOrDenied:
				s.MFAFailed++
			case c.enrol:
				s.MFAEnrolled++
			default:
				s.MFAVerified++
			}
		}
		if failedOrDenied {
			s.Reasons = m.appendDistinct(listReasons, s.Reasons, ev.str(pReason))
		}
		if c.deny {
			denyStep = true
		}
		seen |= c.required[f.kind] // looked up, not compared type by type: 14M of 1,580M instructions on f200k
	}
	for i, r := range required[f.kind] {
		if seen&(1<<i) == 0 && !(denyStep && r == typeSSO) {
			s.Missing = append(s.Missing, r)
		}
	}
	s.PolicyResult, s.Risk, s.Proxy = policy, riskLevels[flags&3], ""
	if flags&flagProxy != 0 {
		s.Proxy = "true"
	}
	s.Cut = ""
	if m.e.o.Earliest != 0 && f.start-m.e.o.Earliest < m.maxSpan {
		// The first documented step: the start (signin), the send (sspr, unlock), the app's
		// policy evaluation (app_signin).
		first := seen&1 != 0
		if f.kind == FlowAppSignin {
			first = policySeen
		}
		if !first {
			s.Cut = CutStart
		}
	}
	last := f.items[len(f.items)-1]
	switch {
	case f.success:
		s.Status = StatusSuccess
	case last.cls.deny:
		s.Status = StatusDenied
	case last.outcome == outcomeDeny || denyStep || anyDenied(f.items):
		s.Status = StatusDenied
	case last.outcome == outcomeFailure && !f.superseded:
		s.Status = StatusFailure
	default:
		s.Status = StatusIncomplete
	}
	s.StoppedAt = ""
	if s.Status != StatusSuccess {
		s.StoppedAt = last.typ()
	}
	s.ID = m.id(f)
	return s
}

// id derives a stable sequence id from the flow, the key and the first event, told apart
// from a sequence of identical events emitted earlier in the same run.
func (m *machine) id(f *flowRun) string {
	first := f.items[0]
	// The hash of everything before the counter, which is the same for every n.
	h0 := fnv64a(flowHashes[f.kind], m.key)
	h0 = fnv64a(h0, "\x00")
	h0 = fnv64a(h0, first.str(pUUID))
	h0 = fnvInt(h0, first.time)
	for n := 0; ; n++ {
		h := h0
		if n > 0 {
			h = fnvInt(h, int64(n))
		}
		if !m.containsID(h) {
			m.addID(seqID{h, f.start})
			return m.idString(h)
		}
	}
}

// flowHashes holds the hash of each flow's name and a zero byte, where every id's hash starts.
var flowHashes = func() (h [numFlows]uint64) {
	for f := range h {
		h[f] = fnv64a(fnv64a(fnvOffset, Flow(f).String()), "\x00")
	}
	return h
}()

// idBlockSize is the size of the blocks ids are written into.
const idBlockSize = 16 << 10

// idString returns h as 16 lowercase hex digits. Ids are cut from a block, not allocated one
// by one (one allocation per sequence was 5% of the command's time); a block's bytes are
// never written twice, so an id stays valid for as long as anything holds it.
func (m *machine) idString(h uint64) string {
	if m.idBlock == nil || m.idOff+16 > idBlockSize {
		m.idBlock, m.idOff = new([idBlockSize]byte), 0
	}
	// An offset, not the rest of the block as a slice: storing a slice's pointer costs a
	// write-barrier check per id.
	b := m.idBlock[m.idOff : m.idOff+16 : m.idOff+16]
	m.idOff += 16
	binary.BigEndian.PutUint64(b, hexWord(uint32(h>>32)))
	binary.BigEndian.PutUint64(b[8:], hexWord(uint32(h)))
	return unsafe.String(&b[0], 16)
}

// hexWord returns the 8 lowercase hex digits of v as the bytes of a word, the first digit in
// its top byte: each nibble is spread into a byte of its own, then all eight are turned into
// digits at once ('0' added to each, and 'a'-'0'-10 more to those above 9).
func hexWord(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000ffff0000ffff
	x = (x | x<<8) & 0x00ff00ff00ff00ff
	x = (x | x<<4) & 0x0f0f0f0f0f0f0f0f
	above9 := (x + 0x0606060606060606) >> 4 & 0x0101010101010101
	return x + 0x3030303030303030 + above9*('a'-'0'-10)
}

// fnvInt hashes a zero byte and v in decimal, as strconv.AppendInt writes it. Times (13
// digits) take a fast path that makes eight digits at a time in a word instead of two at a
// time through memory (fnvInt went from 28.5M to 14M instructions for f200k's 85k ids,
// measured).
func fnvInt(h uint64, v int64) uint64 {
	h *= fnvPrime // the zero byte: h^0 is h
	if v > 0 && v < 1e16 {
		hi, lo := uint32(uint64(v)/1e8), uint32(uint64(v)%1e8)
		if hi == 0 {
			return fnvTrimmed(h, digits8(lo))
		}
		return fnvDigits(fnvTrimmed(h, digits8(hi)), digits8(lo))
	}
	var b [22]byte
	u := uint64(v)
	if v < 0 {
		u = -u
	}
	i := putDigits(b[:], u)
	if v < 0 {
		i--
		b[i] = '-'
	}
	return fnvBytes(h, b[i:])
}

// digits8 returns the eight decimal digits of x < 1e8 (leading zeros included) as the bytes
// of a word, the first digit in its low byte, each byte the digit's value: x is split into
// two halves of four digits, each half into two of two digits, each of those into two digits,
// all lanes at once (a division by 100 or 10 as a multiplication and a shift).
func digits8(x uint32) uint64 {
	v := uint64(x/10000) | uint64(x%10000)<<32
	q := (v * 5243 >> 19) & 0x0000007f0000007f // v/100 in each 32-bit lane (exact below 43699)
	w := q | (v-q*100)<<16
	t := (w * 103 >> 10) & 0x000f000f000f000f // w/10 in each 16-bit lane (exact below 179)
	return t | (w-t*10)<<8
}

// fnvTrimmed hashes the decimal digits of d, a word of digits8 other than 0, without its
// leading zeros.
func fnvTrimmed(h, d uint64) uint64 {
	z := bits.TrailingZeros64(d) / 8
	d = (d + 0x3030303030303030) >> (8 * z) // the digits' characters
	for range 8 - z {
		h = (h ^ d&0xff) * fnvPrime
		d >>= 8
	}
	return h
}

// fnvDigits hashes the eight decimal digits of d, a word of digits8, written out: a loop costs
// twice as much.
func fnvDigits(h, d uint64) uint64 {
	d += 0x3030303030303030 // the digits' characters
	h = (h ^ d&0xff) * fnvPrime
	h = (h ^ d>>8&0xff) * fnvPrime
	h = (h ^ d>>16&0xff) * fnvPrime
	h = (h ^ d>>24&0xff) * fnvPrime
	h = (h ^ d>>32&0xff) * fnvPrime
	h = (h ^ d>>40&0xff) * fnvPrime
	h = (h ^ d>>48&0xff) * fnvPrime
	return (h ^ d>>56) * fnvPrime
}

// FNV-1a, 64 bits (hash/fnv's New64a without its allocation per id).
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// fnv64a hashes s four bytes per turn of the loop (8 instructions per byte became 5).
func fnv64a(h uint64, s string) uint64 {
	for ; len(s) >= 4; s = s[4:] {
		h = (h ^ uint64(s[0])) * fnvPrime
		h = (h ^ uint64(s[1])) * fnvPrime
		h = (h ^ uint64(s[2])) * fnvPrime
		h = (h ^ uint64(s[3])) * fnvPrime
	}
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

func fnvBytes(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// containsID reports whether id was emitted for the key: a scan of the few ids of a typical
// key, a set lookup once they outgrow it (a key with a sequence per event, as a password spray
// on one user, made the scan quadratic).
func (m *machine) containsID(id uint64) bool {
	if m.idSet != nil && len(m.ids) > distinctScan {
		m.probes++
		_, ok := m.idSet[id]
		return ok
	}
	for _, x := range m.ids {
		m.probes++
		if x.h == id {
			return true
		}
	}
	return false
}

// addID records an id emitted for the key.
func (m *machine) addID(id seqID) {
	m.ids = append(m.ids, id)
	switch {
	case len(m.ids) == distinctScan+1:
		m.indexIDs()
	case len(m.ids) > distinctScan+1:
		m.idSet[id.h] = struct{}{}
	}
}

// indexIDs puts the ids into idSet, which is empty.
func (m *machine) indexIDs() {
	if m.idSet == nil {
		m.idSet = make(map[uint64]struct{}, 2*len(m.ids))
	}
	for _, x := range m.ids {
		m.idSet[x.h] = struct{}{}
	}
}

func anyDenied(items []*packed) bool {
	for _, it := range items {
		if it.outcome == outcomeDeny {
			return true
		}
	}
	return false
}

// The lists of distinct values build keeps, each with its own set.
const (
	listSrcIP = iota
	listUserAgent
	listFactors
	listReasons
	listBehaviors
	listDTHash
	listCountry
	listCity
	listASN
	listISP
	numLists
)

// distinctScan is how long a list of distinct values is searched value by value; beyond it a
// set takes over. Almost every sequence has one or two of each, which a scan finds fastest.
const distinctScan = 8

// maxKeptSet is the size beyond which a set is dropped rather than cleared for reuse, so a
// hostile flow's set does not stay in memory.
const maxKeptSet = 1 << 12

// distinctSet holds the values of one list once it is longer than distinctScan.
type distinctSet struct {
	m map[string]struct{}
}

// appendDistinct appends v to list k unless it is empty or already present. Short lists are
// scanned; a longer one is looked up in its set (appendDistinctSet), so that a flow with a new
// value per event costs linear time, not quadratic (100 000 events with a new address each
// took 11 CPU-s). The scan is small enough to be inlined in build, as it was before the sets.
func (m *machine) appendDistinct(k int, list []string, v string) []string {
	if v == "" {
		return list
	}
	if len(list) >= distinctScan {
		return m.appendDistinctSet(k, list, v)
	}
	m.probes += len(list) // at most; counted once, not per comparison
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// appendDistinctSet is appendDistinct for a list of distinctScan values or more: the values
// go to the list's set when it reaches distinctScan, then are looked up there. Not inlined,
// so that appendDistinct is.
//
//go:noinline
func (m *machine) appendDistinctSet(k int, list []string, v string) []string {
	d := &m.lists[k]
	if m.listsUsed&(1<<k) == 0 {
		m.listsUsed |= 1 << k
		if d.m == nil {
			d.m = make(map[string]struct{}, 4*distinctScan)
		}
		for _, x := range list {
			d.m[x] = struct{}{}
		}
		m.probes += len(list)
	}
	m.probes++
	if _, ok := d.m[v]; ok {
		return list
	}
	d.m[v] = struct{}{}
	return append(list, v)
}

// resetLists empties the sets the last build used.
func (m *machine) resetLists() {
	for k := range m.lists {
		if m.listsUsed&(1<<k) != 0 {
			m.lists[k].m = resetSet(m.lists[k].m)
		}
	}
	m.listsUsed = 0
}

// resetSet empties a set for reuse, or drops it when it grew large.
func resetSet[K comparable](m map[K]struct{}) map[K]struct{} {
	if len(m) > maxKeptSet {
		return nil
	}
	clear(m)
	return m
}

// factorName gives one name per factor, whichever event names it: a send event's type says
// exactly which factor it is; otherwise debugData.factor, with Okta's "_FACTOR" suffix dropped
// (SMS_FACTOR and SMS are the same factor), or the authenticator's display name.
func factorName(byType, logged string) string {
	if byType != "" {
		return byType
	}
	if n, ok := authenticatorFactors[logged]; ok {
		return n
	}
	return strings.TrimSuffix(logged, "_FACTOR")
}

// authenticatorFactors maps the display names of Okta's authenticators (the target of Identity
// Engine MFA events) to factor names.
var authenticatorFactors = map[string]string{
	"Email":                     "EMAIL",
	"Okta Verify":               "OKTA_VERIFY",
	"Security Key or Biometric": "FIDO_WEBAUTHN",
	"Google Authenticator":      "GOOGLE_OTP",
	"Password":                  "PASSWORD",
	"Security Question":         "SECURITY_QUESTION",
	"Phone":                     "PHONE",
}

package session

import (
	"cmp"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// keyBuf holds the buffered events of one key, linked into the engine's list of keys in the
// order they last received an event, which is (nearly) the order in which they fall due.
type keyBuf struct {
	key   string
	hash  uint64   // of key, in the engine's keyTable
	items []packed // events the machine has not stepped yet
	edge  int64    // the buffered time furthest in the stream's direction
	// A key that is never quiet (an office NAT's address with by=ip, an admin active all day)
	// is sequenced while it is still active, oldest first only: its events in final order are
	// stepped once the frontier reaches due or it holds dueLen events, and st carries its open
	// flows from one such pass to the next (nil when there is nothing to carry).
	due        int64
	dueLen     int
	st         *keyState
	prev, next *keyBuf
}

// maxFree caps the freed keys kept for reuse.
const maxFree = 1 << 15

// Engine turns Okta events into sequences. Feed it with Add in either time order, then call
// Close; sequences arrive through the callback as each key's buffered events become complete
// (a key is complete once the stream has moved MaxPause+Disorder past its last event), so
// memory follows the keys active inside that window, not the input size. Oldest first, a key
// that stays active is sequenced as it goes (see advance), so that it holds only its open flows
// and its events of the last window, never its history; newest first, the machine cannot step
// a key until its oldest event is in, and a key of more than MaxKeyEvents is cut.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	o      Options
	emit   func(*Sequence)
	assign func(ref int64, a Assignment)

	dir      int8 // +1 oldest first, -1 newest first, 0 not known yet
	wm       int64
	haveWM   bool
	pending  []packed // events seen before the direction is known; all within Disorder of the first
	keys     keyTable
	head     *keyBuf
	tail     *keyBuf
	free     []*keyBuf
	peakKeys int // the most keys ever buffered at once
	bufs     bufPool
	compare  func(a, b *packed) int // compareItems over the engine's interned values
	window   int64                  // MaxPause + Disorder in milliseconds
	disorder int64                  // Disorder in milliseconds
	// Oldest first, a key is advanced (see advance) once the frontier is passAge past its
	// oldest unstepped event or it holds passLen of them; incremental off sequences every key
	// only once it is quiet, as the engine did before (the reference the tests compare with).
	passAge     int64
	passLen     int
	incremental bool
	states      []*keyState // freed states, for reuse
	stats       Stats
	closed      bool
	m           machine
	arena       arena  // the bytes of buffered events
	scratch     packed // the event Add packs
}

// New returns an Engine that calls emit for every sequence of a selected flow and, when assign
// is not nil, calls assign for every event of such a sequence (for mode=events). The Sequence
// passed to emit is reused after emit returns.
func New(o Options, emit func(*Sequence), assign func(ref int64, a Assignment)) *Engine {
	if o.MaxPause <= 0 {
		o.MaxPause = DefaultMaxPause
	}
	if o.MaxSpan <= 0 {
		o.MaxSpan = DefaultMaxSpan
	}
	// ParseArgs rejects values beyond these; a caller setting Options itself gets them
	// capped, so that the window below cannot overflow.
	o.MaxPause, o.MaxSpan = min(o.MaxPause, MaxMaxPause), min(o.MaxSpan, MaxMaxSpan)
	o.Disorder = min(max(o.Disorder, 0), time.Hour)
	if o.MaxKeyEvents <= 0 {
		o.MaxKeyEvents = DefaultMaxKey
	}
	e := &Engine{o: o, emit: emit, assign: assign, keys: newKeyTable(),
		window: (o.MaxPause + o.Disorder).Milliseconds(), disorder: o.Disorder.Milliseconds(),
		passLen: defaultPassLen, incremental: true}
	e.passAge = e.window
	switch o.Order {
	case OrderAscending:
		e.dir = 1
	case OrderDescending:
		e.dir = -1
	}
	e.compare = func(a, b *packed) int { return compareItems(&e.arena.in, a, b) }
	e.m.init(e)
	return e
}

// Stats returns the counters so far.
func (e *Engine) Stats() Stats { return e.stats }

// Add feeds one event; the engine copies it, strings included, so ev may point into a buffer
// the caller reuses once Add returns. Events must come in the Options' order (or, with
// OrderAuto, consistently oldest first or newest first); events out of order by more than
// Options.Disorder are still sequenced, but possibly differently from sorted input.
func (e *Engine) Add(ev *Event) {
	e.stats.Events++
	if e.closed {
		return
	}
	if ev.Time == 0 {
		e.stats.NoTime++
		return
	}
	c := classOf(ev.Type)
	if c == nil {
		e.stats.Ignored++
		return
	}
	it := &e.scratch
	e.arena.pack(it, ev, c)
	if e.dir == 0 {
		// Decide only on a difference beyond Disorder, so jitter cannot fake the direction.
		if d := ev.Time - e.pending0(ev.Time); d <= e.o.Disorder.Milliseconds() && d >= -e.o.Disorder.Milliseconds() {
			e.pending = append(e.pending, *it)
			return
		}
		e.dir = 1
		if ev.Time < e.pending[0].time {
			e.dir = -1
		}
		e.replay()
	}
	e.place(it)
}

// pending0 returns the time of the first pending event, or t when there is none.
func (e *Engine) pending0(t int64) int64 {
	if len(e.pending) == 0 {
		return t
	}
	return e.pending[0].time
}

// replay places the events that arrived before the direction was known.
func (e *Engine) replay() {
	for i := range e.pending {
		e.place(&e.pending[i])
	}
	e.pending = nil
}

// place buffers an event under its key and sequences the keys that became complete.
func (e *Engine) place(it *packed) {
	key := e.keyOf(it)
	if key == "" {
		e.stats.NoKey++
		return
	}
	t := it.time
	d := int64(e.dir)
	switch {
	case !e.haveWM || (t-e.wm)*d > 0:
		e.wm, e.haveWM = t, true
	case (e.wm-t)*d > e.o.Disorder.Milliseconds():
		e.stats.Late++
	}
	h, kb := e.keys.find(key)
	if kb == nil {
		// The key is the packed copy's (or a concatenation): the engine's own.
		kb = e.newKey(key, h, t)
	} else if (t-kb.edge)*d > 0 {
		kb.edge = t
	}
	if len(kb.items) == cap(kb.items) {
		kb.items = e.bufs.grow(kb.items)
	}
	kb.items = append(kb.items, *it)
	e.moveToTail(kb)
	switch {
	case d > 0 && e.incremental:
		if e.wm-e.disorder >= kb.due || len(kb.items) >= kb.dueLen {
			e.advance(kb)
		}
	case len(kb.items) >= e.o.MaxKeyEvents:
		e.stats.Forced++
		e.flush(kb)
	}
	for e.head != nil && (e.wm-e.head.edge)*d > e.window {
		e.flush(e.head)
	}
}

// Close sequences everything still buffered. Add after Close is ignored.
func (e *Engine) Close() {
	if e.closed {
		return
	}
	if e.dir == 0 {
		e.dir = 1
		e.replay()
	}
	for e.head != nil {
		e.flush(e.head)
	}
	e.closed = true
}

// keyOf returns the event's sequence key, "" when it has none.
func (e *Engine) keyOf(p *packed) string {
	switch e.o.By {
	case BySession:
		return p.str(pSessionID)
	case ByIP:
		return p.str(pIP)
	}
	id, login := p.user()
	if id != "" {
		return id
	}
	if login != "" {
		// A login never collides with an Okta id, which has no '\x00'.
		return "\x00" + login
	}
	return ""
}

func (e *Engine) newKey(key string, h uint64, t int64) *keyBuf {
	var kb *keyBuf
	if n := len(e.free); n > 0 {
		kb, e.free = e.free[n-1], e.free[:n-1]
	} else {
		kb = &keyBuf{}
	}
	kb.key, kb.hash, kb.edge = key, h, t
	kb.due, kb.dueLen = t+e.passAge, e.passLen
	e.keys.insert(kb)
	e.peakKeys = max(e.peakKeys, e.keys.n)
	return kb
}

func (e *Engine) moveToTail(kb *keyBuf) {
	if e.tail == kb {
		return
	}
	e.unlink(kb)
	kb.prev = e.tail
	if e.tail != nil {
		e.tail.next = kb
	} else {
		e.head = kb
	}
	e.tail = kb
}

func (e *Engine) unlink(kb *keyBuf) {
	if kb.prev != nil {
		kb.prev.next = kb.next
	} else if e.head == kb {
		e.head = kb.next
	}
	if kb.next != nil {
		kb.next.prev = kb.prev
	} else if e.tail == kb {
		e.tail = kb.prev
	}
	kb.prev, kb.next = nil, nil
}

// flush sequences a key's buffered events in time order, closes its flows and forgets the key.
func (e *Engine) flush(kb *keyBuf) {
	e.unlink(kb)
	e.keys.delete(kb)
	sorted := e.sortedItems(kb)
	e.m.begin(kb.key, kb.st)
	e.m.steps(sorted, 0, true)
	e.m.finish()
	if kb.st != nil {
		e.putState(kb.st)
		kb.st = nil
	}
	clearPointers(sorted)
	e.m.sorted = sorted[:0]
	e.bufs.put(kb.items)
	kb.items, kb.key = nil, ""
	// Keep as many freed keys as were ever live at once (up to maxFree): a stream that moves
	// past every key at once, as across a gap in time, then needs no new ones.
	if len(e.free) < min(max(e.peakKeys, 4096), maxFree) {
		e.free = append(e.free, kb)
	}
}

// sortedItems returns pointers to a key's buffered events in time order, in the machine's
// reused slice.
func (e *Engine) sortedItems(kb *keyBuf) []*packed {
	sorted := e.m.sorted[:0]
	for i := range kb.items {
		sorted = append(sorted, &kb.items[i])
	}
	orderItems(sorted, e.compare)
	return sorted
}

// defaultPassLen is how many unstepped events a key holds, oldest first, before it is advanced
// whatever their age: a key that busy (an office NAT's address, a password spray) is advanced
// every thousand events or so, a pass costing about what sequencing them at once would.
const defaultPassLen = 1024

// advance steps the events of a key that is still active, oldest first: those older than the
// frontier (the watermark less Disorder), before which no event can still arrive, and then
// only as far as the machine can decide (an MFA event with no flow open reads the events after
// it: see mfaFlow). The key's open flows and the ids it emitted that a later sequence could
// repeat are kept for the next pass (keyState); the events stepped are dropped from its buffer,
// so that a key busy all day holds its open flows and the last window, not its day. Stepping
// the same events in the same order with the same state, the machine emits exactly what one
// pass over the key's whole buffer would (TestIncrementalMatchesReference).
func (e *Engine) advance(kb *keyBuf) {
	e.stats.Passes++
	front := e.wm - e.disorder
	sorted := e.sortedItems(kb)
	final := 0 // sorted by time: the final events are a prefix
	for final < len(sorted) && sorted[final].time < front {
		final++
	}
	done := 0
	if final > 0 {
		e.m.begin(kb.key, kb.st)
		done = e.m.steps(sorted[:final], front, false)
		// No later sequence starts before the first event left, or the last one stepped.
		bound := sorted[min(done, final-1)].time
		kb.st = e.m.suspend(kb.st, bound, e)
	}
	wait := front + e.passAge // the next pass, unless an event comes that is older
	if done < len(sorted) {
		wait = sorted[done].time + e.passAge
		if done < final {
			wait = e.m.wait // an MFA event waits for the events in its reach (mfaFlow)
		}
	}
	if done > 0 {
		// Drop the stepped events (their flows hold copies now), keeping arrival order.
		for _, p := range sorted[:done] {
			p.cls = nil
		}
		n := 0
		for i := range kb.items {
			if kb.items[i].cls != nil {
				kb.items[n] = kb.items[i]
				n++
			}
		}
		clear(kb.items[n:])
		kb.items = kb.items[:n]
		if cap(kb.items) > 4*bufClassMax && n < cap(kb.items)/8 {
			// A burst is over: give back its buffer.
			nb := append(make([]packed, 0, max(2*n, 4)), kb.items...)
			e.bufs.put(kb.items)
			kb.items = nb
		}
	}
	clearPointers(sorted)
	e.m.sorted = sorted[:0]
	n := len(kb.items)
	kb.due, kb.dueLen = wait, min(max(n+e.passLen, 2*n), e.o.MaxKeyEvents)
	if n >= e.o.MaxKeyEvents {
		// More events within Disorder of the watermark than the engine keeps for one key.
		e.stats.Forced++
		e.flush(kb)
	}
}

// getState returns an empty keyState.
func (e *Engine) getState() *keyState {
	if n := len(e.states); n > 0 {
		st := e.states[n-1]
		e.states = e.states[:n-1]
		return st
	}
	return &keyState{}
}

// putState recycles a keyState whose flows are closed.
func (e *Engine) putState(st *keyState) {
	st.open, st.openSet = [numFlows]*flowRun{}, 0
	st.ids = st.ids[:0]
	if cap(st.ids) > maxKeptSet {
		st.ids = nil
	}
	if len(e.states) < maxFree {
		e.states = append(e.states, st)
	}
}

// clearPointers sets the pointers of s to nil, so that they keep no buffer alive. A loop, as
// clear calls memclrHasPointers, which for the two or three pointers of a typical key or flow
// costs four times the stores (the loop saves 5M of 1,513M instructions on f200k, measured).
func clearPointers(s []*packed) {
	for i := len(s) - 1; i >= 0; i-- { // not the range idiom, which the compiler makes a clear
		s[i] = nil
	}
}

// orderItems sorts a key's events by order, which orders by time first. Splunk sends events
// newest first, so a key's buffer is usually already in reverse (or, after | sort _time, in
// order): one pass finds that and reverses or keeps it, instead of sorting. The pass compares
// the times itself and calls order only on a tie (which saves 5M of 1,518M instructions on
// f200k, measured).
func orderItems(items []*packed, order func(a, b *packed) int) {
	ascending, descending := true, true
	for i := 1; i < len(items) && (ascending || descending); i++ {
		a, b := items[i-1], items[i]
		c := cmp.Compare(a.time, b.time)
		if c == 0 {
			c = order(a, b)
		}
		ascending = ascending && c <= 0
		descending = descending && c >= 0
	}
	switch {
	case ascending:
	case descending:
		slices.Reverse(items)
	default:
		slices.SortFunc(items, order)
	}
}

// compareItems orders events by time, then documented step order, then uuid, then content,
// so that equal inputs sort the same whatever order they arrived in.
func compareItems(t *interner, a, b *packed) int {
	if c := cmp.Compare(a.time, b.time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.cls.rank, b.cls.rank); c != 0 {
		return c
	}
	if c := strings.Compare(a.str(pUUID), b.str(pUUID)); c != 0 {
		return c
	}
	for _, c := range [...]int{
		strings.Compare(a.typ(), b.typ()), strings.Compare(a.result(t), b.result(t)),
		strings.Compare(a.str(pReason), b.str(pReason)), strings.Compare(a.str(pActorID), b.str(pActorID)),
		strings.Compare(a.str(pActorLogin), b.str(pActorLogin)), strings.Compare(a.str(pTargetID), b.str(pTargetID)),
		strings.Compare(a.str(pIP), b.str(pIP)), strings.Compare(a.userAgent(t), b.userAgent(t)),
		strings.Compare(a.str(pSessionID), b.str(pSessionID)), strings.Compare(a.str(pFactor), b.str(pFactor)),
		strings.Compare(a.str(pApp), b.str(pApp)), strings.Compare(a.actorType(t), b.actorType(t)),
		strings.Compare(a.actorName(t), b.actorName(t)), strings.Compare(a.str(pTargetLogin), b.str(pTargetLogin)),
	} {
		if c != 0 {
			return c
		}
	}
	return 0
}

// Buffer sizes the pool keeps: 1, 2, 4, ... 1<<(bufClasses-1) events.
const (
	bufClasses  = 8
	bufClassMax = 1 << (bufClasses - 1)
	maxPoolBufs = 4096 // per size
)

// bufPool recycles the buffers of keys by size, so that keys grow their buffers by taking a
// larger one instead of allocating, and a buffer's memory goes to whichever key needs that
// size next rather than staying with one key.
type bufPool [bufClasses][][]packed

// grow returns a buffer with the events of b and room for at least one more, and recycles b.
func (p *bufPool) grow(b []packed) []packed {
	// The class of twice b's size. A key starts with room for one event: a user with a
	// sign-in open inside the window often has only its start, and a buffer of four held
	// three empty packed events. Measured: starting with two costs 96 more bytes per open
	// flow (BenchmarkOpenFlow, 471 -> 567 B) to save 2% of Engine.Add's instructions
	// (874M -> 857M for 400 000 events oldest first, GOGC=off, callgrind). A key's second
	// event gets room for four, one copy where 1, 2, 4 made two (898M -> 880M, same memory).
	k := bits.Len(uint(cap(b)))
	if k == 1 {
		k = 2
	}
	var nb []packed
	if k < bufClasses {
		if n := len(p[k]); n > 0 {
			nb, p[k] = p[k][n-1], p[k][:n-1]
		} else {
			nb = make([]packed, 0, 1<<k)
		}
	} else {
		nb = make([]packed, 0, 2*cap(b))
	}
	nb = append(nb, b...)
	p.put(b)
	return nb
}

// put recycles b, forgetting its events.
func (p *bufPool) put(b []packed) {
	if cap(b) == 0 {
		return
	}
	clear(b)
	k := bits.Len(uint(cap(b))) - 1 // the largest class b holds
	if k < bufClasses && len(p[k]) < maxPoolBufs {
		p[k] = append(p[k], b[:0])
	}
}

package session

import (
	"cmp"
	"slices"
)

// item is one buffered event with its class.
type item struct {
	ev  Event
	cls *class
}

// keyBuf holds the buffered events of one key, linked into the engine's list of keys in the
// order they last received an event, which is (nearly) the order in which they fall due.
type keyBuf struct {
	key        string
	items      []packed
	edge       int64 // the buffered time furthest in the stream's direction
	prev, next *keyBuf
}

// Engine turns Okta events into sequences. Feed it with Add in either time order, then call
// Close; sequences arrive through the callback as each key's buffered events become complete
// (a key is complete once the stream has moved MaxPause+Disorder past its last event), so
// memory follows the keys active inside that window, not the input size.
//
// An Engine is not safe for concurrent use.
type Engine struct {
	o      Options
	emit   func(*Sequence)
	assign func(ref int64, a Assignment)

	dir     int8 // +1 oldest first, -1 newest first, 0 not known yet
	wm      int64
	haveWM  bool
	pending []packed // events seen before the direction is known; all within Disorder of the first
	keys    map[string]*keyBuf
	head    *keyBuf
	tail    *keyBuf
	free    []*keyBuf
	window  int64 // MaxPause + Disorder in milliseconds
	stats   Stats
	closed  bool
	m       machine
	ev      Event // scratch for place
	arena   arena // the bytes of buffered events
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
	if o.Disorder < 0 {
		o.Disorder = 0
	}
	if o.MaxKeyEvents <= 0 {
		o.MaxKeyEvents = DefaultMaxKey
	}
	e := &Engine{o: o, emit: emit, assign: assign, keys: make(map[string]*keyBuf),
		window: (o.MaxPause + o.Disorder).Milliseconds()}
	switch o.Order {
	case OrderAscending:
		e.dir = 1
	case OrderDescending:
		e.dir = -1
	}
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
	it := e.arena.pack(ev, c)
	if e.dir == 0 {
		// Decide only on a difference beyond Disorder, so jitter cannot fake the direction.
		if d := ev.Time - e.pending0(ev.Time); d <= e.o.Disorder.Milliseconds() && d >= -e.o.Disorder.Milliseconds() {
			e.pending = append(e.pending, it)
			return
		}
		e.dir = 1
		if ev.Time < e.pending[0].time {
			e.dir = -1
		}
		e.replay()
	}
	e.place(&it, ev)
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
		p := &e.pending[i]
		p.unpack(&e.ev)
		e.place(p, &e.ev)
	}
	e.pending = nil
}

// place buffers an event under its key and sequences the keys that became complete.
// ev is the event it packs, whose strings may be the caller's.
func (e *Engine) place(it *packed, ev *Event) {
	key := e.keyOf(ev, it.cls)
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
	kb := e.keys[key]
	if kb == nil {
		// The key the engine keeps must be its own: the same key from the packed copy.
		it.unpack(&e.ev)
		kb = e.newKey(e.keyOf(&e.ev, it.cls), t)
	} else if (t-kb.edge)*d > 0 {
		kb.edge = t
	}
	kb.items = append(kb.items, *it)
	e.moveToTail(kb)
	if len(kb.items) >= e.o.MaxKeyEvents {
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
func (e *Engine) keyOf(ev *Event, c *class) string {
	switch e.o.By {
	case BySession:
		return ev.SessionID
	case ByIP:
		return ev.IP
	}
	id, login := ev.user(c)
	if id != "" {
		return id
	}
	if login != "" {
		// A login never collides with an Okta id, which has no '\x00'.
		return "\x00" + login
	}
	return ""
}

func (e *Engine) newKey(key string, t int64) *keyBuf {
	var kb *keyBuf
	if n := len(e.free); n > 0 {
		kb, e.free = e.free[n-1], e.free[:n-1]
	} else {
		kb = &keyBuf{}
	}
	kb.key, kb.edge = key, t
	e.keys[key] = kb
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

// flush sequences a key's buffered events in time order and forgets the key.
func (e *Engine) flush(kb *keyBuf) {
	e.unlink(kb)
	delete(e.keys, kb.key)
	e.m.items = slices.Grow(e.m.items[:0], len(kb.items))[:len(kb.items)]
	sorted := e.m.sorted[:0]
	for i := range kb.items {
		it := &e.m.items[i]
		kb.items[i].unpack(&it.ev)
		it.cls = kb.items[i].cls
		sorted = append(sorted, it)
	}
	slices.SortFunc(sorted, compareItems)
	e.m.run(kb.key, sorted)
	clear(sorted)
	e.m.sorted = sorted[:0]
	clear(e.m.items)
	clear(kb.items)
	if cap(kb.items) > 16 {
		// Keep only small buffers: a recycled key would otherwise keep the largest capacity
		// any key ever needed, and most keys hold one flow of a handful of events.
		kb.items = nil
	}
	kb.items, kb.key = kb.items[:0], ""
	if len(e.free) < 4096 {
		e.free = append(e.free, kb)
	}
}

// compareItems orders events by time, then documented step order, then uuid, then content,
// so that equal inputs sort the same whatever order they arrived in.
func compareItems(a, b *item) int {
	if c := cmp.Compare(a.ev.Time, b.ev.Time); c != 0 {
		return c
	}
	if c := cmp.Compare(a.cls.rank, b.cls.rank); c != 0 {
		return c
	}
	x, y := &a.ev, &b.ev
	for _, p := range [...][2]string{
		{x.UUID, y.UUID}, {x.Type, y.Type}, {x.Result, y.Result}, {x.Reason, y.Reason},
		{x.ActorID, y.ActorID}, {x.ActorLogin, y.ActorLogin}, {x.TargetID, y.TargetID},
		{x.IP, y.IP}, {x.UserAgent, y.UserAgent}, {x.SessionID, y.SessionID},
		{x.Factor, y.Factor}, {x.App, y.App}, {x.ActorType, y.ActorType},
		{x.ActorName, y.ActorName}, {x.TargetLogin, y.TargetLogin},
	} {
		if c := cmp.Compare(p[0], p[1]); c != 0 {
			return c
		}
	}
	return 0
}

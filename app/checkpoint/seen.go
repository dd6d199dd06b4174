package checkpoint

import (
	"slices"
	"time"

	"github.com/oktasight/oktasight/app/okta"
)

// Seen remembers the uuids of the last few pages written, oldest page first. Okta's cursor
// is exact, but an event published in the same millisecond as a page boundary, or a page
// served again after a restart, must not reach the index twice.
//
// Each page also keeps the latest published time among its events. In Okta's ascending
// order nearly every event is newer than every remembered page, so it is answered by two
// time comparisons; only events at a page boundary, late-persisted ones and pages served
// again are looked up. This keeps the set off the input's profile, where a map of 2000 uuids
// updated on every page took some 5% of the CPU.
type Seen struct {
	maxPages, maxUUIDs int
	pages              []seenPage
}

type seenPage struct {
	uuids  []string
	newest time.Time           // latest published on the page; zero when unknown
	scans  int                 // lookups so far
	index  map[string]struct{} // built once a page is looked up often
}

// indexAfter is how many linear lookups a page answers before it builds an index: a few
// boundary events are cheaper to scan for, a page served again after a restart is not.
const indexAfter = 16

// NewSeen keeps at most maxPages pages and maxUUIDs uuids in total.
func NewSeen(maxPages, maxUUIDs int) *Seen {
	return &Seen{maxPages: max(maxPages, 1), maxUUIDs: max(maxUUIDs, 1)}
}

// AddPage records the uuids of a page just written and the latest published time among its
// events (zero if unknown), dropping the oldest pages over the bounds.
func (s *Seen) AddPage(uuids []string, newest time.Time) {
	s.pages = append(s.pages, seenPage{uuids: slices.Clone(uuids), newest: newest})
	s.trim()
}

// AddEvents records a page just written: its events' uuids and its latest published time.
func (s *Seen) AddEvents(events []okta.Event) {
	if len(events) == 0 {
		return
	}
	uuids := make([]string, len(events))
	var newest time.Time
	for i, ev := range events {
		uuids[i] = ev.UUID
		if ev.Published.After(newest) {
			newest = ev.Published
		}
	}
	s.pages = append(s.pages, seenPage{uuids: uuids, newest: newest})
	s.trim()
}

// Contains reports whether uuid, an event published at published (zero if unknown), was on
// one of the remembered pages.
func (s *Seen) Contains(uuid string, published time.Time) bool {
	for i := range s.pages {
		p := &s.pages[i]
		if !p.newest.IsZero() && published.After(p.newest) {
			continue // every event on p is older: uuid cannot be one of them
		}
		if p.has(uuid) {
			return true
		}
	}
	return false
}

func (p *seenPage) has(uuid string) bool {
	if p.index == nil {
		if p.scans++; p.scans <= indexAfter {
			return slices.Contains(p.uuids, uuid)
		}
		p.index = make(map[string]struct{}, len(p.uuids))
		for _, u := range p.uuids {
			p.index[u] = struct{}{}
		}
	}
	_, ok := p.index[uuid]
	return ok
}

// List returns the remembered uuids, oldest first, for the checkpoint.
func (s *Seen) List() []string {
	var out []string
	for _, p := range s.pages {
		out = append(out, p.uuids...)
	}
	return out
}

// LoadList restores a List from a checkpoint as one page, whose times are unknown.
func (s *Seen) LoadList(uuids []string) {
	s.pages = nil
	if len(uuids) > s.maxUUIDs {
		uuids = uuids[len(uuids)-s.maxUUIDs:]
	}
	if len(uuids) > 0 {
		s.AddPage(uuids, time.Time{})
	}
}

// trim drops the oldest pages, then the oldest uuids of the oldest page, over the bounds.
// A page's newest time stays a bound when uuids leave it; its index does not.
func (s *Seen) trim() {
	if over := len(s.pages) - s.maxPages; over > 0 {
		s.pages = slices.Delete(s.pages, 0, over)
	}
	total := 0
	for _, p := range s.pages {
		total += len(p.uuids)
	}
	for total > s.maxUUIDs && len(s.pages) > 0 {
		first := &s.pages[0]
		over := min(total-s.maxUUIDs, len(first.uuids))
		first.uuids, first.index, first.scans = first.uuids[over:], nil, 0
		total -= over
		if len(first.uuids) == 0 {
			s.pages = slices.Delete(s.pages, 0, 1)
		}
	}
}

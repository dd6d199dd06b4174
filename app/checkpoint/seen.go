package checkpoint

// Seen remembers the uuids of the last few pages written, oldest page first. Okta's cursor
// is exact, but an event published in the same millisecond as a page boundary, or a page
// served again after a restart, must not reach the index twice.
type Seen struct {
	maxPages, maxUUIDs int
	pages              [][]string
	count              map[string]int // how many remembered pages hold each uuid
}

// NewSeen keeps at most maxPages pages and maxUUIDs uuids in total.
func NewSeen(maxPages, maxUUIDs int) *Seen {
	return &Seen{maxPages: max(maxPages, 1), maxUUIDs: max(maxUUIDs, 1), count: make(map[string]int, maxUUIDs)}
}

// AddPage records the uuids of a page just written, dropping the oldest pages over the bounds.
func (s *Seen) AddPage(uuids []string) {
	page := make([]string, len(uuids))
	copy(page, uuids)
	s.pages = append(s.pages, page)
	for _, u := range page {
		s.count[u]++
	}
	s.trim()
}

// Contains reports whether uuid was in one of the remembered pages.
func (s *Seen) Contains(uuid string) bool {
	return s.count[uuid] > 0
}

// List returns the remembered uuids, oldest first, for the checkpoint.
func (s *Seen) List() []string {
	var out []string
	for _, p := range s.pages {
		out = append(out, p...)
	}
	return out
}

// LoadList restores a List from a checkpoint as one page.
func (s *Seen) LoadList(uuids []string) {
	s.pages = nil
	clear(s.count)
	if len(uuids) > s.maxUUIDs {
		uuids = uuids[len(uuids)-s.maxUUIDs:]
	}
	if len(uuids) > 0 {
		s.AddPage(uuids)
	}
}

// trim drops the oldest pages, then the oldest uuids of the oldest page, over the bounds;
// the counts follow, so nothing is recomputed per page.
func (s *Seen) trim() {
	for len(s.pages) > s.maxPages {
		s.forget(s.pages[0])
		s.pages = s.pages[1:]
	}
	total := 0
	for _, p := range s.pages {
		total += len(p)
	}
	for total > s.maxUUIDs && len(s.pages) > 0 {
		over := min(total-s.maxUUIDs, len(s.pages[0]))
		s.forget(s.pages[0][:over])
		s.pages[0] = s.pages[0][over:]
		total -= over
		if len(s.pages[0]) == 0 {
			s.pages = s.pages[1:]
		}
	}
}

func (s *Seen) forget(uuids []string) {
	for _, u := range uuids {
		if s.count[u]--; s.count[u] <= 0 {
			delete(s.count, u)
		}
	}
}

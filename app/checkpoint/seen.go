package checkpoint

// Seen remembers the uuids of the last few pages written, oldest page first. Okta's cursor
// is exact, but an event published in the same millisecond as a page boundary, or a page
// served again after a restart, must not reach the index twice.
type Seen struct {
	maxPages, maxUUIDs int
	pages              [][]string
	set                map[string]struct{}
}

// NewSeen keeps at most maxPages pages and maxUUIDs uuids in total.
func NewSeen(maxPages, maxUUIDs int) *Seen {
	return &Seen{maxPages: max(maxPages, 1), maxUUIDs: max(maxUUIDs, 1), set: make(map[string]struct{}, maxUUIDs)}
}

// AddPage records the uuids of a page just written, dropping the oldest pages over the bounds.
func (s *Seen) AddPage(uuids []string) {
	page := make([]string, len(uuids))
	copy(page, uuids)
	s.pages = append(s.pages, page)
	s.trim()
	s.rebuild()
}

// Contains reports whether uuid was in one of the remembered pages.
func (s *Seen) Contains(uuid string) bool {
	_, ok := s.set[uuid]
	return ok
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
	if len(uuids) > s.maxUUIDs {
		uuids = uuids[len(uuids)-s.maxUUIDs:]
	}
	if len(uuids) > 0 {
		s.pages = append(s.pages, append([]string(nil), uuids...))
	}
	s.rebuild()
}

func (s *Seen) trim() {
	for len(s.pages) > s.maxPages {
		s.pages = s.pages[1:]
	}
	total := 0
	for _, p := range s.pages {
		total += len(p)
	}
	for total > s.maxUUIDs && len(s.pages) > 0 {
		over := total - s.maxUUIDs
		if over >= len(s.pages[0]) {
			total -= len(s.pages[0])
			s.pages = s.pages[1:]
			continue
		}
		s.pages[0] = s.pages[0][over:]
		total -= over
	}
}

func (s *Seen) rebuild() {
	clear(s.set)
	for _, p := range s.pages {
		for _, u := range p {
			s.set[u] = struct{}{}
		}
	}
}

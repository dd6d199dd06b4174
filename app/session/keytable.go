package session

import "hash/maphash"

// keyTable maps keys to their buffers, like a map[string]*keyBuf, but each key is hashed once
// per event: the hash found by a lookup serves the insertion that follows it, and stays with
// the buffer for its deletion and for growing the table. Open addressing, linear probing,
// deletion by shifting back (no tombstones).
type keyTable struct {
	seed  maphash.Seed
	slots []keySlot // a power of two long
	n     int       // keys held
}

type keySlot struct {
	hash uint64
	kb   *keyBuf // nil for an empty slot
}

func newKeyTable() keyTable {
	return keyTable{seed: maphash.MakeSeed(), slots: make([]keySlot, 64)}
}

// find returns the key's hash and its buffer, nil when there is none.
func (t *keyTable) find(key string) (uint64, *keyBuf) {
	h := maphash.String(t.seed, key)
	mask := uint64(len(t.slots) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.kb == nil {
			return h, nil
		}
		if s.hash == h && s.kb.key == key {
			return h, s.kb
		}
	}
}

// insert adds kb, whose key is not in the table, under kb.hash.
func (t *keyTable) insert(kb *keyBuf) {
	if 4*(t.n+1) > 3*len(t.slots) {
		t.grow()
	}
	t.place(keySlot{kb.hash, kb})
	t.n++
}

func (t *keyTable) place(s keySlot) {
	mask := uint64(len(t.slots) - 1)
	i := s.hash & mask
	for t.slots[i].kb != nil {
		i = (i + 1) & mask
	}
	t.slots[i] = s
}

func (t *keyTable) grow() {
	old := t.slots
	t.slots = make([]keySlot, 2*len(old))
	for _, s := range old {
		if s.kb != nil {
			t.place(s)
		}
	}
}

// delete removes kb, which is in the table.
func (t *keyTable) delete(kb *keyBuf) {
	mask := uint64(len(t.slots) - 1)
	i := kb.hash & mask
	for t.slots[i].kb != kb {
		i = (i + 1) & mask
	}
	// Shift back the entries after i that probed past it, so that every key stays reachable
	// from its home slot without crossing an empty one.
	for j := (i + 1) & mask; t.slots[j].kb != nil; j = (j + 1) & mask {
		home := t.slots[j].hash & mask
		if (j-home)&mask >= (j-i)&mask {
			t.slots[i] = t.slots[j]
			i = j
		}
	}
	t.slots[i] = keySlot{}
	t.n--
}

package projections

import (
	"sync"
)

// strtab is a projection's own string table. States hold small local ids
// instead of strings; the table is saved with the state, so a state never
// depends on the log's dictionary ids and can hold strings that are not in
// the log at all (the categories upcasters derive). Id 0 is the empty string,
// meaning "absent". It is safe for concurrent use.
type strtab struct {
	mu   sync.RWMutex
	strs []string
	ids  map[string]uint32
	size int64 // estimated bytes held
}

// strBytes estimates what one string costs the table beside its bytes: its
// slice entry and its map entry.
const strBytes = 64

func newStrtab() *strtab {
	return &strtab{strs: []string{""}, ids: map[string]uint32{"": 0}}
}

// intern returns the local id of s, adding it when new.
func (t *strtab) intern(s string) uint32 {
	t.mu.RLock()
	id, ok := t.ids[s]
	t.mu.RUnlock()
	if ok {
		return id
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.ids[s]; ok {
		return id
	}
	id = uint32(len(t.strs))
	t.strs = append(t.strs, s)
	t.ids[s] = id
	t.size += int64(len(s)) + strBytes
	return id
}

// lookup returns the local id of s without adding it.
func (t *strtab) lookup(s string) (uint32, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.ids[s]
	return id, ok
}

// str returns the string with local id id.
func (t *strtab) str(id uint32) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if int(id) < len(t.strs) {
		return t.strs[id]
	}
	return ""
}

// from returns a copy of the strings with ids n and above.
func (t *strtab) from(n int) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if n >= len(t.strs) {
		return nil
	}
	return append([]string(nil), t.strs[n:]...)
}

// bytes estimates the memory the table holds.
func (t *strtab) bytes() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

// strtabFrom rebuilds a table from its strings (index = id).
func strtabFrom(strs []string) *strtab {
	t := &strtab{strs: strs, ids: make(map[string]uint32, len(strs))}
	if len(t.strs) == 0 {
		t.strs = []string{""}
	}
	for i, s := range t.strs {
		t.ids[s] = uint32(i)
		t.size += int64(len(s)) + strBytes
	}
	return t
}

// resolver maps a snapshot's dictionary ids to a table's local ids, caching
// each one. One resolver belongs to one goroutine and one snapshot.
type resolver struct {
	tab    *strtab
	snap   Snapshot
	byDict []uint32 // dictionary id → local id + 1; 0 = not resolved yet
}

func newResolver(tab *strtab, snap Snapshot) *resolver {
	return &resolver{tab: tab, snap: snap, byDict: make([]uint32, snap.DictLen()+1)}
}

// local returns the local id of dictionary id d (0 stays 0).
func (r *resolver) local(d uint32) uint32 {
	if d == 0 {
		return 0
	}
	if int(d) < len(r.byDict) {
		if v := r.byDict[d]; v != 0 {
			return v - 1
		}
	} else {
		r.byDict = append(r.byDict, make([]uint32, int(d)+1-len(r.byDict))...)
	}
	id := r.tab.intern(r.snap.String(d))
	r.byDict[d] = id + 1
	return id
}

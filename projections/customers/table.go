package customers

import "sync"

// Table gives the strings a state holds (segments, categories, channels,
// reasons, competitors, currencies) small local ids. Id 0 is the empty
// string, meaning absent. The table is saved with the state, so the state
// never depends on another component's ids. It is safe for concurrent use.
type Table struct {
	mu   sync.RWMutex
	strs []string
	ids  map[string]uint32
}

// NewTable returns a table holding only the empty string.
func NewTable() *Table {
	return &Table{strs: []string{""}, ids: map[string]uint32{"": 0}}
}

// Intern returns the id of s, adding it when new.
func (t *Table) Intern(s string) uint32 {
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
	return id
}

// Lookup returns the id of s without adding it.
func (t *Table) Lookup(s string) (uint32, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	id, ok := t.ids[s]
	return id, ok
}

// Str returns the string with id id ("" when unknown).
func (t *Table) Str(id uint32) string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if int(id) < len(t.strs) {
		return t.strs[id]
	}
	return ""
}

// Len returns the number of ids in use, the empty string's included.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return len(t.strs)
}

// list returns a copy of the strings, index = id.
func (t *Table) list() []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]string(nil), t.strs...)
}

// tableFrom rebuilds a table from list's output.
func tableFrom(strs []string) *Table {
	t := &Table{strs: strs, ids: make(map[string]uint32, len(strs))}
	if len(t.strs) == 0 || t.strs[0] != "" {
		t.strs = append([]string{""}, t.strs...)
	}
	for i, s := range t.strs {
		t.ids[s] = uint32(i)
	}
	return t
}

// Package strtab is the string table of plaint's projection states: states
// hold small local ids instead of strings, and the table is saved with the
// state, so a state never depends on the log's dictionary ids and can hold
// strings that are not in the log at all (the categories upcasters derive).
package strtab

import "sync"

// Table gives strings small local ids. Id 0 is the empty string, meaning
// absent. It is safe for concurrent use.
type Table struct {
	mu   sync.RWMutex
	strs []string
	ids  map[string]uint32
	size int64 // estimated bytes held
}

// strBytes estimates what one string costs the table beside its bytes: its
// slice entry and its map entry.
const strBytes = 64

// New returns a table holding only the empty string.
func New() *Table {
	return &Table{strs: []string{""}, ids: map[string]uint32{"": 0}}
}

// FromList rebuilds a table from its strings (index = id), as List or From
// returned them; the empty string is id 0 even when strs lacks it.
func FromList(strs []string) *Table {
	if len(strs) == 0 || strs[0] != "" {
		strs = append([]string{""}, strs...)
	}
	t := &Table{strs: strs, ids: make(map[string]uint32, len(strs))}
	for i, s := range t.strs {
		t.ids[s] = uint32(i)
		t.size += int64(len(s)) + strBytes
	}
	return t
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
	t.size += int64(len(s)) + strBytes
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

// List returns a copy of every string, index = id.
func (t *Table) List() []string { return t.From(0) }

// From returns a copy of the strings with ids n and above.
func (t *Table) From(n int) []string {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if n >= len(t.strs) {
		return nil
	}
	return append([]string(nil), t.strs[n:]...)
}

// Bytes estimates the memory the table holds.
func (t *Table) Bytes() int64 {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.size
}

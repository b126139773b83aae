package eventstore

import (
	"encoding/binary"
	"fmt"
	"sync/atomic"
)

// dict is the string dictionary shared by every record: low-cardinality values
// (sources, customers, categories, segments...) are stored once and records
// hold their 4-byte ids. Ids start at 1 and are dense, so lookups are slice
// indexing. Only the appender mutates it; readers load a published slice.
type dict struct {
	ids  map[string]uint32        // writer only
	strs atomic.Pointer[[]string] // index = id; [0] = ""
}

func newDict() *dict {
	d := &dict{ids: map[string]uint32{}}
	s := []string{""}
	d.strs.Store(&s)
	return d
}

// snapshot returns the strings published so far.
func (d *dict) snapshot() dictView { return dictView(*d.strs.Load()) }

// dictView is an immutable view of the dictionary.
type dictView []string

func (v dictView) str(id uint32) (string, error) {
	if int(id) >= len(v) || id == 0 {
		return "", fmt.Errorf("dictionary id %d is unknown (dictionary has %d entries)", id, len(v)-1)
	}
	return v[id], nil
}

// txDict collects the strings a transaction adds to the dictionary.
type txDict struct {
	d     *dict
	next  uint32
	added []string
	index map[string]uint32
}

func (d *dict) begin() *txDict {
	return &txDict{d: d, next: uint32(len(*d.strs.Load()))}
}

func (t *txDict) intern(s string) uint32 {
	if id, ok := t.d.ids[s]; ok {
		return id
	}
	if id, ok := t.index[s]; ok {
		return id
	}
	if t.index == nil {
		t.index = map[string]uint32{}
	}
	id := t.next
	t.next++
	t.added = append(t.added, s)
	t.index[s] = id
	return id
}

// publish makes the transaction's additions visible after it committed.
func (t *txDict) publish() {
	if len(t.added) == 0 {
		return
	}
	cur := *t.d.strs.Load()
	base := uint32(len(cur))
	for i, s := range t.added {
		t.d.ids[s] = base + uint32(i)
	}
	next := append(cur, t.added...)
	t.d.strs.Store(&next)
}

func dictKey(id uint32) []byte {
	var k [4]byte
	binary.BigEndian.PutUint32(k[:], id)
	return k[:]
}

package projections

import (
	"encoding/binary"
	"fmt"

	"github.com/plaint/plaint/projections/customers"
)

// headerKey is the entry of a customers state's header; customer entries
// are their 4-byte big-endian keys, which never collide with it.
var headerKey = []byte("header")

// SaveEntries writes the header and every customer whose history changed
// (all of them with all), under their 4-byte keys.
func (f *customersFold) SaveEntries(b Entries, all bool) error {
	if all {
		f.st.MarkAllDirty()
	}
	var k [4]byte
	err := f.st.TakeDirty(func(key uint32, hist []byte) error {
		binary.BigEndian.PutUint32(k[:], key)
		if len(hist) == 0 {
			return b.Delete(k[:])
		}
		return b.Put(k[:], hist)
	})
	if err != nil {
		return fmt.Errorf("save customers: %w", err)
	}
	if err := b.Put(headerKey, f.st.Header()); err != nil {
		return fmt.Errorf("save customers: %w", err)
	}
	return nil
}

// LoadEntries reads the header and every customer's history.
func (f *customersFold) LoadEntries(b Entries) error {
	h := b.Get(headerKey)
	if h == nil {
		return fmt.Errorf("customer state has no header")
	}
	st, err := customers.Load(h, func(fn func(uint32, []byte) error) error {
		return b.ForEach(func(k, v []byte) error {
			if len(k) != 4 {
				return nil // the header
			}
			return fn(binary.BigEndian.Uint32(k), v)
		})
	})
	if err != nil {
		return fmt.Errorf("load customers: %w", err)
	}
	f.st = st
	f.answers.reset()
	return nil
}

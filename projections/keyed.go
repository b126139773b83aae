package projections

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"

	"github.com/plaint/plaint/internal/strtab"
)

// The built-in folds saved entry by entry (base, first-seen, spec) keep
// their state in maps; each checkpoint writes the map entries that changed
// since the last one, the strings their table gained, and a small header.
// In a projection's entries bucket, keys start with a byte that says what
// they hold (not a letter or digit, so that a string stands alone in the
// file's pages, as the erasure check wants):
//
//	1                  header (the fold's own, possibly empty)
//	2 id (4 bytes)     string id of the fold's string table
//	3 key              one map entry, key and value in the fold's encoding
const (
	entryHeader = 1
	entryString = 2
	entryKey    = 3
)

// dirtySet is the keys of a map changed since the state was last saved.
type dirtySet[K comparable] struct{ m map[K]struct{} }

// mark records that k changed (was set or deleted).
func (d *dirtySet[K]) mark(k K) {
	if d.m == nil {
		d.m = map[K]struct{}{}
	}
	d.m[k] = struct{}{}
}

// keyedState is what a built-in fold saved entry by entry has in common:
// the changed keys of its map and how much of its string table is saved.
type keyedState[K comparable] struct {
	dirty     dirtySet[K]
	savedStrs int // strings of the table saved so far
}

// keyedCodec says how the entries of one map are saved.
type keyedCodec[K comparable, V any] struct {
	key   func(dst []byte, k K) []byte
	value func(dst []byte, v V) []byte
}

// saveKeyed writes into b the header, the strings of tab not saved yet
// (tab may be nil) and the entries of m whose keys changed since the last
// save (every entry with all), in key order; a changed key m no longer
// holds is deleted. It clears the dirty set: a save whose transaction
// fails is followed by one with all (see EntryState).
func saveKeyed[K comparable, V any](b Entries, all bool, s *keyedState[K], m map[K]V, c keyedCodec[K, V], tab *strtab.Table, header []byte) error {
	if err := b.Put([]byte{entryHeader}, header); err != nil {
		return err
	}
	if all {
		s.savedStrs = 0
	}
	if tab != nil {
		strs := tab.From(s.savedStrs)
		for i, str := range strs {
			k := binary.BigEndian.AppendUint32([]byte{entryString}, uint32(s.savedStrs+i))
			if err := b.Put(k, []byte(str)); err != nil {
				return err
			}
		}
		s.savedStrs += len(strs)
	}
	var keys []K
	if all {
		keys = make([]K, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
	} else {
		keys = make([]K, 0, len(s.dirty.m))
		for k := range s.dirty.m {
			keys = append(keys, k)
		}
	}
	clear(s.dirty.m)
	enc := make([][]byte, len(keys))
	for i, k := range keys {
		enc[i] = c.key([]byte{entryKey}, k)
	}
	order := make([]int, len(keys))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return bytes.Compare(enc[order[i]], enc[order[j]]) < 0 })
	for _, i := range order {
		v, ok := m[keys[i]]
		if !ok {
			if err := b.Delete(enc[i]); err != nil {
				return err
			}
			continue
		}
		// A new buffer each: bbolt keeps what Put is given until the
		// transaction commits.
		if err := b.Put(enc[i], c.value(nil, v)); err != nil {
			return err
		}
	}
	return nil
}

// loadKeyed reads what saveKeyed wrote: it returns the header and the
// strings (index = id) and hands each map entry, key without its prefix,
// to entry.
func loadKeyed(b Entries, entry func(k, v []byte) error) (header []byte, strs []string, err error) {
	hasHeader := false
	err = b.ForEach(func(k, v []byte) error {
		if len(k) == 0 {
			return errors.New("an entry without a key")
		}
		switch k[0] {
		case entryHeader:
			header, hasHeader = append([]byte(nil), v...), true
		case entryString:
			if len(k) != 5 || binary.BigEndian.Uint32(k[1:]) != uint32(len(strs)) {
				return fmt.Errorf("string entry %x out of order", k)
			}
			strs = append(strs, string(v))
		case entryKey:
			return entry(k[1:], v)
		default:
			return fmt.Errorf("unknown entry %x", k)
		}
		return nil
	})
	if err == nil && !hasHeader {
		err = errors.New("no header")
	}
	return header, strs, err
}

// entryReader reads the varints and strings an entry's value was written
// with (binary.AppendUvarint, AppendVarint, appendEntryString); the first
// problem sticks in err.
type entryReader struct {
	b   []byte
	err error
}

func (r *entryReader) uvarint() uint64 { return readVarint(r, binary.Uvarint) }

func (r *entryReader) varint() int64 { return readVarint(r, binary.Varint) }

// readVarint reads one varint of r with dec (binary.Uvarint or Varint).
func readVarint[T uint64 | int64](r *entryReader, dec func([]byte) (T, int)) T {
	if r.err != nil {
		return 0
	}
	v, n := dec(r.b)
	if n <= 0 {
		r.err = errors.New("truncated entry")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *entryReader) string() string {
	n := r.uvarint()
	if r.err != nil {
		return ""
	}
	if n > uint64(len(r.b)) {
		r.err = errors.New("truncated entry")
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

// done returns the first problem, or one when bytes are left over.
func (r *entryReader) done() error {
	if r.err == nil && len(r.b) > 0 {
		r.err = fmt.Errorf("%d bytes left over in an entry", len(r.b))
	}
	return r.err
}

// appendEntryString appends s with its length, for entryReader.string.
func appendEntryString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

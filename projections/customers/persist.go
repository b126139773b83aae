package customers

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"runtime"

	"github.com/plaint/plaint/internal/strtab"
)

// Saving a state is incremental: each customer is one entry, its key the
// customer key (4 bytes, big endian) and its value the history's bytes (see
// history.go); a header entry holds the string table and the counters.
// Apply marks the customers it changes dirty, and a checkpoint writes only
// those (TakeDirty) with the header. Loading reads the entries back and
// folds the aggregates again from the histories.

// headerVersion is the version of the header and history encoding.
const headerVersion = 1

// TakeDirty calls fn with each customer changed since the last TakeDirty
// (or MarkAllDirty), in key order, and clears the marks once every call
// succeeded. hist is the customer's saved form; it is only valid during the
// call.
func (s *State) TakeDirty(fn func(key uint32, hist []byte) error) error {
	for w, word := range s.dirty {
		for word != 0 {
			b := bits.TrailingZeros64(word)
			key := uint32(w*64 + b)
			if err := fn(key, s.custs[key].hist); err != nil {
				return err
			}
			word &^= 1 << b
		}
	}
	clear(s.dirty)
	return nil
}

// Dirty returns how many customers changed since the last TakeDirty.
func (s *State) Dirty() int {
	n := 0
	for _, w := range s.dirty {
		n += bits.OnesCount64(w)
	}
	return n
}

// MarkAllDirty marks every customer changed, for a full save.
func (s *State) MarkAllDirty() {
	for k := range s.custs {
		if s.custs[k].n > 0 {
			s.dirty[k>>6] |= 1 << (k & 63)
		}
	}
}

// Header returns the saved form of what is not per customer: the string
// table and the counters.
func (s *State) Header() []byte {
	strs := s.Strs.List()
	b := binary.AppendUvarint(nil, headerVersion)
	b = binary.AppendVarint(b, s.maxT)
	b = binary.AppendVarint(b, s.events)
	b = binary.AppendUvarint(b, uint64(len(strs)))
	for _, str := range strs {
		b = binary.AppendUvarint(b, uint64(len(str)))
		b = append(b, str...)
	}
	return b
}

// Load returns the state saved as header and the entries each yields (it
// calls its argument once per customer; the bytes may be reused after the
// call).
func Load(header []byte, each func(fn func(key uint32, hist []byte) error) error) (*State, error) {
	s := New()
	b := header
	v, k := binary.Uvarint(b)
	if k <= 0 || v != headerVersion {
		return nil, fmt.Errorf("customer state header: version %d, want %d", v, headerVersion)
	}
	b = b[k:]
	var ok bool
	next := func() int64 {
		x, k := binary.Varint(b)
		if k <= 0 {
			ok = false
			return 0
		}
		b = b[k:]
		return x
	}
	ok = true
	s.maxT, s.events = next(), next()
	n, k := binary.Uvarint(b)
	if !ok || k <= 0 || n > uint64(len(b)) {
		return nil, fmt.Errorf("customer state header is damaged")
	}
	b = b[k:]
	strs := make([]string, 0, n)
	for range n {
		l, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < l {
			return nil, fmt.Errorf("customer state header is damaged")
		}
		strs = append(strs, string(b[k:k+int(l)]))
		b = b[k+int(l):]
	}
	s.Strs = strtab.FromList(strs)
	err := each(func(key uint32, hist []byte) error {
		if key == 0 || len(hist) == 0 {
			return fmt.Errorf("customer entry %d is empty", key)
		}
		s.grow(key)
		c := &s.custs[key]
		c.hist = append([]byte(nil), hist...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := s.refold(); err != nil {
		return nil, err
	}
	s.gen++
	return s, nil
}

// refold recomputes every aggregate and the per-customer summary from the
// histories, one goroutine per group of shards.
func (s *State) refold() error {
	workers := min(runtime.GOMAXPROCS(0), nShards)
	err := inWorkers(workers, func(w int) error {
		var first error
		for sh := w; sh < nShards; sh += workers {
			if err := s.refoldShard(sh); err != nil && first == nil {
				first = err
			}
		}
		return first
	})
	if err != nil {
		return err
	}
	s.noteMonths()
	return nil
}

func (s *State) refoldShard(sh int) error {
	d := s.shards[sh]
	for block := sh; block*64 < len(s.custs); block += nShards {
		for key := block * 64; key < min(block*64+64, len(s.custs)); key++ {
			c := &s.custs[key]
			if len(c.hist) == 0 {
				continue
			}
			var err error
			if d.scratch, err = decodeHistory(d.scratch[:0], c.hist); err != nil {
				return fmt.Errorf("customer %d: %w", key, err)
			}
			d.walk(uint32(key), d.scratch, +1)
			c.n = int32(len(d.scratch))
			c.lastT = d.scratch[len(d.scratch)-1].t
			c.seg = segAfter(d.scratch)
		}
	}
	return nil
}

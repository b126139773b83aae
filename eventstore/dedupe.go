package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
)

// eventKey is the 128-bit identity hash of (source, id). With 128 bits the
// chance that two different events share a key is negligible (about 10^-20
// for ten billion events), so a key hit is treated as a duplicate.
type eventKey struct{ hi, lo uint64 }

func keyOf(source, id string) eventKey {
	h := sha256.New()
	h.Write([]byte(source))
	h.Write([]byte{0})
	h.Write([]byte(id))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	k := eventKey{binary.LittleEndian.Uint64(sum[0:]), binary.LittleEndian.Uint64(sum[8:])}
	if k == (eventKey{}) {
		k.lo = 1 // the zero key marks an empty slot
	}
	return k
}

// keySet is the permanent deduplication index: every (source, id) ever stored.
// It lives in memory (16 bytes a slot, sharded so that growing one shard never
// copies the whole set) and is rebuilt from the log when the log is opened.
// It is not safe for concurrent use; the appender owns it.
type keySet struct {
	shards [256]keyShard
	n      int
}

type keyShard struct {
	slots []eventKey
	n     int
}

func (s *keySet) has(k eventKey) bool {
	sh := &s.shards[k.hi>>56]
	if len(sh.slots) == 0 {
		return false
	}
	mask := uint64(len(sh.slots) - 1)
	for i := k.lo & mask; ; i = (i + 1) & mask {
		switch sh.slots[i] {
		case k:
			return true
		case eventKey{}:
			return false
		}
	}
}

// add inserts k and reports whether it was new.
func (s *keySet) add(k eventKey) bool {
	sh := &s.shards[k.hi>>56]
	if (sh.n+1)*4 > len(sh.slots)*3 {
		sh.grow()
	}
	if !sh.insert(k) {
		return false
	}
	s.n++
	return true
}

func (sh *keyShard) insert(k eventKey) bool {
	mask := uint64(len(sh.slots) - 1)
	for i := k.lo & mask; ; i = (i + 1) & mask {
		switch sh.slots[i] {
		case k:
			return false
		case eventKey{}:
			sh.slots[i] = k
			sh.n++
			return true
		}
	}
}

func (sh *keyShard) grow() {
	old := sh.slots
	size := 2 * len(old)
	if size == 0 {
		size = 64
	}
	sh.slots = make([]eventKey, size)
	sh.n = 0
	for _, k := range old {
		if k != (eventKey{}) {
			sh.insert(k)
		}
	}
}

package eventstore

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// eventKey is the 128-bit identity hash of (source, id). With 128 bits the
// chance that two different events share a key is negligible (about 10^-20
// for ten billion events), so a key hit is treated as a duplicate.
type eventKey struct{ hi, lo uint64 }

func keyOf(source, id string) eventKey {
	var b [2*MaxIDLen + 1]byte
	buf := append(append(append(b[:0], source...), 0), id...)
	return keyOfBytes(buf)
}

// MaxIDLen bounds the source and id the key is computed from without
// allocating; longer ones (the decoder rejects them) still work.
const MaxIDLen = 256

// keyOfBytes hashes source + 0 + id, already concatenated.
func keyOfBytes(b []byte) eventKey {
	sum := sha256.Sum256(b)
	k := eventKey{binary.LittleEndian.Uint64(sum[0:]), binary.LittleEndian.Uint64(sum[8:])}
	if k == (eventKey{}) {
		k.lo = 1 // the zero key marks an empty slot
	}
	return k
}

// recordKey computes the key of a stored record without decoding it or
// allocating; buf is scratch space, returned for reuse.
func recordKey(r Record, dict dictView, buf []byte) (eventKey, []byte, error) {
	src, err := dict.str(r.Dim(FieldSource))
	if err != nil {
		return eventKey{}, buf, err
	}
	buf = append(append(buf[:0], src...), 0)
	b := r[fixedLen:]
	if r[7]&flagUUID != 0 {
		if len(b) < 16 {
			return eventKey{}, buf, fmt.Errorf("truncated uuid")
		}
		buf = appendUUID(buf, b[:16])
	} else {
		n, k := binary.Uvarint(b)
		if k <= 0 || uint64(len(b)-k) < n {
			return eventKey{}, buf, fmt.Errorf("truncated id")
		}
		buf = append(buf, b[k:k+int(n)]...)
	}
	return keyOfBytes(buf), buf, nil
}

// appendUUID appends the canonical text form of a 16-byte UUID, the form
// uuid.UUID.String gives.
func appendUUID(dst, u []byte) []byte {
	const hexdigits = "0123456789abcdef"
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			dst = append(dst, '-')
		}
		dst = append(dst, hexdigits[c>>4], hexdigits[c&0xf])
	}
	return dst
}

// keySet is the permanent deduplication index: every (source, id) ever stored.
// It lives in memory (16 bytes a slot, sharded so that growing one shard never
// copies the whole set) and is rebuilt from the log when the log is opened.
// It is not safe for concurrent use; the appender owns it. Loaded from a
// snapshot, its slots are in the snapshot's file (file) until a shard grows.
type keySet struct {
	shards [256]keyShard
	n      int
	file   *keyFile
	sink   uint64 // see touch
}

// release gives back the snapshot file the slots may be in and leaves the
// set empty (has is false for every key after).
func (s *keySet) release() {
	if s.file != nil {
		s.file.release()
		s.file = nil
	}
	s.shards, s.n = [256]keyShard{}, 0
}

type keyShard struct {
	slots []eventKey
	n     int
}

// reserve sizes the shards for n keys so that loading them never rehashes.
func (s *keySet) reserve(n int) {
	per := n/len(s.shards) + 1
	size := 64
	for size*3 < per*4 {
		size *= 2
	}
	for i := range s.shards {
		if len(s.shards[i].slots) < size && s.shards[i].n == 0 {
			s.shards[i].slots = make([]eventKey, size)
		}
	}
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

// touch reads the first slot each of keys probes, so that the probes of
// has that follow find them in the cache. The reads are independent of
// one another, so the processor overlaps their cache misses instead of
// taking one after the other as the probes would: at ten million keys
// (a 268 MB set) nearly every probe misses. What the reads give is kept in
// sink, so that the compiler keeps them.
func (s *keySet) touch(keys []eventKey) {
	var x uint64
	for _, k := range keys {
		sh := &s.shards[k.hi>>56]
		if n := uint64(len(sh.slots)); n > 0 {
			x ^= sh.slots[k.lo&(n-1)].lo
		}
	}
	s.sink ^= x
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

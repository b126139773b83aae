package eventstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"unsafe"

	"github.com/google/uuid"
)

// The deduplication set is rebuilt from the whole log at open, which takes a
// few seconds at ten million events. At a clean Close the set is written to
// a snapshot beside the log (events.db.keys) with the position it reflects;
// the next open loads it and hashes only the records appended after. A
// snapshot left behind by a crash is merely older: the log is append-only,
// so the records after its position still complete it. One that does not
// belong to the log (the log restored from a backup, say), that fails its
// checksum or that an older plaint wrote in its earlier layout, is ignored
// and the set is rebuilt.
//
// The snapshot's layout is the key set's own in memory, so that an open maps
// the file (copy on write, see keysnap_map_linux.go) and looks keys up in
// the mapping instead of reading 16 bytes a slot into fresh memory: at ten
// million events that read was most of the open (268 MB, 0.8 s warm). Every
// offset is a multiple of 16, so the slots sit aligned in the mapping.
// Little endian:
//
//	0     magic (keySnapMagic)          16
//	16    the log's identity            16
//	32    position (sequence)            8
//	40    key of the event there        16
//	56    zero                           8
//	64    per shard: slots, keys      256 × 8 (uint32 each)
//	2112  the slots of every shard, in shard order, 16 bytes a slot
//	end   crc32c of everything before    4

// keySnapMagic starts a snapshot (16 bytes).
const keySnapMagic = "plaint-keys-3\n\x00\x00"

const (
	keySnapHeader = 64                                     // bytes before the shard table
	keySnapSlots  = keySnapHeader + len(keySet{}.shards)*8 // where the slots start
)

func (l *Log) keySnapshotPath() string { return l.path + ".keys" }

// saveKeySnapshot writes the key set; l.mu must be held.
func (l *Log) saveKeySnapshot() error {
	last := l.last.Load()
	if l.keys == nil || last == 0 {
		return nil
	}
	id, _ := uuid.Parse(l.id) // the zero UUID for a log without one
	var ident eventKey
	err := l.View(func(s *Snapshot) error {
		r, err := s.Get(last)
		if err != nil {
			return err
		}
		ident, _, err = recordKey(r, s.dict, nil)
		return err
	})
	if err != nil {
		return fmt.Errorf("key snapshot: %w", err)
	}
	_, err = WriteFileAtomic(l.keySnapshotPath(), func(w io.Writer) (int64, error) {
		h := crc32.New(castagnoli)
		mw := io.MultiWriter(w, h)
		head := make([]byte, keySnapSlots)
		copy(head, keySnapMagic)
		copy(head[16:], id[:])
		binary.LittleEndian.PutUint64(head[32:], last)
		putKey(head[40:], ident)
		for i := range l.keys.shards {
			sh := &l.keys.shards[i]
			binary.LittleEndian.PutUint32(head[keySnapHeader+8*i:], uint32(len(sh.slots)))
			binary.LittleEndian.PutUint32(head[keySnapHeader+8*i+4:], uint32(sh.n))
		}
		if _, err := mw.Write(head); err != nil {
			return 0, err
		}
		var buf []byte
		for i := range l.keys.shards {
			slots := l.keys.shards[i].slots
			if len(slots) == 0 {
				continue
			}
			b := unsafe.Slice((*byte)(unsafe.Pointer(&slots[0])), len(slots)*16)
			if !littleEndian {
				buf = buf[:0]
				for _, k := range slots {
					buf = binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(buf, k.hi), k.lo)
				}
				b = buf
			}
			if _, err := mw.Write(b); err != nil {
				return 0, err
			}
		}
		_, err := w.Write(binary.LittleEndian.AppendUint32(nil, h.Sum32()))
		return 0, err
	})
	return err
}

// littleEndian reports whether an eventKey in memory is the snapshot's
// encoding of it (two little-endian uint64s).
var littleEndian = func() bool {
	k := eventKey{hi: 1}
	return *(*byte)(unsafe.Pointer(&k)) == 1 && unsafe.Sizeof(k) == 16
}()

func putKey(b []byte, k eventKey) {
	binary.LittleEndian.PutUint64(b, k.hi)
	binary.LittleEndian.PutUint64(b[8:], k.lo)
}

var errSnapshotMismatch = errors.New("snapshot does not belong to this log")

// loadKeySnapshot loads the snapshot into a new key set and returns the
// sequence it reflects. The set's slots are the mapped file where the
// system allows it (release unmaps it). Any problem returns an error, and
// the caller rebuilds the set from the log instead.
func (l *Log) loadKeySnapshot() (*keySet, uint64, error) {
	return l.keySetOf(readKeySnapshot(l.keySnapshotPath(), nil))
}

// keySnap is a key snapshot read and checked on its own: its file, the
// position it reflects and its shards' sizes; err is why it cannot be used.
type keySnap struct {
	file  *keyFile
	seq   uint64
	ident eventKey  // the key of the event at seq
	logID uuid.UUID // the log's identity
	sizes [len(keySet{}.shards)]uint32
	n     [len(keySet{}.shards)]uint32
	err   error
}

// readKeySnapshot maps the snapshot at path, once ahead (when not nil) is
// closed, and checks what the file alone can tell: its layout, its sizes
// and its checksum. It needs nothing of the log, so that an open does it
// while it reads the log's dictionary.
func readKeySnapshot(path string, ahead <-chan struct{}) *keySnap {
	if ahead != nil {
		// Read ahead several pieces at a time (prefetchOpen), which this
		// disk serves faster than the one MAP_POPULATE reads.
		<-ahead
	}
	m, err := mapKeySnapshot(path)
	if err != nil {
		return &keySnap{err: err}
	}
	ks := &keySnap{file: m}
	if ks.err = ks.check(m.data); ks.err != nil {
		m.release()
		ks.file = nil
	}
	return ks
}

// check checks the snapshot b's layout, sizes and checksum, and notes its
// header.
func (ks *keySnap) check(b []byte) error {
	if len(b) < keySnapSlots+4 || string(b[:16]) != keySnapMagic {
		return fmt.Errorf("not a key snapshot of this version")
	}
	ks.logID = uuid.UUID(b[16:32])
	ks.seq = binary.LittleEndian.Uint64(b[32:])
	ks.ident = eventKey{binary.LittleEndian.Uint64(b[40:]), binary.LittleEndian.Uint64(b[48:])}
	end := keySnapSlots
	total := 0
	for i := range ks.sizes {
		size := binary.LittleEndian.Uint32(b[keySnapHeader+8*i:])
		n := binary.LittleEndian.Uint32(b[keySnapHeader+8*i+4:])
		if size&(size-1) != 0 || n > size || int(size) > (len(b)-end)/16 {
			return fmt.Errorf("shard %d: bad size %d with %d keys", i, size, n)
		}
		ks.sizes[i], ks.n[i] = size, n
		total += int(n)
		end += int(size) * 16
	}
	if len(b) != end+4 {
		return fmt.Errorf("%d bytes for %d of slots", len(b), end+4)
	}
	if crc32.Checksum(b[:end], castagnoli) != binary.LittleEndian.Uint32(b[end:]) {
		return fmt.Errorf("checksum mismatch")
	}
	if uint64(total) != ks.seq {
		return fmt.Errorf("%d keys for %d events", total, ks.seq)
	}
	return nil
}

// keySetOf returns the key set the checked snapshot ks holds once it is
// known to belong to this log, its slots in the snapshot's file when the
// machine's layout is the snapshot's; else an error, and ks's file is
// released.
func (l *Log) keySetOf(ks *keySnap) (*keySet, uint64, error) {
	if ks.err != nil {
		return nil, 0, ks.err
	}
	keys, err := l.keySetFrom(ks)
	if err != nil {
		ks.file.release()
		return nil, 0, err
	}
	keys.file = ks.file
	return keys, ks.seq, nil
}

// keySetFrom is keySetOf's key set: it checks that ks belongs to this log
// (its identity, and the key of the event at its position) and lays the
// set's slots on the snapshot's file.
func (l *Log) keySetFrom(ks *keySnap) (*keySet, error) {
	if id, _ := uuid.Parse(l.id); id != ks.logID {
		return nil, errSnapshotMismatch
	}
	if ks.seq == 0 || ks.seq > l.last.Load() {
		return nil, errSnapshotMismatch
	}
	err := l.View(func(s *Snapshot) error {
		rec, err := s.Get(ks.seq)
		if err != nil {
			return err
		}
		k, _, err := recordKey(rec, s.dict, nil)
		if err == nil && k != ks.ident {
			err = errSnapshotMismatch
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	b := ks.file.data
	keys := &keySet{}
	off := keySnapSlots
	for i, size := range ks.sizes {
		sh := &keys.shards[i]
		sh.n = int(ks.n[i])
		keys.n += sh.n
		if size == 0 {
			continue
		}
		if littleEndian {
			// The slots' memory is the snapshot's layout: use it in place.
			sh.slots = unsafe.Slice((*eventKey)(unsafe.Pointer(&b[off])), size)
		} else {
			sh.slots = make([]eventKey, size)
			for j := range sh.slots {
				sh.slots[j] = eventKey{binary.LittleEndian.Uint64(b[off+16*j:]), binary.LittleEndian.Uint64(b[off+16*j+8:])}
			}
		}
		off += int(size) * 16
	}
	return keys, nil
}

// keyFile is a key snapshot in memory (see keysnap.go): data is the file,
// mapped where the system allows it, and unmap (nil when it was read into
// the heap) gives the mapping back.
type keyFile struct {
	data  []byte
	unmap func()
}

// release gives back the memory of the snapshot; data must not be used
// after.
func (f *keyFile) release() {
	if f.unmap != nil {
		f.unmap()
		f.unmap = nil
	}
	f.data = nil
}

// openKeySnapshot opens the key snapshot at path and returns its size, for
// mapKeySnapshot.
func openKeySnapshot(path string) (*os.File, int, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && (fi.Size() < int64(keySnapSlots+4) || fi.Size() != int64(int(fi.Size()))) {
		err = fmt.Errorf("key snapshot of %d bytes", fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, int(fi.Size()), nil
}

package eventstore

import (
	"bufio"
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
// belong to the log (the log restored from a backup, say), or that fails its
// checksum, is ignored and the set is rebuilt.

// keySnapMagic starts a snapshot; the log's identity (16 bytes) follows,
// then the position, the key of the event there, and the shards.
const keySnapMagic = "plaint-keys-2\n"

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
		bw := bufio.NewWriterSize(io.MultiWriter(w, h), 1<<20)
		var b [16]byte
		bw.WriteString(keySnapMagic)
		bw.Write(id[:])
		binary.LittleEndian.PutUint64(b[:], last)
		bw.Write(b[:8])
		putKey(b[:], ident)
		bw.Write(b[:])
		for i := range l.keys.shards {
			sh := &l.keys.shards[i]
			binary.LittleEndian.PutUint32(b[:], uint32(len(sh.slots)))
			binary.LittleEndian.PutUint32(b[4:], uint32(sh.n))
			bw.Write(b[:8])
			for _, k := range sh.slots {
				putKey(b[:], k)
				bw.Write(b[:])
			}
		}
		if err := bw.Flush(); err != nil {
			return 0, err
		}
		binary.LittleEndian.PutUint32(b[:], h.Sum32())
		_, err := w.Write(b[:4])
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
// sequence it reflects. Any problem returns an error, and the caller
// rebuilds the set from the log instead.
func (l *Log) loadKeySnapshot() (*keySet, uint64, error) {
	f, err := os.Open(l.keySnapshotPath())
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	h := crc32.New(castagnoli)
	r := bufio.NewReaderSize(f, 1<<20)
	// read fills p and adds it to the checksum.
	read := func(p []byte) error {
		if _, err := io.ReadFull(r, p); err != nil {
			return err
		}
		h.Write(p)
		return nil
	}
	var b [16]byte
	magic := make([]byte, len(keySnapMagic))
	if err := read(magic); err != nil || string(magic) != keySnapMagic {
		return nil, 0, fmt.Errorf("not a key snapshot")
	}
	if err := read(b[:]); err != nil {
		return nil, 0, err
	}
	if id, _ := uuid.Parse(l.id); id != uuid.UUID(b) {
		return nil, 0, errSnapshotMismatch
	}
	if err := read(b[:8]); err != nil {
		return nil, 0, err
	}
	seq := binary.LittleEndian.Uint64(b[:])
	if err := read(b[:]); err != nil {
		return nil, 0, err
	}
	ident := eventKey{binary.LittleEndian.Uint64(b[:]), binary.LittleEndian.Uint64(b[8:])}
	if seq == 0 || seq > l.last.Load() {
		return nil, 0, errSnapshotMismatch
	}
	err = l.View(func(s *Snapshot) error {
		rec, err := s.Get(seq)
		if err != nil {
			return err
		}
		k, _, err := recordKey(rec, s.dict, nil)
		if err == nil && k != ident {
			err = errSnapshotMismatch
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	keys := &keySet{}
	buf := make([]byte, 16<<10)
	for i := range keys.shards {
		if err := read(b[:8]); err != nil {
			return nil, 0, err
		}
		size, n := binary.LittleEndian.Uint32(b[:]), binary.LittleEndian.Uint32(b[4:])
		if size&(size-1) != 0 || n > size {
			return nil, 0, fmt.Errorf("shard %d: bad size %d with %d keys", i, size, n)
		}
		sh := &keys.shards[i]
		sh.slots, sh.n = make([]eventKey, size), int(n)
		keys.n += int(n)
		if littleEndian && size > 0 {
			// The slots' memory is the snapshot's layout: read into it.
			if err := read(unsafe.Slice((*byte)(unsafe.Pointer(&sh.slots[0])), int(size)*16)); err != nil {
				return nil, 0, err
			}
			continue
		}
		for j := 0; j < int(size); {
			chunk := min(int(size)-j, len(buf)/16)
			if err := read(buf[:chunk*16]); err != nil {
				return nil, 0, err
			}
			for c := 0; c < chunk; c++ {
				sh.slots[j+c] = eventKey{binary.LittleEndian.Uint64(buf[c*16:]), binary.LittleEndian.Uint64(buf[c*16+8:])}
			}
			j += chunk
		}
	}
	sum := h.Sum32() // of everything before the trailer
	if _, err := io.ReadFull(r, b[:4]); err != nil {
		return nil, 0, err
	}
	if binary.LittleEndian.Uint32(b[:]) != sum {
		return nil, 0, fmt.Errorf("checksum mismatch")
	}
	if keys.n != int(seq) {
		return nil, 0, fmt.Errorf("%d keys for %d events", keys.n, seq)
	}
	return keys, seq, nil
}

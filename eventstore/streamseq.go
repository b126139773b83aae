package eventstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Where each stored event came from in JetStream. Erasing a customer must
// also erase the raw messages JetStream still keeps (PLAINT_EVENTS holds them
// for --stream-max-age), and finding them by scanning the stream would read
// every message of a month. So the ingest passes each event's stream
// sequence with it, and the log keeps them beside the records, in the same
// transaction, as runs: consecutive log sequences whose stream sequences are
// consecutive too are one entry. A group of a thousand messages usually
// becomes one run, so this costs a fraction of a byte per event instead of
// the 8 a field in every record would.
//
// Bucket stream_seqs: key = first log sequence of a run (8 bytes, big
// endian); value = uvarint first stream sequence, uvarint count.
//
// Duplicates that arrived as their own stream message (a producer that
// republished an event after JetStream's duplicate window) are copies too:
// bucket stream_dups maps their stream sequence (8 bytes, big endian) to the
// 16-byte identity hash of the event they repeat. They are rare.

var (
	bucketStreamSeqs = []byte("stream_seqs")
	bucketStreamDups = []byte("stream_dups")
)

// streamRun is a run of consecutive log sequences stored from consecutive
// stream sequences.
type streamRun struct {
	seq    uint64 // first log sequence
	stream uint64 // its stream sequence
	n      uint64
}

func (r streamRun) value() []byte {
	return binary.AppendUvarint(binary.AppendUvarint(make([]byte, 0, 12), r.stream), r.n)
}

func parseStreamRun(k, v []byte) (streamRun, error) {
	if len(k) != 8 {
		return streamRun{}, fmt.Errorf("stream run key %x is not a sequence", k)
	}
	r := streamRun{seq: binary.BigEndian.Uint64(k)}
	var n int
	if r.stream, n = binary.Uvarint(v); n <= 0 {
		return r, fmt.Errorf("stream run %d: truncated", r.seq)
	}
	if r.n, n = binary.Uvarint(v[n:]); n <= 0 || r.n == 0 {
		return r, fmt.Errorf("stream run %d: bad count", r.seq)
	}
	return r, nil
}

// streamRuns turns (log sequence, stream sequence) pairs in log order into
// runs; pairs with stream sequence 0 (unknown) are left out.
func streamRuns(seqs, streams []uint64) []streamRun {
	var runs []streamRun
	for i, s := range seqs {
		st := streams[i]
		if st == 0 {
			continue
		}
		if n := len(runs); n > 0 {
			last := &runs[n-1]
			if last.seq+last.n == s && last.stream+last.n == st {
				last.n++
				continue
			}
		}
		runs = append(runs, streamRun{seq: s, stream: st, n: 1})
	}
	return runs
}

// putStreamRuns stores runs, extending the bucket's last run when the first
// one continues it.
func putStreamRuns(b *bolt.Bucket, runs []streamRun) error {
	if len(runs) == 0 {
		return nil
	}
	b.FillPercent = 1.0
	if k, v := b.Cursor().Last(); k != nil {
		last, err := parseStreamRun(k, v)
		if err == nil && last.seq+last.n == runs[0].seq && last.stream+last.n == runs[0].stream {
			last.n += runs[0].n
			if err := b.Put(k, last.value()); err != nil {
				return err
			}
			runs = runs[1:]
		}
	}
	for _, r := range runs {
		if err := b.Put(seqKey(r.seq), r.value()); err != nil {
			return err
		}
	}
	return nil
}

// streamDup is a duplicate that arrived as its own stream message.
type streamDup struct {
	stream uint64
	key    eventKey
}

func putStreamDups(b *bolt.Bucket, dups []streamDup) error {
	for _, d := range dups {
		var v [16]byte
		putKey(v[:], d.key)
		if err := b.Put(seqKey(d.stream), v[:]); err != nil {
			return err
		}
	}
	return nil
}

// StreamSeq returns the JetStream stream sequence the event at seq was
// stored from; ok is false when it is not known (stored by an older version,
// or not from a stream).
func (s *Snapshot) StreamSeq(seq uint64) (stream uint64, ok bool) {
	b := s.tx.Bucket(bucketStreamSeqs)
	if b == nil {
		return 0, false
	}
	c := b.Cursor()
	k, v := c.Seek(seqKey(seq))
	if k == nil || binary.BigEndian.Uint64(k) > seq {
		k, v = c.Prev()
	}
	if k == nil {
		return 0, false
	}
	r, err := parseStreamRun(k, v)
	if err != nil || seq < r.seq || seq >= r.seq+r.n {
		return 0, false
	}
	return r.stream + (seq - r.seq), true
}

// streamDupsOf returns the stream sequences of the duplicates of the events
// whose identity hash is in keys.
func (s *Snapshot) streamDupsOf(keys map[eventKey]bool) []uint64 {
	b := s.tx.Bucket(bucketStreamDups)
	if b == nil || len(keys) == 0 {
		return nil
	}
	var out []uint64
	_ = b.ForEach(func(k, v []byte) error {
		if len(k) == 8 && len(v) == 16 {
			key := eventKey{binary.LittleEndian.Uint64(v), binary.LittleEndian.Uint64(v[8:])}
			if keys[key] {
				out = append(out, binary.BigEndian.Uint64(k))
			}
		}
		return nil
	})
	return out
}

// StreamRuns returns the number of stream-sequence runs and the events they
// cover, for stats and tests.
func (s *Snapshot) StreamRuns() (runs int, events uint64) {
	b := s.tx.Bucket(bucketStreamSeqs)
	if b == nil {
		return 0, 0
	}
	_ = b.ForEach(func(k, v []byte) error {
		if r, err := parseStreamRun(k, v); err == nil {
			runs++
			events += r.n
		}
		return nil
	})
	return runs, events
}

package eventstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// ErrStop can be returned by a Scan callback to end the scan early without error.
var ErrStop = errors.New("stop scan")

// Snapshot is a consistent read view of the log: the events up to LastSeq,
// and the dictionary entries they use.
type Snapshot struct {
	tx   *bolt.Tx
	last uint64
	dict dictView
	// ahead is the file's read-ahead under way when the view began (nil
	// when none), and base the address of the file's first byte in the
	// view's memory map: a block scan keeps behind the read-ahead.
	ahead *readAhead
	base  uintptr
}

// View runs fn with a snapshot of the log. Many views may run at once and
// alongside appends. A damaged page met on the way is an error wrapping
// ErrCorrupt, not a panic.
func (l *Log) View(fn func(*Snapshot) error) error {
	if l.closed.Load() {
		return ErrClosed
	}
	last := l.last.Load()
	dict := l.dict.snapshot()
	return guard("read", func() error {
		return l.db.View(func(tx *bolt.Tx) error {
			if tx.Bucket(bucketEvents) == nil {
				return fn(&Snapshot{tx: tx, last: 0, dict: dict})
			}
			s := &Snapshot{tx: tx, last: last, dict: dict}
			if a := l.ahead.Load(); a != nil {
				// The map does not move while the transaction is open.
				s.ahead, s.base = a, l.db.Info().Data
			}
			return fn(s)
		})
	})
}

// LastSeq returns the last sequence visible in the snapshot.
func (s *Snapshot) LastSeq() uint64 { return s.last }

// Scan calls fn for every record with from <= seq <= to, in order. to == 0
// means the end of the snapshot. fn may return ErrStop to end early.
func (s *Snapshot) Scan(from, to uint64, fn func(seq uint64, r Record) error) error {
	from, to, ok := s.span(from, to)
	if !ok {
		return nil
	}
	c := s.tx.Bucket(bucketEvents).Cursor()
	var d blockDecoder
	for k, v := seekSeq(c, from); k != nil; k, v = c.Next() {
		seq := binary.BigEndian.Uint64(k)
		if seq > to {
			break
		}
		if !isBlock(v) {
			if err := fn(seq, Record(v)); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
			continue
		}
		if err := decodeStored(&d, k, v); err != nil {
			return err
		}
		for i, r := range d.recs {
			if q := seq + uint64(i); q >= from && q <= to {
				if err := fn(q, r); err != nil {
					if errors.Is(err, ErrStop) {
						return nil
					}
					return err
				}
			}
		}
	}
	return nil
}

// span returns the range from..to of a scan within the snapshot (from 0:
// the first, to 0: the last); ok is false when it holds nothing.
func (s *Snapshot) span(from, to uint64) (uint64, uint64, bool) {
	if to == 0 || to > s.last {
		to = s.last
	}
	return max(from, 1), to, max(from, 1) <= to
}

// Get returns the record at seq; ENOTFOUND when there is none.
func (s *Snapshot) Get(seq uint64) (Record, error) {
	if seq == 0 || seq > s.last {
		return nil, domain.Errorf(domain.ENOTFOUND, "no event at sequence %d (last is %d)", seq, s.last)
	}
	r, err := storedRecord(s.tx.Bucket(bucketEvents), seq)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, domain.Errorf(domain.ENOTFOUND, "no event at sequence %d", seq)
	}
	return r, nil
}

// Decode turns a record into a domain event.
func (s *Snapshot) Decode(r Record) (domain.Event, error) {
	return decodeRecord(r, s.dict)
}

// String returns the dictionary string with the given id ("" for 0 or unknown).
func (s *Snapshot) String(id uint32) string {
	str, _ := s.dict.str(id)
	return str
}

// DictLen returns the number of dictionary ids usable in the snapshot (ids
// are 1..DictLen).
func (s *Snapshot) DictLen() int { return len(s.dict) - 1 }

// SeqAt returns the last sequence whose record time is at or before t: the
// log as it was known at t. Record times never decrease along the log.
func (s *Snapshot) SeqAt(t time.Time) (uint64, error) {
	want := t.UnixNano()
	b := s.tx.Bucket(bucketEvents)
	var ferr error
	n := sort.Search(int(s.last), func(i int) bool {
		rt, ok, err := recordTimeAt(b, uint64(i+1))
		if err != nil || !ok {
			ferr = fmt.Errorf("%w: record %d missing or truncated", ErrCorrupt, i+1)
			return true
		}
		return rt > want
	})
	return uint64(n), ferr
}

// Follow calls fn for every event from seq from onwards, then waits for new
// ones until ctx is done. It returns ctx's error or fn's.
func (l *Log) Follow(ctx context.Context, from uint64, fn func(seq uint64, ev domain.Event) error) error {
	if from == 0 {
		from = 1
	}
	for {
		changed := l.Changed()
		err := l.View(func(s *Snapshot) error {
			return s.Scan(from, 0, func(seq uint64, r Record) error {
				ev, err := s.Decode(r)
				if err != nil {
					return fmt.Errorf("decode %d: %w", seq, err)
				}
				from = seq + 1
				return fn(seq, ev)
			})
		})
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Stats describes the log.
type Stats struct {
	Events         uint64            `json:"events"`
	FirstSeq       uint64            `json:"first_seq"`
	LastSeq        uint64            `json:"last_seq"`
	ByType         map[string]uint64 `json:"by_type"`
	Duplicates     uint64            `json:"duplicates"`
	DeadLettered   uint64            `json:"dead_lettered"`
	FirstEventTime *time.Time        `json:"first_event_time,omitempty"`
	LastEventTime  *time.Time        `json:"last_event_time,omitempty"`
	FileBytes      int64             `json:"file_bytes"`
	BytesPerEvent  float64           `json:"bytes_per_event"`
	DictEntries    int               `json:"dictionary_entries"`
}

// Stats returns counts and sizes. It is cheap: the counters are kept with the log.
func (l *Log) Stats() (Stats, error) {
	var st Stats
	err := l.View(func(s *Snapshot) error {
		var c counters
		if m := s.tx.Bucket(bucketMeta); m != nil {
			c = readCounters(m)
		}
		st.ByType = map[string]uint64{}
		for _, t := range domain.Types() {
			if c.byType[t] > 0 {
				st.ByType[t.String()] = c.byType[t]
				st.Events += c.byType[t]
			}
		}
		// The transaction may be ahead of the snapshot's published position;
		// take the position from the transaction so that it matches the counters.
		if b := s.tx.Bucket(bucketEvents); b != nil {
			if k, v := b.Cursor().Last(); k != nil {
				st.LastSeq = valueLast(k, v)
			}
		}
		if st.LastSeq > 0 {
			st.FirstSeq = 1
			ft, lt := timeFromNanos(c.firstTime), timeFromNanos(c.lastTime)
			st.FirstEventTime, st.LastEventTime = &ft, &lt
		}
		st.Duplicates, st.DeadLettered = c.duplicates, c.deadLettered
		st.FileBytes = s.tx.Size()
		if st.Events > 0 {
			st.BytesPerEvent = float64(st.FileBytes) / float64(st.Events)
		}
		st.DictEntries = len(s.dict) - 1
		return nil
	})
	return st, err
}

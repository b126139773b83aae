package eventstore

import (
	"encoding/binary"
	"time"

	"github.com/plaint/plaint/domain"
)

// RecordView is a consistent read view of a log of records, what readers of
// the compact format depend on: the records up to LastSeq, read through
// their accessors, and the dictionary their strings are kept in. *Snapshot
// implements it, and so may a store of another kind that keeps records of
// this format (Codec makes them).
type RecordView interface {
	// LastSeq returns the last sequence visible in the view.
	LastSeq() uint64
	// Scan calls fn for every record with from <= seq <= to, in order (to
	// 0: the end of the view); fn may return ErrStop to end early.
	Scan(from, to uint64, fn func(seq uint64, r Record) error) error
	// Get returns the record at seq; ENOTFOUND when there is none.
	Get(seq uint64) (Record, error)
	// Decode turns a record into its whole event.
	Decode(r Record) (domain.Event, error)
	// Optional reads the tagged optional fields of r.
	Optional(r Record) (Optional, error)
	// String returns the dictionary string with the given id ("" for 0 or
	// unknown).
	String(id uint32) string
	// DictLen returns how many dictionary ids are usable (1..DictLen).
	DictLen() int
	// SeqAt returns the last sequence whose record time is at or before t.
	SeqAt(t time.Time) (uint64, error)
}

var _ RecordView = (*Snapshot)(nil)

// ViewRecords is View for readers that depend on RecordView rather than on
// the bbolt snapshot.
func (l *Log) ViewRecords(fn func(RecordView) error) error {
	return l.View(func(s *Snapshot) error { return fn(s) })
}

// RecordSum returns the checksum the log keeps of the record at seq: a
// fingerprint by which a reader that saved it can tell whether the log at
// seq still holds the record it read there (and not another log's). The
// log verifies its records itself; readers never look at their bytes.
func (l *Log) RecordSum(seq uint64) (uint32, error) {
	var sum uint32
	err := l.View(func(s *Snapshot) error {
		r, err := s.Get(seq)
		if err != nil {
			return err
		}
		sum = r.sum()
		return nil
	})
	return sum, err
}

// sum returns the record's stored checksum.
func (r Record) sum() uint32 { return binary.LittleEndian.Uint32(r) }

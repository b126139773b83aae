package eventstore

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// Stream positions: a JetStream stream sequence as a point of the log that
// every node reading the same stream agrees on, where log sequences are the
// node's own (they skip the stream's duplicates and invalid messages, and a
// log written before the ingest kept the stream's order numbers the same
// events differently). They are read from the stream-sequence runs the
// ingest keeps beside the records (streamseq.go): nothing in the record
// format, no bucket of their own.

// SeqAtStream returns the log as it was when the stream message at stream
// position pos was stored: the sequence of the last event stored from a
// stream message at or before pos, such that no event at or before it came
// from a later message (0: none yet). Events not stored from the stream
// (0 stream sequence) count where they are in the log.
//
// It fails with ENOTFOUND when pos is past the last stream message the log
// holds an event of (the node may not have caught up to it yet), and with
// ECONFLICT when the log holds a message after pos before one at or before
// it (a log stored out of the stream's order): no prefix of the log is then
// the stream up to pos. It reads every run (a handful per gap in the
// stream: duplicates, invalid messages).
func (s *Snapshot) SeqAtStream(pos uint64) (uint64, error) {
	b := s.tx.Bucket(bucketStreamSeqs)
	if b == nil {
		return 0, domain.Errorf(domain.ENOTFOUND, "the log keeps no stream positions")
	}
	var last, maxStream uint64      // the last event at or before pos, the largest stream sequence held
	firstAfter := uint64(1<<64 - 1) // the first event from a message after pos
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := parseStreamRun(k, v)
		if err != nil {
			return 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if r.seq > s.last {
			break // committed after this snapshot's view
		}
		n := min(r.n, s.last-r.seq+1)
		maxStream = max(maxStream, r.stream+n-1)
		switch {
		case r.stream > pos:
			firstAfter = min(firstAfter, r.seq)
		case r.stream+n-1 <= pos:
			last = r.seq + n - 1
		default:
			last = r.seq + (pos - r.stream)
			firstAfter = min(firstAfter, last+1)
		}
	}
	if pos > maxStream {
		return 0, domain.Errorf(domain.ENOTFOUND, "stream position %d is past the last stream message this log holds an event of (%d): the node may not have caught up to it", pos, maxStream)
	}
	if last >= firstAfter {
		return 0, domain.Errorf(domain.ECONFLICT, "the log holds events of stream messages after %d before some at or before it (it was stored out of the stream's order: by a plaint before 2026-12, or by a node that lived through a NATS fail-over, see order_breaks in plaint verify): no point of it is stream position %d; ask a node whose log is in order, or as_of by log sequence", pos, pos)
	}
	return last, nil
}

// LastStreamSeq returns the stream sequence of the last event of the log
// stored from a stream message (0: none): how far the node has stored the
// stream.
func (s *Snapshot) LastStreamSeq() uint64 {
	b := s.tx.Bucket(bucketStreamSeqs)
	if b == nil {
		return 0
	}
	c := b.Cursor()
	for k, v := c.Last(); k != nil; k, v = c.Prev() {
		r, err := parseStreamRun(k, v)
		if err != nil || r.seq > s.last {
			continue
		}
		return r.stream + min(r.n, s.last-r.seq+1) - 1
	}
	return 0
}

// StreamPositions is what Verify found of the stream positions.
type StreamPositions struct {
	// Runs and Events count the stream-sequence runs and the events they
	// cover; OrderBreaks the runs that start at or below the end of the run
	// before: a log stored out of the stream's order (as_of=stream:N then
	// resolves only between them). None of these is a problem.
	Runs        int    `json:"runs"`
	Events      uint64 `json:"events"`
	OrderBreaks int    `json:"order_breaks,omitempty"`
}

// checkStreamRuns checks the stream-sequence runs of a log whose last
// record is last: each parses, lies within the records, and starts after
// the run before ends. It reports every problem and returns the counts.
func checkStreamRuns(b *bolt.Bucket, last uint64, problem func(format string, args ...any)) StreamPositions {
	var sp StreamPositions
	if b == nil {
		return sp
	}
	var end, streamEnd uint64 // one past the last log sequence, the last stream sequence of the run before
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := parseStreamRun(k, v)
		if err != nil {
			problem("stream positions: %v", err)
			continue
		}
		sp.Runs++
		sp.Events += r.n
		switch {
		case r.seq < end:
			problem("stream positions: the run from record %d overlaps the one before (to record %d)", r.seq, end-1)
		case r.seq+r.n-1 > last:
			problem("stream positions: the run from record %d covers %d records, past the last record %d", r.seq, r.n, last)
		}
		if sp.Runs > 1 && r.stream <= streamEnd {
			sp.OrderBreaks++
		}
		end, streamEnd = r.seq+r.n, r.stream+r.n-1
	}
	return sp
}

package eventstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Which dead letters the log has counted. The ingest counts a dead letter
// once JetStream has stored it on the dead-letter stream; when the same
// stream message is delivered again (a rewind, an acknowledgement the
// server lost), its dead letter is published again with the same
// Nats-Msg-Id, which JetStream drops, and it must not be counted again
// either. So a dead letter is counted with the stream message it came from
// (Batch.DeadLetters), and the log keeps the messages it counted, in the
// transaction that counts them: a message counted before, in this process
// or an earlier one, is not counted again.
//
// Bucket dead_letters: key = the message's stream sequence, then the time
// the stream stored it (Unix nanoseconds), 8 bytes each, big endian; value
// one byte, 1 (bbolt's Get does not tell an empty value from a missing
// key). The time tells a message delivered again (the same time) from
// another message at the same sequence of a stream that was deleted and
// made anew, which is counted. Dead letters are rare (a message that is
// not a valid event), so the bucket stays small.
var bucketDeadLetters = []byte("dead_letters")

// DeadLetter names the stream message a dead letter came from.
type DeadLetter struct {
	// StreamSeq is the message's sequence in its stream; 0 when not known
	// (the dead letter is then always counted).
	StreamSeq uint64
	// StreamTime is when the stream stored the message, in Unix
	// nanoseconds (0 when not known): every delivery of a message carries
	// the same.
	StreamTime int64
}

// key returns the dead letter's key in the bucket.
func (d DeadLetter) key() [16]byte {
	var k [16]byte
	binary.BigEndian.PutUint64(k[:8], d.StreamSeq)
	binary.BigEndian.PutUint64(k[8:], uint64(d.StreamTime))
	return k
}

// countDeadLetters counts in cnt the dead letters of ds the log has not
// counted before (nor earlier in ds) and records them in the bucket, and
// reports for each whether it was counted before (Result.Duplicate). One
// with a StreamSeq of 0 (not known) is always counted.
func countDeadLetters(tx *bolt.Tx, ds []DeadLetter, cnt *counters, results []Result) error {
	if len(ds) == 0 {
		return nil
	}
	b := tx.Bucket(bucketDeadLetters)
	if b == nil {
		return fmt.Errorf("dead letters: no bucket %s", bucketDeadLetters)
	}
	one := []byte{1}
	for i, d := range ds {
		if d.StreamSeq == 0 {
			cnt.deadLettered++
			continue
		}
		k := d.key()
		if b.Get(k[:]) != nil {
			results[i].Duplicate = true
			continue
		}
		if err := b.Put(k[:], one); err != nil {
			return fmt.Errorf("dead letters: put %d: %w", d.StreamSeq, err)
		}
		cnt.deadLettered++
	}
	return nil
}

// countedDeadLetters returns how many dead letters the bucket records
// (verify holds the counter against it).
func countedDeadLetters(tx *bolt.Tx) uint64 {
	b := tx.Bucket(bucketDeadLetters)
	if b == nil {
		return 0
	}
	return uint64(b.Stats().KeyN)
}

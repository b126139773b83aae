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
// either. So a dead letter with a stream sequence is counted with it
// (Batch.DeadLetterSeqs), and the log keeps the sequences it counted, in
// the transaction that counts them: a sequence counted before, in this
// process or an earlier one, is not counted again.
//
// Bucket dead_letters: key = the stream sequence of a counted dead letter
// (8 bytes, big endian); value one byte, 1 (bbolt's Get does not tell an
// empty value from a missing key). Dead letters are rare (a message that
// is not a valid event), so the bucket stays small.
var bucketDeadLetters = []byte("dead_letters")

// countDeadLetters counts in cnt the dead letters of seqs the log has not
// counted before (nor earlier in seqs) and records them in the bucket, and
// reports for each whether it was counted before (Result.Duplicate). A
// sequence of 0 (not known) is always counted.
func countDeadLetters(tx *bolt.Tx, seqs []uint64, cnt *counters, results []Result) error {
	if len(seqs) == 0 {
		return nil
	}
	b := tx.Bucket(bucketDeadLetters)
	if b == nil {
		return fmt.Errorf("dead letters: no bucket %s", bucketDeadLetters)
	}
	var k [8]byte
	one := []byte{1}
	for i, seq := range seqs {
		if seq == 0 {
			cnt.deadLettered++
			continue
		}
		binary.BigEndian.PutUint64(k[:], seq)
		if b.Get(k[:]) != nil {
			results[i].Duplicate = true
			continue
		}
		if err := b.Put(k[:], one); err != nil {
			return fmt.Errorf("dead letters: put %d: %w", seq, err)
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

package eventstore

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// VerifyReport is what Verify checked.
type VerifyReport struct {
	Records uint64 `json:"records"`
	// Format1Records counts the records of format 1 (written before plaint
	// kept every field), checked by the rules they were accepted under.
	Format1Records uint64 `json:"format1_records,omitempty"`
	// Blocks counts the values of record format 3 (blocks of records),
	// each checked whole (checksum, header) and then record by record.
	Blocks      uint64 `json:"blocks,omitempty"`
	DictEntries int    `json:"dictionary_entries"`
	// KeySnapshotSeq is the position of the dedupe key snapshot checked
	// against the log, 0 when there was none for this log.
	KeySnapshotSeq uint64 `json:"key_snapshot_seq,omitempty"`
	// StreamPositions describes the JetStream stream sequences kept of the
	// records (as_of=stream:N reads them).
	StreamPositions StreamPositions `json:"stream_positions"`
	Problems        []string        `json:"problems,omitempty"`
}

// maxProblems bounds the problems a report lists; the count is still exact.
const maxProblems = 50

// Verify checks every record (checksum, framing, decodability, dictionary
// references, contiguous sequences, non-decreasing record times, unique
// (source, id)), the dictionary (both directions agree), the counters, and
// bbolt's own page consistency. progress, if not nil, is called now and then
// with the records checked so far and the total. A corrupt log returns an
// error wrapping ErrCorrupt whose text names the first problems precisely.
func (l *Log) Verify(ctx context.Context, progress func(done, total uint64)) (VerifyReport, error) {
	var rep VerifyReport
	problem := func(format string, args ...any) {
		if len(rep.Problems) < maxProblems {
			rep.Problems = append(rep.Problems, fmt.Sprintf(format, args...))
		}
	}
	nproblems := 0
	var keys *keySet // the (source, id) keys of every record
	if err := l.checkPages(); err != nil {
		nproblems++
		problem("%s", strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": "))
	}
	err := guard("reading the records", func() error {
		return l.db.View(func(tx *bolt.Tx) error {
			evb, fwd, rev, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketDict), tx.Bucket(bucketDictIDs), tx.Bucket(bucketMeta)
			if evb == nil || fwd == nil || rev == nil || meta == nil {
				if evb == nil && fwd == nil && rev == nil && meta == nil {
					return nil // empty file
				}
				nproblems++
				problem("missing bucket (events=%v dict=%v dict_ids=%v meta=%v)", evb != nil, fwd != nil, rev != nil, meta != nil)
				return nil
			}
			// Dictionary, both directions.
			strs := dictView{""}
			c := rev.Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				id := binary.BigEndian.Uint32(k)
				if int(id) != len(strs) {
					nproblems++
					problem("dictionary: id %d out of order (expected %d)", id, len(strs))
				}
				strs = append(strs, string(v))
				if got := fwd.Get(v); got == nil || binary.BigEndian.Uint32(got) != id {
					nproblems++
					problem("dictionary: %q maps to id %d one way but not back", v, id)
				}
			}
			if n := fwd.Stats().KeyN; n != len(strs)-1 {
				nproblems++
				problem("dictionary: %d forward entries but %d ids", n, len(strs)-1)
			}
			rep.DictEntries = len(strs) - 1
			// Records.
			var total uint64
			if k, v := evb.Cursor().Last(); k != nil {
				total = valueLast(k, v)
			}
			keys = &keySet{}
			var want uint64 = 1
			var lastRT int64
			var byType [256]uint64
			checkRecord := func(seq uint64, r Record) {
				rep.Records++
				if seq != want {
					nproblems++
					problem("record %d: sequence gap, expected %d", seq, want)
				}
				want = seq + 1
				if err := r.check(); err != nil {
					nproblems++
					problem("record %d: %v", seq, err)
					return
				}
				if rt := r.RecordTime(); rt < lastRT {
					nproblems++
					problem("record %d: record time goes backwards", seq)
				} else {
					lastRT = rt
				}
				ev, err := decodeRecord(r, strs)
				if err != nil {
					nproblems++
					problem("record %d: %v", seq, err)
					return
				}
				validate := domain.Validate
				if r.Format() == formatV1 {
					rep.Format1Records++
					validate = domain.ValidateFormat1 // the rules it was accepted under
				}
				if err := validate(&ev); err != nil {
					nproblems++
					problem("record %d: stored event is invalid: %v", seq, err)
				}
				for m := range ev.AsSent.All() {
					if !m.Absent() && !json.Valid([]byte(m.Raw)) {
						nproblems++
						problem("record %d: as-sent member %q is not valid JSON", seq, m.Name)
					}
				}
				if !keys.add(keyOf(ev.Source, ev.ID)) {
					nproblems++
					problem("record %d: duplicate event (source %q, id %q)", seq, ev.Source, ev.ID)
				}
				byType[ev.Type]++
			}
			dec := blockDecoder{check: true}
			cur := evb.Cursor()
			next := uint64(0) // the records checked when progress was last told
			for k, v := cur.First(); k != nil; k, v = cur.Next() {
				if rep.Records >= next {
					next = rep.Records + 65536
					if err := ctx.Err(); err != nil {
						return err
					}
					if progress != nil {
						progress(rep.Records, total)
					}
				}
				if len(k) != 8 {
					rep.Records++
					nproblems++
					problem("record key %x is not a sequence number", k)
					continue
				}
				seq := binary.BigEndian.Uint64(k)
				if !isBlock(v) {
					checkRecord(seq, Record(v))
					continue
				}
				// A block: its checksum and header, then each record.
				rep.Blocks++
				if err := dec.decode(v); err != nil {
					rep.Records++
					nproblems++
					problem("block at %d: %v", seq, err)
					if first, n, ok := blockSpan(v); ok && first == seq && n > 0 {
						want = seq + uint64(n) // report the next gap only if there is one
					}
					continue
				}
				if dec.hdr.first != seq {
					nproblems++
					problem("block at %d says it starts at %d", seq, dec.hdr.first)
				}
				for i, r := range dec.recs {
					checkRecord(seq+uint64(i), r)
				}
			}
			if progress != nil {
				progress(rep.Records, total)
			}
			rep.StreamPositions = checkStreamRuns(tx.Bucket(bucketStreamSeqs), want-1, func(format string, args ...any) {
				nproblems++
				problem(format, args...)
			})
			c2 := readCounters(meta)
			for _, t := range domain.Types() {
				if c2.byType[t] != byType[t] {
					nproblems++
					problem("counters: %s is %d but the log holds %d", t, c2.byType[t], byType[t])
				}
			}
			// Every dead letter counted by its stream message is in the
			// counter (which also holds those counted without one, and
			// those of versions that kept no sequences).
			if n := countedDeadLetters(tx); n > c2.deadLettered {
				nproblems++
				problem("counters: dead_lettered is %d but %d dead letters are recorded as counted", c2.deadLettered, n)
			}
			return nil
		})
	})
	if IsCorrupt(err) {
		// bbolt stopped on a damaged page: report it with the rest.
		nproblems++
		problem("%s", strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": "))
	} else if err != nil {
		return rep, fmt.Errorf("verify: %w", err)
	}
	// The key snapshot, when there is one for this log: every key in it
	// must be a stored event's, or the next open would drop new events as
	// duplicates. (One that does not belong to the log is ignored at open.)
	if keys != nil {
		if snap, seq, err := l.loadKeySnapshot(); err == nil {
			defer snap.release()
			rep.KeySnapshotSeq = seq
			missing := 0
			for i := range snap.shards {
				for _, k := range snap.shards[i].slots {
					if k != (eventKey{}) && !keys.has(k) {
						missing++
					}
				}
			}
			if missing > 0 {
				nproblems++
				problem("key snapshot %s: %d keys of events that are not in the log", l.keySnapshotPath(), missing)
			}
		}
	}
	if nproblems > 0 {
		msg := fmt.Sprintf("%d problem(s)", nproblems)
		for _, p := range rep.Problems {
			msg += "\n  " + p
		}
		if nproblems > len(rep.Problems) {
			msg += fmt.Sprintf("\n  ... and %d more", nproblems-len(rep.Problems))
		}
		return rep, fmt.Errorf("%w: %s", ErrCorrupt, msg)
	}
	return rep, nil
}

// IsCorrupt reports whether err says the log is corrupt.
func IsCorrupt(err error) bool { return errors.Is(err, ErrCorrupt) }

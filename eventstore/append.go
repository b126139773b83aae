package eventstore

import (
	"fmt"
	"slices"

	"github.com/plaint/plaint/domain"
)

// Result says what became of one appended event.
type Result struct {
	Seq       uint64 // the sequence it was stored at; 0 for a duplicate
	Duplicate bool   // its (source, id) was already in the log
}

// Batch is the unit of one append transaction.
type Batch struct {
	Events []domain.Event
	// DeadLetters are dead letters to count, in the dead-letter counter of
	// the same transaction (so that the counter survives restarts with the
	// log), by the stream message they came from: each is counted once ever
	// (see deadletters.go), so that a message delivered again after it was
	// dead-lettered and counted is not counted twice. The results hold one
	// Result for each, after those of Events: Duplicate when the log had
	// counted it before. One with a StreamSeq of 0 is always counted.
	DeadLetters []DeadLetter
	// StreamSeqs, when set, holds the JetStream stream sequence of each event
	// (0: none). They are kept beside the records (see streamseq.go), so
	// that erasing a customer can erase JetStream's copies of their events.
	StreamSeqs []uint64
	// Valid says that every event passed domain.Validate already (a
	// domain.Decoder validates each event it decodes), so the store does
	// not check them again. An invalid event in a batch marked valid is
	// stored as it is: set it only for events that came from the decoder
	// or domain.Validate unchanged.
	Valid bool
	// Queued, when set, is called by Committer.AppendBatch once the batch's
	// events have joined the commit queue (before they are committed), or
	// once it knows they never will (a failure, a fenced batch): a caller
	// that must keep its batches in an order (the ingest keeps the
	// stream's) lets the next batch queue then, and the committer still
	// commits them together. It is not called for a batch rejected as
	// invalid (EINVALID, nothing queued): its caller keeps its place, to
	// store the batch's valid events there.
	Queued func()
	// Epoch, when set, is the Committer.Epoch the caller's chain of
	// batches began in: the batch is stored only if no batch or
	// transaction of the committer failed since (a failure moves the
	// epoch on before any later batch can commit), and otherwise fails
	// with ErrFenced, none of it stored. A caller that keeps its batches in
	// an order and lets the next queue before this one committed (see
	// Queued) sets it, so that no batch of the chain commits after one
	// before it failed. Committer.AppendBatch only; 0 fences nothing.
	Epoch uint64
}

// Append stores events in one transaction and returns after it committed
// (with fsync). Events whose (source, id) is already stored, or repeated
// earlier in the same call, are reported as duplicates and counted. The
// events must be valid (see domain.Validate); invalid ones are rejected with
// an EINVALID error and nothing is stored.
func (l *Log) Append(events ...domain.Event) ([]Result, error) {
	return l.CommitBatch(Batch{Events: events})
}

// CommitBatch is Append with the extra counters of a Batch: it stores b in
// one transaction and returns after it committed. (Committer.AppendBatch
// queues a batch into the group commits of many callers instead.)
func (l *Log) CommitBatch(b Batch) ([]Result, error) {
	if err := b.validate(); err != nil {
		return nil, err
	}
	events := make([]*domain.Event, len(b.Events))
	for i := range b.Events {
		events[i] = &b.Events[i]
	}
	return l.appendValid(events, b.StreamSeqs, b.DeadLetters)
}

// validate checks every event of b, unless b is marked Valid.
func (b *Batch) validate() error {
	if b.Valid {
		return nil
	}
	for i := range b.Events {
		if err := domain.Validate(&b.Events[i]); err != nil {
			return fmt.Errorf("append event %d: %w", i, err)
		}
	}
	return nil
}

// appendValid stores events already validated, with their stream
// sequences (see Batch), and counts dead letters by their stream message,
// in one transaction. Its results are
// those of the events, then those of deadLetters. It reads the events in
// place: the committer hands it the callers' own.
func (l *Log) appendValid(events []*domain.Event, streamSeqs []uint64, deadLetters []DeadLetter) ([]Result, error) {
	if l.opts.readOnly {
		return nil, ErrReadOnly
	}
	if err := l.Checked(); err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, ErrClosed
	}
	results := make([]Result, len(events)+len(deadLetters))
	td := l.dict.begin()
	cnt := l.counters
	rt := l.opts.now().UnixNano()
	if rt < l.lastRT {
		rt = l.lastRT // record time never goes backwards
	}
	seq := l.last.Load()
	// The room of the transaction, reused: nothing refers to it once the
	// transaction has committed or rolled back (appendScratch).
	sc := &l.scratch
	newKeys := sc.newKeys[:0]
	var batchKeys map[eventKey]struct{}
	if len(events) > 1 {
		if sc.batchKeys == nil {
			sc.batchKeys = make(map[eventKey]struct{}, len(events))
		}
		batchKeys = sc.batchKeys
		defer clear(batchKeys)
	}
	buf := slices.Grow(sc.buf[:0], 128*len(events))
	defer func() { sc.buf, sc.newKeys = buf[:0], newKeys[:0] }()
	type put struct {
		seq uint64
		off int
	}
	puts := make([]put, 0, len(events))
	var streams []uint64 // stream sequence of each put, when known
	var dups []streamDup
	streamOf := func(i int) uint64 {
		if i < len(streamSeqs) {
			return streamSeqs[i]
		}
		return 0
	}
	// The keys first, and their slots read ahead of the probes (see touch).
	keys := slices.Grow(sc.keys[:0], len(events))[:len(events)]
	sc.keys = keys
	for i, ev := range events {
		keys[i] = keyOf(ev.Source, ev.ID)
	}
	l.keys.touch(keys)
	for i, ev := range events {
		k := keys[i]
		if l.keys.has(k) {
			results[i].Duplicate = true
			cnt.duplicates++
			if st := streamOf(i); st != 0 {
				dups = append(dups, streamDup{st, k})
			}
			continue
		}
		if batchKeys != nil {
			if _, dup := batchKeys[k]; dup {
				results[i].Duplicate = true
				cnt.duplicates++
				if st := streamOf(i); st != 0 {
					dups = append(dups, streamDup{st, k})
				}
				continue
			}
			batchKeys[k] = struct{}{}
		}
		newKeys = append(newKeys, k)
		seq++
		results[i].Seq = seq
		if st := streamOf(i); st != 0 {
			if streams == nil {
				streams = make([]uint64, len(puts), len(events))
			}
			streams = append(streams, st)
		} else if streams != nil {
			streams = append(streams, 0)
		}
		puts = append(puts, put{seq, len(buf)})
		buf = encodeRecord(buf, ev, rt, td)
		cnt.byType[ev.Type]++
		et := ev.Time.UnixNano()
		if cnt.firstTime == 0 || et < cnt.firstTime {
			cnt.firstTime = et
		}
		if et > cnt.lastTime {
			cnt.lastTime = et
		}
	}
	if len(puts) == 0 && len(dups) == 0 && len(deadLetters) == 0 && cnt == l.counters {
		return results, nil
	}
	tx, err := l.db.Begin(true)
	if err != nil {
		return nil, fmt.Errorf("append: begin: %w", err)
	}
	defer tx.Rollback()
	evb := tx.Bucket(bucketEvents)
	evb.FillPercent = 1.0
	recs := slices.Grow(sc.recs[:0], len(puts))[:len(puts)]
	sc.recs = recs
	defer clear(recs)
	for i, p := range puts {
		end := len(buf)
		if i+1 < len(puts) {
			end = puts[i+1].off
		}
		recs[i] = Record(buf[p.off:end:end])
	}
	if l.opts.blocks && len(recs) > 0 {
		if err := putBlocks(tx, puts[0].seq, recs, &l.enc, &l.tail); err != nil {
			return nil, fmt.Errorf("append: %w", err)
		}
	} else {
		for i, p := range puts {
			if err := evb.Put(seqKey(p.seq), recs[i]); err != nil {
				return nil, fmt.Errorf("append: put %d: %w", p.seq, err)
			}
		}
	}
	if err := putDictAdded(tx, td); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if streams != nil {
		seqs := make([]uint64, len(puts))
		for i, p := range puts {
			seqs[i] = p.seq
		}
		if err := putStreamRuns(tx.Bucket(bucketStreamSeqs), streamRuns(seqs, streams)); err != nil {
			return nil, fmt.Errorf("append: stream sequences: %w", err)
		}
	}
	if len(dups) > 0 {
		if err := putStreamDups(tx.Bucket(bucketStreamDups), dups); err != nil {
			return nil, fmt.Errorf("append: stream sequences: %w", err)
		}
	}
	if err := countDeadLetters(tx, deadLetters, &cnt, results[len(events):]); err != nil {
		return nil, fmt.Errorf("append: %w", err)
	}
	if err := cnt.write(tx.Bucket(bucketMeta)); err != nil {
		return nil, fmt.Errorf("append: counters: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("append: commit: %w", err)
	}
	// Committed: publish in this order so readers that see the new last
	// sequence also see every dictionary entry its records use.
	td.publish()
	for _, k := range newKeys {
		l.keys.add(k)
	}
	l.counters = cnt
	l.lastRT = rt
	l.last.Store(seq)
	l.notify()
	return results, nil
}

// appendScratch is the room appendValid reuses from one transaction to the
// next (l.mu held): the records' bytes and their slices, the keys. bbolt
// keeps what it is given to Put only until the transaction ends, and
// nothing else refers to it after.
type appendScratch struct {
	buf       []byte
	recs      []Record
	keys      []eventKey
	newKeys   []eventKey
	batchKeys map[eventKey]struct{}
}

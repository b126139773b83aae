package projections

import (
	"context"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Fold is the state of one projection and the way records change it. A
// build splits a range of the log into consecutive parts scanned in
// parallel, then merges them in log order, so every fold's Merge must give
// the same state as one sequential scan. The engine calls a fold's methods
// from one goroutine at a time; its parts' Scan run in parallel, so what a
// part shares with its fold (a string table) must be safe for that. A
// Pipeliner's parts also Scan while its Merge runs.
//
// A fold's state is kept as its kind says (Kind.Persist): a fold of a kind
// saved whole implements WholeState, one saved entry by entry implements
// EntryState. A fold may also implement Preparer, Pipeliner, Sizer, Tabler
// and Answerer.
type Fold interface {
	// NewPart returns an empty partial state for a sub-range of the log.
	NewPart() Part
	// Merge adds p, which covers the records right after those already in
	// the state. An error (a bound passed, see ErrTooManyGroups) fails the
	// projection.
	Merge(p Part) error
}

// Part is the state of one sub-range of the log while it is scanned.
type Part interface {
	// Scan folds the records from..to (inclusive) of s, adding the number
	// of records read to seen now and then (every ProgressEvery records,
	// and the rest at the end).
	Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error
}

// ProgressEvery is how many records a Part's Scan reads between progress
// updates.
const ProgressEvery = 1 << 16

// progressEvery is ProgressEvery, for the built-in folds.
const progressEvery = ProgressEvery

// scanCounted is s.Scan(from, to, fn) that adds the records read to seen
// every ProgressEvery records and at the end, as Part.Scan must. (The
// trend fold, the hot path of a build, counts inline.)
func scanCounted(s Snapshot, from, to uint64, seen *atomic.Uint64, fn func(seq uint64, r eventstore.Record) error) error {
	c := readCounter{seen: seen}
	err := s.Scan(from, to, func(seq uint64, r eventstore.Record) error {
		c.add(1)
		return fn(seq, r)
	})
	c.done()
	return err
}

// scanColumnsCounted is scanCounted for a fold that reads a few columns:
// on a view that keeps blocks (blockScanner) it calls block once a block
// with the columns of fields (and severity when asked), and record for each
// record kept alone; on any other view, record for every record. It counts
// the records read into seen as scanCounted does.
func scanColumnsCounted(s Snapshot, from, to uint64, seen *atomic.Uint64, fields []eventstore.Field, severity bool,
	block func(c *eventstore.Columns) error, record func(seq uint64, r eventstore.Record) error) error {
	bs, ok := s.(blockScanner)
	if !ok {
		return scanCounted(s, from, to, seen, record)
	}
	c := readCounter{seen: seen}
	err := bs.ScanBlocks(from, to, fields, severity, func(cols *eventstore.Columns) error {
		c.add(uint64(cols.Len()))
		return block(cols)
	}, func(seq uint64, r eventstore.Record) error {
		c.add(1)
		return record(seq, r)
	})
	c.done()
	return err
}

// readCounter counts the records a scan read into seen, a ProgressEvery at
// a time and the rest when done.
type readCounter struct {
	n    uint64
	seen *atomic.Uint64
}

func (c *readCounter) add(k uint64) {
	before := c.n
	c.n += k
	if crossed := c.n/progressEvery - before/progressEvery; crossed > 0 {
		c.seen.Add(crossed * progressEvery)
	}
}

func (c *readCounter) done() { c.seen.Add(c.n & (progressEvery - 1)) }

// Snapshot is the consistent read view of the log a Part scans: the records
// up to LastSeq in the store's compact form, read through their accessors,
// and the dictionary their strings are kept in. The store has verified
// every record it hands out; folds never read its bytes.
type Snapshot = eventstore.RecordView

// Preparer is a fold that needs something before a range is folded into
// it: the engine calls Prepare with the range's last sequence first.
type Preparer interface {
	Prepare(ctx context.Context, to uint64) error
}

// Sizer is a fold that estimates the bytes of memory its state holds (shown
// in Status, and bounding the trend caches).
type Sizer interface {
	MemoryBytes() int64
}

// Tabler is a fold that renders its state as a table (Engine.Query, and
// `plaint projection query`). A fold that has no table returns an EINVALID
// *domain.Error saying where its answers are read.
type Tabler interface {
	Table(name string) (*Table, error)
}

// Answerer is a fold that hands its answer at its current position to
// advance hooks (see Engine.OnAdvance). The engine calls Answer with the
// fold locked, right after it advanced, only when a hook listens to the
// projection, so it must be cheap (proportional to what the advance
// changed, not to the state), and the value it returns must never be
// changed by later folds: hooks read it on their own goroutines while the
// engine goes on.
type Answerer interface {
	Answer() any
}

// decodeCurrent decodes r and upcasts it to the current schema.
func decodeCurrent(s Snapshot, r eventstore.Record) (domain.Event, error) {
	ev, err := s.Decode(r)
	if err != nil {
		return ev, err
	}
	domain.Upcast(&ev)
	return ev, nil
}

package projections

import "github.com/plaint/plaint/eventstore"

// Log is what the engine reads of the event log: its position and the
// signal of its commits, consistent views of its records, how many
// customers it forgot, and the checksums by which a saved checkpoint is
// checked against it. *eventstore.Log implements it; so may any store that
// serves records of the compact format (eventstore.Codec makes them).
type Log interface {
	// LastSeq returns the sequence of the last committed event, 0 when empty.
	LastSeq() uint64
	// Changed returns a channel closed at the next commit.
	Changed() <-chan struct{}
	// ViewRecords runs fn with a consistent view of the records; many may
	// run at once.
	ViewRecords(fn func(eventstore.RecordView) error) error
	// RecordSum returns the store's checksum of the record at seq.
	RecordSum(seq uint64) (uint32, error)
	// Erasures returns how many customers the log has forgotten.
	Erasures() uint64
}

var _ Log = (*eventstore.Log)(nil)

// prefetcher is a log that can read its file ahead while a long range is
// scanned (eventstore.Log does, on Linux, when the file is not cached).
type prefetcher interface {
	PrefetchScan(stop <-chan struct{})
}

// blockScanner is a view that hands out the records it keeps in blocks a
// block at a time, column by column (eventstore.Snapshot does), which folds
// of a few fields use instead of Scan.
type blockScanner interface {
	ScanBlocks(from, to uint64, fields []eventstore.Field, severity bool,
		block func(*eventstore.Columns) error, record func(seq uint64, r eventstore.Record) error) error
}

// lazyBlockScanner is a blockScanner that can leave a block's record times
// undecoded until a fold asks for them (eventstore.Snapshot.ScanBlocksLazy).
type lazyBlockScanner interface {
	ScanBlocksLazy(from, to uint64, fields []eventstore.Field, severity bool,
		block func(*eventstore.Columns) error, record func(seq uint64, r eventstore.Record) error) error
}

package eventstore

import "errors"

var (
	// ErrLocked is returned by Open when another process (normally a running
	// plaint server) holds the log open for writing.
	ErrLocked = errors.New("event log is in use by another process (is plaint serve running?)")

	// ErrClosed is returned when the log is used after Close.
	ErrClosed = errors.New("event log is closed")

	// ErrReadOnly is returned by Append on a log opened read-only.
	ErrReadOnly = errors.New("event log is opened read-only")

	// ErrCorrupt is returned (wrapped, with the details) when a record, the
	// dictionary or the counters fail a consistency check.
	ErrCorrupt = errors.New("event log is corrupt")

	// ErrEmpty is returned by Open when the file exists but holds nothing
	// (0 bytes): it was emptied or never written, and is not taken for a new
	// log unless WithInitEmpty.
	ErrEmpty = errors.New("the event log file is empty (0 bytes): it holds no log")

	// ErrKeySnapshot is returned (wrapped, with the cause) by Close when the
	// dedupe key snapshot could not be written; the log itself is closed
	// and sound.
	ErrKeySnapshot = errors.New("the dedupe key snapshot was not written")

	// ErrFenced is returned by Committer.AppendBatch for a batch whose
	// Epoch has passed: a batch or transaction of the committer failed
	// since (see Batch.Epoch). None of the batch is stored.
	ErrFenced = errors.New("a batch queued before this one failed: this one is not stored, so that none is stored ahead of it")

	// ErrNotExist is returned by Open with WithReadOnly when there is no log at
	// the path.
	ErrNotExist = errors.New("event log does not exist")
)

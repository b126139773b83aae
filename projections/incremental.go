package projections

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// WholeState is a fold whose state is saved whole at each checkpoint
// (PersistWhole): right for a state that stays small whatever the log's
// size.
type WholeState interface {
	// MarshalState returns the whole state.
	MarshalState() ([]byte, error)
	// UnmarshalState replaces the state by one MarshalState returned.
	UnmarshalState(b []byte) error
}

// EntryState is a fold whose state is saved entry by entry (PersistEntries):
// each checkpoint writes only what changed since the previous one, in the
// same transaction as the checkpoint, instead of re-encoding the whole
// state. The engine keeps each projection's entries in a bucket of their
// own.
type EntryState interface {
	// SaveEntries writes into b what changed since the last SaveEntries;
	// with all, everything (b is then empty: the engine asks for all after
	// the fold changed name, was loaded from elsewhere, or after a save whose
	// transaction failed).
	SaveEntries(b Entries, all bool) error
	// LoadEntries replaces the state by the one saved in b.
	LoadEntries(b Entries) error
}

// Entries is the bucket of one projection's saved entries, valid during
// the call it is passed to. Keys are the fold's own; *bolt.Bucket
// implements it.
type Entries interface {
	Get(key []byte) []byte
	Put(key, value []byte) error
	Delete(key []byte) error
	ForEach(fn func(k, v []byte) error) error
}

var _ Entries = (*bolt.Bucket)(nil)

// bucketEntries holds, per projection (a nested bucket named like its state
// entry), the entries of folds saved entry by entry.
var bucketEntries = []byte("entries")

// incrementalMarker is the state entry of a fold saved in bucketEntries.
var incrementalMarker = []byte("incremental/1")

// saveIncremental writes f's entries under key in tx: everything when all
// (the bucket is then emptied first), else what changed.
func saveIncremental(tx *bolt.Tx, f EntryState, key []byte, all bool) error {
	eb, err := tx.CreateBucketIfNotExists(bucketEntries)
	if err != nil {
		return err
	}
	if all {
		if err := eb.DeleteBucket(key); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	b, err := eb.CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	return f.SaveEntries(b, all)
}

// loadIncremental reads f's entries saved under key.
func loadIncremental(tx *bolt.Tx, f EntryState, key []byte) error {
	eb := tx.Bucket(bucketEntries)
	if eb == nil || eb.Bucket(key) == nil {
		return fmt.Errorf("no entries saved for %s", key)
	}
	return f.LoadEntries(eb.Bucket(key))
}

// deleteEntries removes the entries saved under key, if any.
func deleteEntries(tx *bolt.Tx, key []byte) error {
	eb := tx.Bucket(bucketEntries)
	if eb == nil {
		return nil
	}
	if err := eb.DeleteBucket(key); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
		return err
	}
	return nil
}

package projections

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// bucketEntries holds, per projection (a nested bucket named like its state
// entry), the entries of folds saved incrementally.
var bucketEntries = []byte("entries")

// incrementalMarker is the state entry of a fold saved in bucketEntries.
var incrementalMarker = []byte("incremental/1")

// incrementalFold is a fold whose state is saved entry by entry: each
// checkpoint writes only what changed since the previous one, in the same
// transaction as the checkpoint, instead of re-encoding the whole state.
type incrementalFold interface {
	fold
	// saveEntries writes into b, the fold's own bucket, what changed since
	// its last save under name; everything when it last saved elsewhere
	// (b is then empty).
	saveEntries(b *bolt.Bucket, name string) error
	// loadEntries reads the state saved in b under name.
	loadEntries(b *bolt.Bucket, name string) error
	// savedUnder returns the name of its last save ("": none since a change
	// of name).
	savedUnder() string
	// forgetSaved makes the next save write everything (the transaction
	// of the last one failed).
	forgetSaved()
}

// saveIncremental writes f's entries under key in tx.
func saveIncremental(tx *bolt.Tx, f incrementalFold, key []byte) error {
	eb, err := tx.CreateBucketIfNotExists(bucketEntries)
	if err != nil {
		return err
	}
	if f.savedUnder() != string(key) {
		if err := eb.DeleteBucket(key); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
	}
	b, err := eb.CreateBucketIfNotExists(key)
	if err != nil {
		return err
	}
	return f.saveEntries(b, string(key))
}

// loadIncremental reads f's entries saved under key.
func loadIncremental(tx *bolt.Tx, f incrementalFold, key []byte) error {
	eb := tx.Bucket(bucketEntries)
	if eb == nil || eb.Bucket(key) == nil {
		return fmt.Errorf("no entries saved for %s", key)
	}
	return f.loadEntries(eb.Bucket(key), string(key))
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

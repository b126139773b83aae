package eventstore

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// A log's identity is a random UUID written into its meta bucket when it is
// created (or first opened writable by a version that gives identities).
// The other files of a data directory carry it too (the key snapshot, the
// projections' store through StampFile, the JetStream consumer's metadata),
// so that a log emptied, lost or restored from elsewhere is noticed instead
// of being served as the directory's own.
var (
	metaLogID      = []byte("log_id")
	bucketIdentity = []byte("plaint_identity")
)

// ensureID gives the log an identity if it has none; l.db is writable.
func (l *Log) ensureID(tx *bolt.Tx) error {
	m := tx.Bucket(bucketMeta)
	if v := m.Get(metaLogID); len(v) == 16 {
		return nil
	}
	id := uuid.New()
	return m.Put(metaLogID, id[:])
}

// readID reads the identity from the meta bucket.
func readID(m *bolt.Bucket) string {
	if m == nil {
		return ""
	}
	v := m.Get(metaLogID)
	if len(v) != 16 {
		return ""
	}
	id, _ := uuid.FromBytes(v)
	return id.String()
}

// ID returns the log's identity, a UUID; "" for a read-only open of a log
// written before identities existed.
func (l *Log) ID() string { return l.id }

// FileIdentity returns the log identity stamped into another bbolt file of
// the data directory (the projections' store) by StampFile: "" when the file
// does not exist, is empty, or has none. The file is opened read-only and
// closed again.
func FileIdentity(path string) (string, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("identity of %s: %w", path, err)
	}
	var id string
	err = guard("identity", func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		if err != nil {
			return err
		}
		defer db.Close()
		return db.View(func(tx *bolt.Tx) error {
			if b := tx.Bucket(bucketIdentity); b != nil {
				id = readID(b)
			}
			return nil
		})
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return "", fmt.Errorf("identity of %s: %w", path, ErrLocked)
	}
	if err != nil {
		return "", fmt.Errorf("identity of %s: %w", path, err)
	}
	return id, nil
}

// StampFile writes the log identity id into the bbolt file at path (creating
// the file), in a bucket of its own that the file's owner does not read.
func StampFile(path, id string) error {
	u, err := uuid.Parse(id)
	if err != nil {
		return fmt.Errorf("stamp %s: %w", path, err)
	}
	return guard("stamp", func() error {
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return fmt.Errorf("stamp %s: %w", path, ErrLocked)
		}
		if err != nil {
			return fmt.Errorf("stamp %s: %w", path, err)
		}
		err = db.Update(func(tx *bolt.Tx) error {
			b, err := tx.CreateBucketIfNotExists(bucketIdentity)
			if err != nil {
				return err
			}
			return b.Put(metaLogID, u[:])
		})
		if cerr := db.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("stamp %s: %w", path, err)
		}
		return nil
	})
}

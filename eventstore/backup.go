package eventstore

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// Backup writes a consistent copy of the whole log to w while appends go on.
// The copy is itself a log file that Open (read-only) accepts.
func (l *Log) Backup(w io.Writer) (int64, error) {
	var n int64
	err := guard("backup", func() error {
		return l.db.View(func(tx *bolt.Tx) error {
			var err error
			n, err = tx.WriteTo(w)
			return err
		})
	})
	if err != nil {
		return n, fmt.Errorf("backup: %w", err)
	}
	return n, nil
}

// BackupFile writes a consistent copy of the log to path, atomically: the copy
// is written to a temporary file beside it, synced, then renamed into place.
func (l *Log) BackupFile(path string) (int64, error) {
	return WriteFileAtomic(path, l.Backup)
}

// WriteFileAtomic creates path by calling write on a temporary file in the same
// directory, syncing it and renaming it into place.
func WriteFileAtomic(path string, write func(io.Writer) (int64, error)) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, fmt.Errorf("backup: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := write(tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return n, fmt.Errorf("backup to %s: %w", path, err)
	}
	return n, nil
}

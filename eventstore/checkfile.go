package eventstore

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// CheckFile checks a bbolt file other than the log (the projections' store)
// the way Open checks the log: a file cut inside its pages, both meta pages
// damaged, and every page through bbolt's consistency check, with bbolt's
// panics on damaged pages recovered. A damaged file is an error wrapping
// ErrCorrupt that names the page; a missing or empty file is fine (it is
// created). The file is opened read-only and closed again.
func CheckFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) || (err == nil && fi.Size() == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if err := checkCut(path, fi.Size()); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	var db *bolt.DB
	err = guard("open", func() error {
		var err error
		db, err = bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
		return err
	})
	switch {
	case errors.Is(err, bolterrors.ErrTimeout):
		return nil // in use: its owner checked it
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrVersionMismatch), errors.Is(err, bolterrors.ErrChecksum):
		return fmt.Errorf("check %s: %w: both meta pages (pages 0 and 1, at the start of the file) are damaged: %v", path, ErrCorrupt, err)
	case err != nil:
		return fmt.Errorf("check %s: %w", path, err)
	}
	defer db.Close()
	l := &Log{db: db, path: path}
	if err := l.checkPages(); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	return nil
}

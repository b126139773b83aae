package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// corruptRecord copies the log at path and flips a byte in the record with
// sequence seq, returning the copy's path.
func corruptRecord(t *testing.T, path string, seq uint64) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "corrupt.db")
	if err := os.WriteFile(out, b, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(out, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Update(func(tx *bolt.Tx) error {
		bk := tx.Bucket([]byte("events"))
		k := []byte{0, 0, 0, 0, 0, 0, 0, byte(seq)}
		v := bytes.Clone(bk.Get(k))
		v[len(v)-1] ^= 0x55
		return bk.Put(k, v)
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

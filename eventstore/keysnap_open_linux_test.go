//go:build linux

package eventstore

import (
	"os"
	"strings"
	"syscall"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestColdOpenReadsAheadAndGivesTheSnapshotBack opens a log after a clean
// stop with its files out of the page cache, so that the open reads the
// log and the key snapshot ahead (prefetchOpen) and maps and checks the
// snapshot while it reads the dictionary: the keys come from the snapshot
// and stay exact. The snapshot's mapping is given back by the close, and by
// an open that fails after the snapshot was read (a log format this plaint
// does not know, found by the dictionary's read).
func TestColdOpenReadsAheadAndGivesTheSnapshotBack(t *testing.T) {
	path := cleanlyClosedLog(t, 20_000)
	evict(t, path)
	evict(t, path+".keys")
	if f := residentFraction(path + ".keys"); f > 0.9 {
		t.Fatalf("the snapshot is still %.0f%% in the page cache: the test needs it cold", 100*f)
	}
	l := mustOpenLog(t, path)
	if l.keysFromSnapshot != 20_000 {
		t.Fatalf("keys from the snapshot up to %d, want 20000", l.keysFromSnapshot)
	}
	if err := l.Checked(); err != nil {
		t.Fatal(err)
	}
	if !mapped(t, path+".keys") {
		t.Fatal("the open does not use the snapshot's mapping")
	}
	allDuplicates(t, l, snapEvents("s", 0, 20_000))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if mapped(t, path+".keys") {
		t.Fatal("the snapshot is still mapped after the close")
	}

	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put(metaFormat, []byte{9}) })
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	evict(t, path+".keys")
	if _, err := Open(path, WithNoSync()); !IsCorrupt(err) || !strings.Contains(err.Error(), "unsupported log format") {
		t.Fatalf("open of a log of format 9: %v", err)
	}
	if mapped(t, path+".keys") {
		t.Fatal("the snapshot is still mapped after the failed open")
	}
}

// evict drops the file at path from the page cache (its pages are clean).
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	const fadvDontNeed = 4
	if _, _, e := syscall.Syscall6(syscall.SYS_FADVISE64, f.Fd(), 0, 0, fadvDontNeed, 0, 0); e != 0 {
		t.Fatalf("fadvise %s: %v", path, e)
	}
}

// mapped reports whether this process maps the file at path.
func mapped(t *testing.T, path string) bool {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasSuffix(line, " "+path) {
			return true
		}
	}
	return false
}

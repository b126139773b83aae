package eventstore

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func snapEvents(source string, from, to int) []domain.Event {
	var evs []domain.Event
	for i := from; i < to; i++ {
		evs = append(evs, domain.Event{ID: fmt.Sprint(i), Source: source, Type: domain.TypeComplaintFiled, Schema: 1,
			Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Data: domain.Data{CustomerID: "C", Category: "billing"}})
	}
	return evs
}

func mustOpenLog(t *testing.T, path string) *Log {
	t.Helper()
	l, err := Open(path, WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// allDuplicates checks that every event is reported as already stored.
func allDuplicates(t *testing.T, l *Log, evs []domain.Event) {
	t.Helper()
	res, err := l.Append(evs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		if !r.Duplicate {
			t.Fatalf("event %s/%s stored again after reopen", evs[i].Source, evs[i].ID)
		}
	}
}

func TestKeySnapshot(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l := mustOpenLog(t, path)
	first := snapEvents("s", 0, 3000)
	if _, err := l.Append(first...); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".keys"); err != nil {
		t.Fatalf("no snapshot after a clean close: %v", err)
	}

	t.Run("LoadedAfterCleanClose", func(t *testing.T) {
		l := mustOpenLog(t, path)
		if l.keysFromSnapshot != 3000 {
			t.Fatalf("keys from snapshot at %d, want 3000", l.keysFromSnapshot)
		}
		allDuplicates(t, l, first[:50])
		// A crash: more events, and no snapshot written at the end.
		if _, err := l.Append(snapEvents("s", 3000, 3500)...); err != nil {
			t.Fatal(err)
		}
		l.closed.Store(true)
		l.db.Close()
	})
	t.Run("OlderSnapshotIsCompletedFromTheLog", func(t *testing.T) {
		l := mustOpenLog(t, path)
		defer l.Close()
		if l.keysFromSnapshot != 3000 {
			t.Fatalf("keys from snapshot at %d, want the stale 3000", l.keysFromSnapshot)
		}
		allDuplicates(t, l, snapEvents("s", 2990, 3500))
	})
	t.Run("SnapshotOfAnotherLogIsIgnored", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "events.db")
		o := mustOpenLog(t, other)
		if _, err := o.Append(snapEvents("other", 0, 4000)...); err != nil {
			t.Fatal(err)
		}
		o.closed.Store(true) // no snapshot of its own
		o.db.Close()
		b, err := os.ReadFile(path + ".keys")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(other+".keys", b, 0o600); err != nil {
			t.Fatal(err)
		}
		o = mustOpenLog(t, other)
		defer o.Close()
		if o.keysFromSnapshot != 0 {
			t.Fatal("loaded the key snapshot of another log")
		}
		allDuplicates(t, o, snapEvents("other", 0, 20))
		if res, _ := o.Append(snapEvents("s", 0, 1)...); res[0].Duplicate {
			t.Fatal("an event of the other log's snapshot counted as stored")
		}
	})
	t.Run("CorruptSnapshotIsIgnored", func(t *testing.T) {
		rewriteSnapshot(t, path, func(b []byte) { b[len(b)/2] ^= 0xff })
		l := mustOpenLog(t, path)
		defer l.Close()
		if l.keysFromSnapshot != 0 {
			t.Fatal("loaded a corrupt key snapshot")
		}
		allDuplicates(t, l, snapEvents("s", 0, 3500))
	})
}

// TestVerifyChecksTheKeySnapshot: a snapshot that claims events the log does
// not hold would make the next open drop new events; verify reports it.
func TestVerifyChecksTheKeySnapshot(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	l := mustOpenLog(t, path)
	if _, err := l.Append(snapEvents("s", 0, 100)...); err != nil {
		t.Fatal(err)
	}
	// Swap one stored key for one of an event that was never stored.
	l.mu.Lock()
swap:
	for i := range l.keys.shards {
		for j, k := range l.keys.shards[i].slots {
			if k != (eventKey{}) {
				l.keys.shards[i].slots[j] = keyOf("ghost", "1")
				break swap
			}
		}
	}
	l.mu.Unlock()
	if err := l.Close(); err != nil { // writes the snapshot with the ghost
		t.Fatal(err)
	}
	l, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	rep, err := l.Verify(t.Context(), nil)
	if !IsCorrupt(err) || rep.KeySnapshotSeq != 100 {
		t.Fatalf("verify = %+v, %v; want the ghost key reported", rep, err)
	}
}

// TestKeySnapshotMappedCopyOnWrite: the loaded snapshot's slots are the
// file's (mapped); appends that insert into them and grow every shard
// leave the file as it was until the close writes the next snapshot, and
// every key, old and new, stays a duplicate across the reopen.
func TestKeySnapshotMappedCopyOnWrite(t *testing.T) {
	path := cleanlyClosedLog(t, 3000)
	before, err := os.ReadFile(path + ".keys")
	if err != nil {
		t.Fatal(err)
	}
	l := mustOpenLog(t, path)
	if l.keysFromSnapshot != 3000 {
		t.Fatalf("keys from snapshot at %d, want 3000", l.keysFromSnapshot)
	}
	slots := len(l.keys.shards[0].slots)
	more := snapEvents("s", 3000, 40_000) // about 145 more keys a shard: each grows
	if _, err := l.Append(more...); err != nil {
		t.Fatal(err)
	}
	if len(l.keys.shards[0].slots) == slots {
		t.Fatalf("shard 0 did not grow (%d slots)", slots)
	}
	allDuplicates(t, l, snapEvents("s", 0, 40_000))
	if after, err := os.ReadFile(path + ".keys"); err != nil || string(after) != string(before) {
		t.Fatalf("the mapped snapshot file changed under the appends (err %v)", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Contains("s", "1") {
		t.Fatal("a closed log's released key set still answers")
	}
	l = mustOpenLog(t, path)
	defer l.Close()
	if l.keysFromSnapshot != 40_000 {
		t.Fatalf("keys from snapshot at %d, want 40000", l.keysFromSnapshot)
	}
	allDuplicates(t, l, snapEvents("s", 0, 40_000))
}

// TestKeySnapshotOfTheEarlierLayoutIsIgnored: a snapshot an older plaint
// wrote (plaint-keys-2, keys read into memory) is not mapped; the set is
// rebuilt from the log and stays exact.
func TestKeySnapshotOfTheEarlierLayoutIsIgnored(t *testing.T) {
	path := cleanlyClosedLog(t, 500)
	rewriteSnapshot(t, path, func(b []byte) { copy(b, "plaint-keys-2\n") })
	l := mustOpenLog(t, path)
	defer l.Close()
	if l.keysFromSnapshot != 0 {
		t.Fatal("loaded a snapshot of the earlier layout")
	}
	allDuplicates(t, l, snapEvents("s", 0, 500))
}

// cleanlyClosedLog returns the path of a new log of the events
// snapEvents("s", 0, n), closed cleanly (with its key snapshot).
func cleanlyClosedLog(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	l := mustOpenLog(t, path)
	if _, err := l.Append(snapEvents("s", 0, n)...); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// rewriteSnapshot changes the bytes of the key snapshot of the log at path
// with change.
func rewriteSnapshot(t *testing.T, path string, change func([]byte)) {
	t.Helper()
	b, err := os.ReadFile(path + ".keys")
	if err != nil {
		t.Fatal(err)
	}
	change(b)
	if err := os.WriteFile(path+".keys", b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKeysLoadedSaysWhereTheKeysCameFrom: after a clean stop the keys come
// from the snapshot; without it, or with a damaged one, they are rebuilt
// and KeysLoaded says why.
func TestKeysLoadedSaysWhereTheKeysCameFrom(t *testing.T) {
	path := cleanlyClosedLog(t, 500)
	for _, c := range []struct {
		name, want string
		change     func()
	}{
		{"after a clean stop", "from the key snapshot at 500, and 0 records after it", func() {}},
		{"with a damaged snapshot", "could not be used (checksum mismatch)", func() {
			rewriteSnapshot(t, path, func(b []byte) { b[len(b)/2] ^= 1 })
		}},
		{"without a snapshot", "there was no key snapshot beside it", func() {
			if err := os.Remove(path + ".keys"); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		c.change()
		l := mustOpenLog(t, path)
		if got := l.KeysLoaded(); !strings.Contains(got, c.want) {
			t.Errorf("%s: KeysLoaded() = %q, want it to say %q", c.name, got, c.want)
		}
		allDuplicates(t, l, snapEvents("s", 0, 500))
		// The close writes a snapshot again; the next case changes it.
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	ro, err := Open(path, WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got := ro.KeysLoaded(); got != "" {
		t.Errorf("read-only: KeysLoaded() = %q, want empty", got)
	}
}

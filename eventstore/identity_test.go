package eventstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plaint/plaint/eventstore"
)

func TestLogIdentityIsKeptAndStampedIntoOtherFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l := MustOpen(t, dir)
	id := l.ID()
	l.Close()
	if len(id) != 36 {
		t.Fatalf("id %q is not a UUID", id)
	}
	l = MustOpen(t, dir, eventstore.WithReadOnly())
	if l.ID() != id {
		t.Fatalf("reopened id %q, want %q", l.ID(), id)
	}
	l.Close()
	other := filepath.Join(dir, "projections.db")
	if got, err := eventstore.FileIdentity(other); err != nil || got != "" {
		t.Fatalf("identity of a missing file: %q %v", got, err)
	}
	if err := eventstore.StampFile(other, id); err != nil {
		t.Fatal(err)
	}
	if got, err := eventstore.FileIdentity(other); err != nil || got != id {
		t.Fatalf("stamped identity %q %v, want %q", got, err, id)
	}
	// An emptied log is not taken for a new one.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := eventstore.Open(path); !errors.Is(err, eventstore.ErrEmpty) {
		t.Fatalf("open of an emptied log: %v, want ErrEmpty", err)
	}
	l = MustOpen(t, dir, eventstore.WithInitEmpty())
	if l.ID() == id || l.ID() == "" {
		t.Fatalf("a new log in the emptied file has id %q (old %q)", l.ID(), id)
	}
}

func TestCloseReportsAKeySnapshotItCouldNotWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l := MustOpen(t, dir)
	if _, err := l.Append(benchEvents(1, 3)...); err != nil {
		t.Fatal(err)
	}
	// A directory where the snapshot goes: the rename into place fails,
	// as a write on a full disk would.
	if err := os.MkdirAll(filepath.Join(path+".keys", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); !errors.Is(err, eventstore.ErrKeySnapshot) {
		t.Fatalf("close: %v, want ErrKeySnapshot", err)
	}
	// The log is closed and sound.
	l = MustOpen(t, dir, eventstore.WithReadOnly())
	if l.LastSeq() != 3 {
		t.Fatalf("last seq %d, want 3", l.LastSeq())
	}
}

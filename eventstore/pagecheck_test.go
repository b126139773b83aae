package eventstore

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBackgroundPageCheckStopsWrites checks the page check that runs in the
// background after a clean stop: a log whose leaf page was damaged at rest
// opens (its key snapshot is loaded), but Checked reports the damage, and
// appends and erasures fail with it instead of writing into the file; the
// same log without its snapshot fails to open, as before.
func TestBackgroundPageCheckStopsWrites(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l := mustOpenLog(t, path)
	if _, err := l.Append(snapEvents("s", 0, 20000)...); err != nil {
		t.Fatal(err)
	}
	if err := l.Checked(); err != nil {
		t.Fatalf("sound log: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A leaf page in the middle of the file, far from the last record, the
	// dictionary and the meta bucket that the open reads.
	const ps = 4096
	var leaves []int
	for p := 2; p < len(b)/ps; p++ {
		if binary.LittleEndian.Uint64(b[p*ps:]) == uint64(p) && binary.LittleEndian.Uint16(b[p*ps+8:]) == 2 {
			leaves = append(leaves, p)
		}
	}
	if len(leaves) < 10 {
		t.Fatalf("%d leaf pages; the test needs more", len(leaves))
	}
	mid := leaves[len(leaves)/2]
	binary.LittleEndian.PutUint64(b[mid*ps:], 99999)
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}

	l, err = Open(path, WithNoSync())
	if err != nil {
		t.Fatalf("open with the key snapshot: %v (the page check should run in the background)", err)
	}
	if l.keysFromSnapshot == 0 {
		t.Fatal("the key snapshot was not used")
	}
	err = l.Checked()
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "self identifies as 99999") {
		t.Fatalf("Checked: %v, want the damaged page", err)
	}
	if _, err := l.Append(snapEvents("s", 20000, 20001)...); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("append into a damaged log: %v, want ErrCorrupt", err)
	}
	if _, err := l.Forget(t.Context(), &ForgetPlan{CustomerID: "C"}, ForgetOptions{Reason: "test"}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("erasure in a damaged log: %v, want ErrCorrupt", err)
	}
	if l.LastSeq() != 20000 {
		t.Fatalf("last seq %d", l.LastSeq())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(after); n != len(b) || binary.LittleEndian.Uint64(after[mid*ps:]) != 99999 {
		t.Fatalf("the damaged log changed (%d bytes, was %d)", n, len(b))
	}

	if err := os.Remove(path + ".keys"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, WithNoSync()); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open without the snapshot: %v, want ErrCorrupt", err)
	}
}

package eventstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
)

// TestTailBlockFollowsTheStoredBlock: an append that extends the last
// block takes its records from the appender's copy only while the stored
// block is the one the copy was made of. Here a record of the last block is
// rewritten behind the copy (as an erasure rewrites one), and the next
// append must extend the block as stored, with the rewritten record.
func TestTailBlockFollowsTheStoredBlock(t *testing.T) {
	l, err := Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	at := time.Date(2026, 10, 3, 14, 22, 0, 0, time.UTC)
	events := func(from, n int) []domain.Event {
		evs := make([]domain.Event, n)
		for i := range evs {
			evs[i] = domain.Event{ID: fmt.Sprintf("e%d", from+i), Source: "crm", Type: domain.TypeComplaintFiled, Time: at,
				Subject: "C-1", Schema: domain.CurrentSchema, Data: domain.Data{CustomerID: "C-1", Category: "billing", Severity: 2}}
		}
		return evs
	}
	record := func(seq uint64) (r Record) {
		t.Helper()
		if err := l.db.View(func(tx *bolt.Tx) error {
			got, err := storedRecord(tx.Bucket(bucketEvents), seq)
			r = bytes.Clone(got)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return r
	}
	if _, err := l.Append(events(0, 10)...); err != nil {
		t.Fatal(err)
	}
	if l.tail.value == nil {
		t.Fatal("no copy of the last block after an append")
	}
	// Record 3 becomes record 1's bytes behind the appender's back.
	first := record(1)
	if err := l.db.Update(func(tx *bolt.Tx) error { return replaceRecord(tx.Bucket(bucketEvents), 3, first) }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(events(10, 10)...); err != nil {
		t.Fatal(err)
	}
	if got := record(3); !bytes.Equal(got, first) {
		t.Fatalf("record 3 after the next append is\n%x\nwant the rewritten\n%x", got, first)
	}
	// Without a change behind it the copy is used, and the block reads as
	// the appends made it.
	if _, err := l.Append(events(20, 10)...); err != nil {
		t.Fatal(err)
	}
	for seq := uint64(21); seq <= 30; seq++ {
		ev, err := decodeRecord(record(seq), l.dict.snapshot())
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("e%d", seq-1); ev.ID != want {
			t.Fatalf("record %d is %s, want %s", seq, ev.ID, want)
		}
	}
	if got := record(3); !bytes.Equal(got, first) {
		t.Fatalf("record 3 after two appends is\n%x\nwant the rewritten\n%x", got, first)
	}
}

// Package logtest is the contract test suite of an append-only event log:
// what eventstore.Log guarantees its appenders and readers, and what any
// other implementation of Log must guarantee too.
package logtest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Log is the part of an event log the contract exercises.
type Log interface {
	// Append stores events durably, in order, in one transaction. Events
	// whose (source, id) was ever stored, or that repeat within the call,
	// are reported as duplicates and not stored again.
	Append(events ...domain.Event) ([]eventstore.Result, error)
	// LastSeq returns the sequence of the last committed event, 0 when empty.
	LastSeq() uint64
	// ReadFrom calls fn for every event with sequence >= from, in order.
	ReadFrom(from uint64, fn func(seq uint64, ev domain.Event) error) error
	// Close releases the log.
	Close() error
}

var _ Log = (*eventstore.Log)(nil)

// Opener opens the log stored in dir, creating it when empty. Opening the same
// dir again after Close must see everything committed before.
type Opener func(tb testing.TB, dir string) Log

// Event returns a valid complaint.filed event with the given source and id.
func Event(source, id string, t time.Time) domain.Event {
	return domain.Event{
		ID: id, Source: source, Type: domain.TypeComplaintFiled, Time: t.UTC(), Subject: "C-1",
		Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: "C-1", Category: "billing", Segment: "enterprise", Channel: "phone",
			Severity: 3, RootCause: "process", Product: "fiber", Region: "north"},
	}
}

// Run runs the contract against logs made by open.
func Run(t *testing.T, open Opener) {
	base := time.Date(2026, 10, 3, 14, 22, 0, 0, time.UTC)
	t.Run("AppendAssignsContiguousSequences", func(t *testing.T) {
		l := open(t, t.TempDir())
		defer l.Close()
		res, err := l.Append(Event("s", "1", base), Event("s", "2", base), Event("s", "3", base))
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if r.Duplicate || r.Seq != uint64(i+1) {
				t.Fatalf("result %d = %+v, want seq %d", i, r, i+1)
			}
		}
		if got := l.LastSeq(); got != 3 {
			t.Fatalf("LastSeq = %d, want 3", got)
		}
	})
	t.Run("DuplicatesAreDroppedForEver", func(t *testing.T) {
		dir := t.TempDir()
		l := open(t, dir)
		if _, err := l.Append(Event("crm", "a", base)); err != nil {
			t.Fatal(err)
		}
		res, err := l.Append(Event("crm", "a", base.Add(time.Hour)), Event("other", "a", base), Event("other", "a", base))
		if err != nil {
			t.Fatal(err)
		}
		want := []eventstore.Result{{Duplicate: true}, {Seq: 2}, {Duplicate: true}}
		if !reflect.DeepEqual(res, want) {
			t.Fatalf("results = %+v, want %+v", res, want)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = open(t, dir)
		defer l.Close()
		res, err = l.Append(Event("crm", "a", base), Event("crm", "b", base))
		if err != nil {
			t.Fatal(err)
		}
		want = []eventstore.Result{{Duplicate: true}, {Seq: 3}}
		if !reflect.DeepEqual(res, want) {
			t.Fatalf("after reopen results = %+v, want %+v", res, want)
		}
	})
	t.Run("ReadBackEqualsWhatWasAppended", func(t *testing.T) {
		l := open(t, t.TempDir())
		defer l.Close()
		in := []domain.Event{Event("s", "5c0d9a86-1b2e-4c3f-9d4e-5f6a7b8c9d0e", base)}
		e := Event("s", "custom-id", base.Add(time.Nanosecond))
		e.Subject = "somebody-else"
		e.Type = domain.TypeCustomerDefected
		e.Data = domain.Data{CustomerID: "C-9", Reason: "price", Segment: "smb", Amount: 123456, Currency: "EUR"}
		in = append(in, e)
		r := Event("s", "r", base)
		r.Type, r.Subject = domain.TypeComplaintResolved, ""
		r.Data = domain.Data{CustomerID: "C-1", ComplaintID: "CMP-7", Resolution: "refund"}
		in = append(in, r)
		v0 := Event("s", "v0", base)
		v0.Schema = 0
		v0.Data = domain.Data{CustomerID: "C-2", Topic: "Late delivery of my router"}
		in = append(in, v0)
		if _, err := l.Append(in...); err != nil {
			t.Fatal(err)
		}
		var out []domain.Event
		if err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
			if seq != uint64(len(out)+1) {
				return fmt.Errorf("seq %d out of order", seq)
			}
			out = append(out, ev)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(in, out) {
			t.Fatalf("read back\n%+v\nwant\n%+v", out, in)
		}
	})
	t.Run("InvalidEventsAreRejectedAndNothingIsStored", func(t *testing.T) {
		l := open(t, t.TempDir())
		defer l.Close()
		bad := Event("s", "2", base)
		bad.Data.CustomerID = ""
		_, err := l.Append(Event("s", "1", base), bad)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID {
			t.Fatalf("err = %v, want an EINVALID *domain.Error", err)
		}
		if l.LastSeq() != 0 {
			t.Fatalf("LastSeq = %d after a rejected batch, want 0", l.LastSeq())
		}
	})
	t.Run("ReadFromStartsAtTheGivenSequence", func(t *testing.T) {
		l := open(t, t.TempDir())
		defer l.Close()
		for i := 0; i < 10; i++ {
			if _, err := l.Append(Event("s", fmt.Sprint(i), base)); err != nil {
				t.Fatal(err)
			}
		}
		var seqs []uint64
		if err := l.ReadFrom(8, func(seq uint64, _ domain.Event) error { seqs = append(seqs, seq); return nil }); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(seqs, []uint64{8, 9, 10}) {
			t.Fatalf("seqs = %v", seqs)
		}
	})
}

package eventstore_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// TestScanBlocks checks, on a log of records followed by blocks, that
// ScanBlocks hands out for every sequence of a range exactly what Scan's
// record holds: the columns asked for of the records in blocks, the records
// kept alone as they are, the id and optional fields of every record, and each block's record whole on demand.
func TestScanBlocks(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	clock := t0
	for i, blocks := range []bool{false, true, false, true} {
		l, err := eventstore.Open(path, eventstore.WithBlocks(blocks), eventstore.WithNoSync(), eventstore.WithClock(func() time.Time { return clock }))
		if err != nil {
			t.Fatal(err)
		}
		evs := blockLogEvents(uint64(i), 1500)
		for j := range evs {
			evs[j].Data.Severity = uint8(j % 6)
			if j%4 == 0 { // an id the store keeps as 16 bytes
				evs[j].ID = fmt.Sprintf("%08x-0000-4000-8000-%012x", i, j)
			}
			if evs[j].Type != domain.TypeComplaintFiled {
				evs[j].Data.Severity = 0
			}
			switch d := &evs[j].Data; {
			case evs[j].Type == domain.TypeComplaintFiled && j%3 == 0:
				d.ComplaintID = fmt.Sprintf("K-%d-%d", i, j)
			case evs[j].Type == domain.TypeRevenueRecorded && j%2 == 0:
				d.Cost, d.HasCost = d.Amount/3, true
			case evs[j].Type == domain.TypeCustomerAcquired && j%2 == 0:
				evs[j].Type, d.Reason, d.Competitor = domain.TypeCustomerDefected, "price", "rival"
			}
		}
		blockLogAppend(t, l, &clock, evs, 700, 1, 90)
		l.Close()
	}
	l, err := eventstore.Open(path, eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	fields := []eventstore.Field{eventstore.FieldCategory, eventstore.FieldCustomer}
	r := rand.New(rand.NewPCG(2, 2))
	err = l.View(func(s *eventstore.Snapshot) error {
		all := []eventstore.Record{nil} // by sequence, from Scan
		if err := s.Scan(0, 0, func(_ uint64, rec eventstore.Record) error {
			all = append(all, rec)
			return nil
		}); err != nil {
			return err
		}
		for range 100 {
			from := r.Uint64N(s.LastSeq() + 1)
			to := from + r.Uint64N(4000)
			if r.IntN(5) == 0 {
				to = 0
			}
			next := max(from, 1)
			blocks := 0
			err := s.ScanBlocks(from, to, fields, true, func(c *eventstore.Columns) error {
				blocks++
				if c.First != next {
					t.Fatalf("%d..%d: block run from %d, want %d", from, to, c.First, next)
				}
				for i := range c.Len() {
					seq := c.First + uint64(i)
					g := all[seq]
					if domain.Type(c.Types[i]) != g.Type() || c.Schemas[i] != uint32(g.Schema()) || c.Severities[i] != uint32(g.Severity()) ||
						c.EventTimes[i] != g.EventTime() || c.RecordTimes[i] != g.RecordTime() ||
						c.Dim(eventstore.FieldCategory)[i] != g.Dim(eventstore.FieldCategory) || c.Dim(eventstore.FieldCustomer)[i] != g.Dim(eventstore.FieldCustomer) {
						t.Fatalf("record %d: columns differ from the record", seq)
					}
					wantID, err := g.ID()
					if err != nil {
						t.Fatal(err)
					}
					if gotID, err := c.ID(i); err != nil || gotID != wantID {
						t.Fatalf("record %d: id %q (%v), want %q", seq, gotID, err, wantID)
					}
					if got, err := c.AppendID([]byte("x"), i); err != nil || string(got) != "x"+wantID {
						t.Fatalf("record %d: appended id %q (%v), want %q after x", seq, got, err, wantID)
					}
					want, err := s.Optional(g)
					if err != nil {
						t.Fatal(err)
					}
					got, err := c.Optional(i)
					if err != nil || !reflect.DeepEqual(got, want) {
						t.Fatalf("record %d: optional fields %+v (%v), want %+v", seq, got, err, want)
					}
					if i%97 == 0 {
						whole, err := c.Record(i)
						if err != nil || !bytes.Equal(whole, g) {
							t.Fatalf("record %d whole: %v", seq, err)
						}
					}
				}
				next += uint64(c.Len())
				return nil
			}, func(seq uint64, rec eventstore.Record) error {
				if seq != next {
					t.Fatalf("%d..%d: record %d, want %d", from, to, seq, next)
				}
				if !bytes.Equal(all[seq], rec) {
					t.Fatalf("record %d differs from Scan's", seq)
				}
				next++
				return nil
			})
			if err != nil {
				return err
			}
			end := s.LastSeq()
			if to != 0 {
				end = min(to, end)
			}
			if next != end+1 && !(from > end) {
				t.Fatalf("%d..%d ended at %d, want %d", from, to, next, end+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestScanBlocksLazy checks that ScanBlocksLazy hands out the columns
// ScanBlocks does, with the record times left undecoded until
// LoadRecordTimes, which gives every record's own; and that RecordTimeRange
// holds every record time of its block.
func TestScanBlocksLazy(t *testing.T) {
	clock := t0
	l, err := eventstore.Open(filepath.Join(t.TempDir(), "events.db"), eventstore.WithNoSync(), eventstore.WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	blockLogAppend(t, l, &clock, blockLogEvents(3, 5000), 700, 1, 90)
	fields := []eventstore.Field{eventstore.FieldCategory}
	r := rand.New(rand.NewPCG(3, 3))
	err = l.View(func(s *eventstore.Snapshot) error {
		for range 50 {
			from := r.Uint64N(s.LastSeq() + 1)
			to := from + r.Uint64N(3000)
			var eager []eventstore.Columns
			if err := s.ScanBlocks(from, to, fields, true, func(c *eventstore.Columns) error {
				cp := *c
				cp.Types, cp.Schemas, cp.Severities = append([]uint32(nil), c.Types...), append([]uint32(nil), c.Schemas...), append([]uint32(nil), c.Severities...)
				cp.EventTimes, cp.RecordTimes = append([]int64(nil), c.EventTimes...), append([]int64(nil), c.RecordTimes...)
				eager = append(eager, cp)
				return nil
			}, func(uint64, eventstore.Record) error { return nil }); err != nil {
				return err
			}
			i := 0
			if err := s.ScanBlocksLazy(from, to, fields, true, func(c *eventstore.Columns) error {
				if i >= len(eager) {
					t.Fatalf("%d..%d: more blocks than ScanBlocks", from, to)
				}
				e := &eager[i]
				i++
				if c.RecordTimes != nil {
					t.Fatalf("%d..%d: record times decoded before they were asked for", from, to)
				}
				if c.First != e.First || !reflect.DeepEqual(c.Types, e.Types) || !reflect.DeepEqual(c.Schemas, e.Schemas) ||
					!reflect.DeepEqual(c.Severities, e.Severities) || !reflect.DeepEqual(c.EventTimes, e.EventTimes) {
					t.Fatalf("%d..%d: block at %d: columns differ from ScanBlocks'", from, to, c.First)
				}
				if r.IntN(3) == 0 {
					return nil // never loaded
				}
				rts, err := c.LoadRecordTimes()
				if err != nil {
					return err
				}
				if !reflect.DeepEqual(rts, e.RecordTimes) || !reflect.DeepEqual(c.RecordTimes, e.RecordTimes) {
					t.Fatalf("%d..%d: block at %d: record times %v, want %v", from, to, c.First, rts, e.RecordTimes)
				}
				first, last := c.RecordTimeRange()
				for _, rt := range rts {
					if rt < first || rt > last {
						t.Fatalf("%d..%d: block at %d: record time %d outside %d..%d", from, to, c.First, rt, first, last)
					}
				}
				return nil
			}, func(uint64, eventstore.Record) error { return nil }); err != nil {
				return err
			}
			if i != len(eager) {
				t.Fatalf("%d..%d: %d blocks, ScanBlocks %d", from, to, i, len(eager))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

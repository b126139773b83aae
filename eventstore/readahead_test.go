package eventstore

import (
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// TestReadAheadProgress checks the read-ahead's prefix: chunks read out of
// order move it only once those before them are read, its last chunk is
// short, a wait returns once the prefix passes its bytes, and every wait
// returns once the read-ahead ends.
func TestReadAheadProgress(t *testing.T) {
	a := newReadAhead(10*4+3, 4) // 11 chunks, the last of 3 bytes
	waited := func(n int64) chan struct{} {
		c := make(chan struct{})
		go func() { a.wait(n); close(c) }()
		return c
	}
	a.read(4)
	a.read(12)
	if a.prefix != 0 {
		t.Fatalf("prefix %d with chunk 0 unread", a.prefix)
	}
	w := waited(9)
	a.read(0)
	if a.prefix != 8 {
		t.Fatalf("prefix %d, want 8", a.prefix)
	}
	a.read(8)
	<-w // the prefix is 16: past 9
	if a.prefix != 16 {
		t.Fatalf("prefix %d, want 16", a.prefix)
	}
	for off := int64(16); off < 40; off += 4 {
		a.read(off)
	}
	w = waited(1 << 40) // past the end: the whole file
	a.read(40)
	<-w
	if a.prefix != 43 {
		t.Fatalf("prefix %d, want the file's 43 bytes", a.prefix)
	}
	b := newReadAhead(100, 10)
	w = func() chan struct{} {
		c := make(chan struct{})
		go func() { b.wait(50); close(c) }()
		return c
	}()
	b.end()
	<-w
	b.wait(100) // ended: returns at once
}

// TestScanBlocksBehindReadAhead checks that a block scan of a view begun
// while the file is read ahead goes on as the read-ahead moves, and ends
// when the read-ahead does, with what the scan gives without one.
func TestScanBlocksBehindReadAhead(t *testing.T) {
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, err := Open(filepath.Join(t.TempDir(), "events.db"), WithNoSync(), WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var evs []domain.Event
	for i := range 5000 {
		evs = append(evs, domain.Event{ID: fmt.Sprintf("e-%d", i), Source: "crm/a", Type: domain.TypeComplaintFiled,
			Time: clock.Add(time.Duration(i) * time.Minute), Subject: "C-1", Schema: domain.CurrentSchema,
			Data: domain.Data{CustomerID: fmt.Sprintf("C-%d", i%300), Category: "billing", Severity: 2}})
	}
	for i := 0; i < len(evs); i += 700 {
		if _, err := l.Append(evs[i:min(i+700, len(evs))]...); err != nil {
			t.Fatal(err)
		}
	}
	scan := func() (firsts []uint64, ets []int64) {
		err := l.View(func(s *Snapshot) error {
			return s.ScanBlocks(0, 0, nil, false, func(c *Columns) error {
				firsts = append(firsts, c.First)
				ets = append(ets, c.EventTimes...)
				return nil
			}, func(uint64, Record) error { return nil })
		})
		if err != nil {
			t.Fatal(err)
		}
		return firsts, ets
	}
	wantFirsts, wantETs := scan()
	if len(wantFirsts) < 3 {
		t.Fatalf("%d blocks", len(wantFirsts))
	}
	// A short scan does not wait for a read-ahead (a live fold of the last
	// commits while a build reads the file): this one never moves.
	still := newReadAhead(1<<30, 1<<20)
	l.ahead.Store(still)
	short := make(chan []uint64, 1)
	go func() { f, _ := scan(); short <- f }()
	select {
	case f := <-short:
		if !reflect.DeepEqual(f, wantFirsts) {
			t.Fatal("the short scan beside the read-ahead gave other blocks")
		}
	case <-time.After(30 * time.Second):
		still.end() // lets the scan and Close finish
		t.Fatal("a scan of 5,000 records waited for a read-ahead that does not move")
	}
	l.ahead.Store(nil)
	// A long scan keeps behind it: behindMin as low as this log.
	defer func(m uint64) { behindMin = m }(behindMin)
	behindMin = 1
	for _, finish := range []string{"read", "end"} {
		a := newReadAhead(1<<30, 1<<20) // far larger than the file: the scan waits past its values
		l.ahead.Store(a)
		type result struct {
			firsts []uint64
			ets    []int64
		}
		got := make(chan result)
		go func() {
			f, e := scan()
			got <- result{f, e}
		}()
		if finish == "read" {
			for off := int64(0); off < 1<<30; off += 1 << 20 {
				a.read(off)
			}
		} else {
			a.end()
		}
		r := <-got
		l.ahead.Store(nil)
		if !reflect.DeepEqual(r.firsts, wantFirsts) || !reflect.DeepEqual(r.ets, wantETs) {
			t.Fatalf("%s: the scan behind the read-ahead gave other blocks", finish)
		}
	}
}

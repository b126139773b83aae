package projections

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/eventstore"
)

// seqFold is a Pipeliner that keeps the sequences it is given, in the
// order Merge adds its parts, and can fail its n-th Merge. With beside
// set, its first Merge waits until a later part scans while it runs (and
// the later parts' Scan until that Merge has begun), with a deadline.
type seqFold struct {
	seqs   []uint64
	merges int
	failAt int // fail the failAt-th Merge (1-based); 0 never

	beside           bool
	first            uint64        // the range's first sequence
	mergeBegan, scan chan struct{} // closed: the first Merge began; a part scanned beside it
	scanOnce         sync.Once
	merging          atomic.Bool
	overlapped       bool
}

type seqPart struct {
	f    *seqFold
	seqs []uint64
}

func (f *seqFold) NewPart() Part          { return &seqPart{f: f} }
func (f *seqFold) ScansBesideMerge() bool { return true }

func (p *seqPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	if f := p.f; f.beside && from != f.first {
		select {
		case <-f.mergeBegan:
		case <-time.After(10 * time.Second):
			return errors.New("the first Merge never began")
		}
		if f.merging.Load() {
			f.scanOnce.Do(func() { close(f.scan) })
		}
	}
	return scanCounted(s, from, to, seen, func(seq uint64, _ eventstore.Record) error {
		p.seqs = append(p.seqs, seq)
		return nil
	})
}

func (f *seqFold) Merge(pp Part) error {
	f.merges++
	if f.beside && f.merges == 1 {
		f.merging.Store(true)
		close(f.mergeBegan)
		select {
		case <-f.scan:
			f.overlapped = true
		case <-time.After(10 * time.Second):
		}
		f.merging.Store(false)
	}
	if f.merges == f.failAt {
		return errBadMerge
	}
	f.seqs = append(f.seqs, pp.(*seqPart).seqs...)
	return nil
}

var errBadMerge = errors.New("bad merge")

// TestPipelinedFoldMergesInOrder folds ranges of a log into a Pipeliner
// with two and three workers: every record is merged once, in log order,
// and counted; a part is scanned while an earlier one merges; a Merge's
// error stops the range and is returned.
func TestPipelinedFoldMergesInOrder(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(7), 3000)
	last := l.LastSeq()
	for _, workers := range []int{2, 3} {
		for _, r := range [][2]uint64{{1, last}, {17, last - 10}, {5, 9}} {
			o := defaultOptions()
			o.workers, o.parallelMin = workers, 1
			f := &seqFold{}
			var seen atomic.Uint64
			if err := foldRange(context.Background(), l, f, r[0], r[1], &o, &seen); err != nil {
				t.Fatal(err)
			}
			if n := r[1] - r[0] + 1; uint64(len(f.seqs)) != n || seen.Load() != n {
				t.Fatalf("%d workers, %v: %d records merged, %d counted, want %d", workers, r, len(f.seqs), seen.Load(), n)
			}
			for i, seq := range f.seqs {
				if seq != r[0]+uint64(i) {
					t.Fatalf("%d workers, %v: record %d merged at %d", workers, r, seq, i)
				}
			}
			if r[1]-r[0] > 1000 && f.merges < 2*workers {
				t.Fatalf("%d workers, %v: %d parts, want at least %d", workers, r, f.merges, 2*workers)
			}
		}
	}
	o := defaultOptions()
	o.workers, o.parallelMin = 2, 1
	f := &seqFold{beside: true, first: 1, mergeBegan: make(chan struct{}), scan: make(chan struct{})}
	if err := foldRange(context.Background(), l, f, 1, last, &o, new(atomic.Uint64)); err != nil {
		t.Fatal(err)
	}
	if uint64(len(f.seqs)) != last || !f.overlapped {
		t.Fatalf("%d of %d records merged; a part scanned beside the first Merge: %v", len(f.seqs), last, f.overlapped)
	}
	f = &seqFold{failAt: 2}
	if err := foldRange(context.Background(), l, f, 1, last, &o, new(atomic.Uint64)); !errors.Is(err, errBadMerge) {
		t.Fatalf("a failing Merge: %v", err)
	}
	if f.merges != 2 {
		t.Fatalf("%d merges, want none after the failing second", f.merges)
	}
}

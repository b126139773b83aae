package projections

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/eventstore"
)

// withAnyOrderPiece sets the records of a piece of a fold in any order.
func withAnyOrderPiece(n uint64) Option { return func(o *options) { o.anyOrderPiece = n } }

// anyFold is an AnyOrder fold that keeps the sequences its parts scanned,
// each part's in the order it scanned them, and whose part fails on the
// sequence failOn (0: never).
type anyFold struct {
	parts  [][]uint64
	failOn uint64
}

type anyPart struct {
	f     *anyFold
	seqs  []uint64
	scans int
}

var errAnyPart = errors.New("part failed")

func (f *anyFold) NewPart() Part         { return &anyPart{f: f} }
func (f *anyFold) PartsInAnyOrder() bool { return true }
func (f *anyFold) Merge(pp Part) error   { f.parts = append(f.parts, pp.(*anyPart).seqs); return nil }

func (p *anyPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	p.scans++
	return scanCounted(s, from, to, seen, func(seq uint64, _ eventstore.Record) error {
		if seq == p.f.failOn {
			return errAnyPart
		}
		p.seqs = append(p.seqs, seq)
		return nil
	})
}

// TestAnyOrderFoldScansEveryRecordOnce folds ranges of a log into an
// AnyOrder fold cut into small pieces: every record is scanned once, by one
// part, each part's pieces in log order, and counted; a part's error stops
// the range and is returned; a range too short for two pieces a worker is
// cut as any fold's.
func TestAnyOrderFoldScansEveryRecordOnce(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(3), 3000)
	last := l.LastSeq()
	for _, workers := range []int{2, 3} {
		for _, r := range [][2]uint64{{1, last}, {17, last - 10}, {5, 60}, {5, 9}} {
			o := defaultOptions()
			o.workers, o.parallelMin, o.anyOrderPiece = workers, 1, 7
			f := &anyFold{}
			var seen atomic.Uint64
			if err := foldRange(context.Background(), l, f, r[0], r[1], &o, &seen); err != nil {
				t.Fatal(err)
			}
			var all []uint64
			for _, p := range f.parts {
				if !slices.IsSorted(p) {
					t.Fatalf("%d workers, %v: a part scanned out of log order", workers, r)
				}
				all = append(all, p...)
			}
			slices.Sort(all)
			n := r[1] - r[0] + 1
			if uint64(len(all)) != n || seen.Load() != n || len(f.parts) != workers {
				t.Fatalf("%d workers, %v: %d records in %d parts, %d counted, want %d", workers, r, len(all), len(f.parts), seen.Load(), n)
			}
			for i, seq := range all {
				if seq != r[0]+uint64(i) {
					t.Fatalf("%d workers, %v: record %d missing or repeated", workers, r, r[0]+uint64(i))
				}
			}
		}
	}
	o := defaultOptions()
	o.workers, o.parallelMin, o.anyOrderPiece = 2, 1, 7
	f := &anyFold{failOn: last / 2}
	if err := foldRange(context.Background(), l, f, 1, last, &o, new(atomic.Uint64)); !errors.Is(err, errAnyPart) {
		t.Fatalf("a failing part: %v", err)
	}
	if len(f.parts) != 0 {
		t.Fatalf("%d parts merged after a part failed", len(f.parts))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := foldRange(ctx, l, &anyFold{}, 1, last, &o, new(atomic.Uint64)); !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled fold: %v", err)
	}
}

// TestTrendsInAnyOrderEqualNaiveRecomputation is the trend property test
// with the trend fold's ranges cut into pieces of a few records taken by
// three workers in any order: every trend equals a naive recomputation,
// live and as of earlier points.
func TestTrendsInAnyOrderEqualNaiveRecomputation(t *testing.T) {
	trendsEqualNaive(t, 4, withAnyOrderPiece(5))
}

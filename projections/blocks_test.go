package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections/customers/customerstest"
)

// TestTrendsOnBlocks is the trend property test on a log that stores its
// events in blocks (which the trend fold reads column by column): random
// events with late, duplicate and v0 ones, appended in random batches and
// folded incrementally in parallel parts, give every trend a naive
// recomputation gives, live and as of earlier points, and the same answers
// as the same events in a log of single records.
func TestTrendsOnBlocks(t *testing.T) {
	for seed := uint64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			var logs [2]*eventstore.Log
			var engines [2]*Engine
			for i, blocks := range []bool{true, false} {
				dir := t.TempDir()
				c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
				l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync(), eventstore.WithClock(c.now), eventstore.WithBlocks(blocks))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				logs[i] = l
				engines[i] = openTestEngine(t, l, filepath.Join(dir, "projections.db"), WithWorkers(3), withParallelMin(1), WithChunk(97),
					WithCheckpointEvery(0), WithRestateGrace(propertyGrace))
			}
			gens := [2]*gen{newGen(seed), newGen(seed)}
			var all []stored
			ctx := context.Background()
			check := func(q TrendQuery, want []stored) {
				t.Helper()
				got, err := engines[0].Trends(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				checkTrend(t, got, want, q)
				other, err := engines[1].Trends(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, other) {
					t.Fatalf("blocks and records answer differently:\n%+v\n%+v", got, other)
				}
			}
			for round := 0; round < 4; round++ {
				n := 150 + gens[0].r.IntN(300)
				gens[1].r.IntN(300)
				all = append(all, appendRandom(t, logs[0], gens[0], n)...)
				appendRandom(t, logs[1], gens[1], n)
				for _, q := range propertyQueries {
					check(q, all)
				}
			}
			mid := all[len(all)/2]
			for _, q := range propertyQueries[:2] {
				q.AsOf = AsOf{Seq: mid.seq}
				check(q, all[:len(all)/2+1])
				q.AsOf = AsOf{Time: time.Unix(0, mid.rt)}
				check(q, all[:sort.Search(len(all), func(i int) bool { return all[i].rt > mid.rt })])
			}
		})
	}
}

// TestBaseAndFirstsOnBlocks checks that the active-base and first-seen
// folds, which read a block's columns, build the same state from a log of
// blocks, a log of single records and a log of records followed by blocks,
// with v0 acquisitions and defections among the events (which the base
// reads from their decoded event), folded in parallel parts.
func TestBaseAndFirstsOnBlocks(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			type custView struct {
				acq, def int64
				acqSeq   uint64
				seg      string
			}
			var bases []map[string]*activeBase
			var firsts []*firstsFold
			var custs []map[string]custView
			for _, turns := range [][]bool{{true, true}, {false, false}, {false, true}} {
				path := filepath.Join(t.TempDir(), "events.db")
				c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
				g := newGen(seed)
				var l *eventstore.Log
				for k, blocks := range turns {
					var err error
					if l, err = eventstore.Open(path, eventstore.WithNoSync(), eventstore.WithClock(c.now), eventstore.WithBlocks(blocks)); err != nil {
						t.Fatal(err)
					}
					g.batches(1500, func(evs []domain.Event) {
						for i := range evs {
							if evs[i].Type != domain.TypeComplaintFiled && g.r.IntN(4) == 0 {
								evs[i].Schema = 0
							}
						}
						if _, err := l.Append(evs...); err != nil {
							t.Fatal(err)
						}
					})
					if k < len(turns)-1 {
						l.Close()
					}
				}
				t.Cleanup(func() { l.Close() })
				o := defaultOptions()
				o.workers, o.parallelMin = 3, 1
				base, first := newBaseFold(), newFirstsFold()
				for _, f := range []Fold{base, first} {
					if err := foldRange(context.Background(), l, f, 1, l.LastSeq(), &o, new(atomic.Uint64)); err != nil {
						t.Fatal(err)
					}
				}
				cv := map[string]custView{}
				for id, c := range base.cust {
					cv[base.tab.Str(id)] = custView{c.acq, c.def, c.acqSeq, base.tab.Str(c.seg)}
				}
				bases, firsts, custs = append(bases, base.bases()), append(firsts, first), append(custs, cv)
			}
			if len(custs[0]) == 0 || len(firsts[0].first[0]) == 0 {
				t.Fatalf("nothing folded: %d customers, %d months", len(custs[0]), len(firsts[0].first[0]))
			}
			for i := 1; i < len(bases); i++ {
				if !reflect.DeepEqual(custs[i], custs[0]) || !reflect.DeepEqual(bases[i], bases[0]) {
					t.Fatalf("log %d: the customer base differs from the log of blocks'", i)
				}
				if !reflect.DeepEqual(firsts[i].first, firsts[0].first) {
					t.Fatalf("log %d: first-seen differs from the log of blocks'", i)
				}
			}
		})
	}
}

// TestCustomersOnBlocks checks that the customers projection, which reads
// a block's columns and each record's optional fields from its rest
// column, answers as the reference fold does on a log of blocks, a log of
// single records and a log of records followed by blocks, built in
// parallel parts, with a quarter of the events that are not complaints
// stored in the older schema (which the fold decodes).
func TestCustomersOnBlocks(t *testing.T) {
	for seed := uint64(5); seed <= 6; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			delivered := customerstest.World(seed, 250)
			r := rand.New(rand.NewPCG(seed, 9))
			for i := range delivered {
				if delivered[i].Type != domain.TypeComplaintFiled && r.IntN(4) == 0 {
					delivered[i].Schema = 0
				}
			}
			var answers []customerAnswers
			for _, turns := range [][]bool{{true, true}, {false, false}, {false, true}} {
				dir := t.TempDir()
				path := filepath.Join(dir, "events.db")
				c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
				var l *eventstore.Log
				for k, blocks := range turns {
					var err error
					if l, err = eventstore.Open(path, eventstore.WithNoSync(), eventstore.WithClock(c.now), eventstore.WithBlocks(blocks)); err != nil {
						t.Fatal(err)
					}
					part := delivered[k*len(delivered)/len(turns) : (k+1)*len(delivered)/len(turns)]
					for i := 0; i < len(part); i += 700 {
						if _, err := l.Append(part[i:min(i+700, len(part))]...); err != nil {
							t.Fatal(err)
						}
					}
					if k < len(turns)-1 {
						l.Close()
					}
				}
				t.Cleanup(func() { l.Close() })
				e := openTestEngine(t, l, filepath.Join(dir, "projections.db"), WithWorkers(3), withParallelMin(1), WithCheckpointEvery(0))
				st, names := reference(t, storedOrder(t, l))
				got := engineAnswers(t, e)
				sameAnswers(t, fmt.Sprintf("log %v", turns), got, referenceAnswers(t, st, names))
				answers = append(answers, got)
			}
			if len(answers[0].Reviews[1].Customers) == 0 {
				t.Fatal("the review of 2025-Q3 lists no lost customer")
			}
		})
	}
}

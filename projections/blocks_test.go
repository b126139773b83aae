package projections

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/plaint/plaint/eventstore"
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

package projections

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// BenchmarkFoldBuild builds each fold a new log needs over the whole log of
// benchLog, warm, on the log in format 2 (one value an event) and in blocks
// (format 3, the default), one after the other in the same run: the
// month × category trend, the first-seen index, the active customer base
// and a spec grouped by category with avg:severity (which decodes every
// event). Each build runs twice; the figure is the second (the log is in
// the page cache). Metrics: warm_s and ns/event.
func BenchmarkFoldBuild(b *testing.B) {
	folds := []struct {
		name string
		new  func(b *testing.B) Fold
	}{
		{"trend", func(*testing.B) Fold { return newTrendFold([]Dimension{DimCategory}, domain.BucketMonth) }},
		{"firsts", func(*testing.B) Fold { return newFirstsFold() }},
		{"base", func(*testing.B) Fold { return newBaseFold() }},
		{"spec", func(b *testing.B) Fold {
			sp, err := ParseSpec([]byte("name: by-category\ngroup_by: [category]\nmeasures: [count, avg:severity]\n"))
			if err != nil {
				b.Fatal(err)
			}
			c, err := compileSpec(sp)
			if err != nil {
				b.Fatal(err)
			}
			return newSpecFold(c)
		}},
	}
	formats := []struct {
		name   string
		blocks bool
	}{{"format=2", false}, {"format=3", true}}
	for _, fd := range folds {
		for _, ft := range formats {
			b.Run(fd.name+"/"+ft.name, func(b *testing.B) {
				l := openBenchLog(b, benchLogFormat(b, ft.blocks))
				o := defaultOptions()
				for range b.N {
					var elapsed time.Duration
					for range 2 {
						f := fd.new(b)
						start := time.Now()
						if err := foldRange(context.Background(), l, f, 1, l.LastSeq(), &o, new(atomic.Uint64)); err != nil {
							b.Fatal(err)
						}
						elapsed = time.Since(start)
					}
					b.ReportMetric(elapsed.Seconds(), "warm_s")
					b.ReportMetric(float64(elapsed.Nanoseconds())/float64(l.LastSeq()), "ns/event")
					b.ReportMetric(0, "ns/op")
				}
			})
		}
	}
}

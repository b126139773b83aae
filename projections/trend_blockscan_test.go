package projections

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// recordsOnly is a log whose views hide that they keep blocks, so that a
// fold scans them record by record.
type recordsOnly struct{ *eventstore.Log }

func (l recordsOnly) ViewRecords(fn func(eventstore.RecordView) error) error {
	return l.Log.ViewRecords(func(v eventstore.RecordView) error {
		return fn(struct{ eventstore.RecordView }{v})
	})
}

// TestTrendBlockScanEqualsRecordScan checks that the block scan of a trend
// of at most one dimension (trend_blockscan.go) counts what the scan of the
// same log record by record counts: no dimension, severity, category and
// product (more values than a period's row holds), every bucket width,
// with restatement thresholds, v0 complaints, event times in random order
// and at the ends of int64, in parallel parts.
func TestTrendBlockScanEqualsRecordScan(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newGen(7)
	g.custs = 6000
	all := appendRandom(t, l, g, 9000)
	odd := []time.Time{time.Unix(0, math.MaxInt64), time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64-1),
		time.Unix(0, 0), time.Unix(0, -1), time.Date(1969, 12, 31, 23, 59, 59, 0, time.UTC)}
	for i, at := range odd {
		ev := domain.Event{ID: fmt.Sprintf("odd-%d", i), Source: "crm/a", Type: domain.TypeComplaintFiled, Time: at,
			Subject: "C-1", Schema: domain.CurrentSchema,
			Data: domain.Data{CustomerID: "C-1", Category: "billing", Severity: 3}}
		if _, err := l.Append(ev); err != nil {
			t.Fatal(err)
		}
	}
	all = append(all, appendRandom(t, l, g, 3000)...)
	var many []domain.Event
	for i := range 6000 {
		many = append(many, domain.Event{ID: fmt.Sprintf("many-%d", i), Source: "crm/a", Type: domain.TypeComplaintFiled,
			Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Hour), Subject: "C-2", Schema: domain.CurrentSchema,
			Data: domain.Data{CustomerID: "C-2", Category: "outage", Product: fmt.Sprintf("P-%d", i%5000), Severity: 2}})
	}
	if _, err := l.Append(many...); err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	o := defaultOptions()
	o.workers, o.parallelMin = 3, 1
	for _, b := range []domain.Bucket{domain.BucketDay, domain.BucketWeek, domain.BucketMonth, domain.BucketQuarter} {
		// Thresholds for most periods met, around the record times.
		thr := map[int32]int64{}
		for _, s := range all {
			if r.IntN(4) > 0 {
				thr[periodIndex(b, s.ev.Time.UnixNano())] = all[r.IntN(len(all))].rt
			}
		}
		for _, dims := range [][]Dimension{nil, {DimSeverity}, {DimCategory}, {DimProduct}} {
			t.Run(fmt.Sprintf("%s/%v", b, dims), func(t *testing.T) {
				var got [2]map[string]trendCell
				for i, lg := range []Log{l, recordsOnly{l}} {
					f := newTrendFold(dims, b)
					f.thr = thr
					if err := foldRange(context.Background(), lg, f, 1, l.LastSeq(), &o, new(atomic.Uint64)); err != nil {
						t.Fatal(err)
					}
					got[i] = map[string]trendCell{}
					for k, c := range f.cells {
						key := fmt.Sprint(k.b)
						for d := range dims {
							key += "/" + f.tab.Str(k.v[d])
						}
						got[i][key] = *c
					}
				}
				if len(got[0]) == 0 || !reflect.DeepEqual(got[0], got[1]) {
					t.Fatalf("blocks counted %d cells, records %d:\n%v\n%v", len(got[0]), len(got[1]), got[0], got[1])
				}
			})
		}
	}
}

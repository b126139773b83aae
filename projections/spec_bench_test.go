package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/benchenv"
)

var customEvents benchFile

// customBenchLog returns the path of a log of PLAINT_BENCH_EVENTS complaint
// events (default 200k; kept in PLAINT_BENCH_DIR when set) that each carry
// three custom data fields: plan (4 values), nps (0-10) and tags (an array).
func customBenchLog(tb testing.TB) string {
	n := benchenv.Count(tb, "PLAINT_BENCH_EVENTS", 200_000)
	plans := []string{`"gold"`, `"silver"`, `"bronze"`, `"trial"`}
	tags := []string{`["vip"]`, `["eu","new"]`, `[]`, `["churn-risk"]`}
	return customEvents.get(tb, fmt.Sprintf("events-custom-%d.db", n), n, 3, func(r *rand.Rand, i int) (domain.Event, error) {
		cust := fmt.Sprintf("C-%d", r.IntN(200_000))
		ev := domain.Event{ID: benchID(i), Source: "crm/bench", Type: domain.TypeComplaintFiled,
			Time: benchTime(i, n), Subject: cust, Schema: domain.CurrentSchema,
			Data: domain.Data{CustomerID: cust, Category: benchCategories[r.IntN(len(benchCategories))], Severity: uint8(1 + r.IntN(5))}}
		var err error
		ev.AsSent, err = domain.NewAsSent(
			domain.Member{Data: true, Name: "plan", Raw: plans[r.IntN(len(plans))]},
			domain.Member{Data: true, Name: "nps", Raw: fmt.Sprint(r.IntN(11))},
			domain.Member{Data: true, Name: "tags", Raw: tags[r.IntN(len(tags))]})
		return ev, err
	})
}

// BenchmarkSpecByCustomField builds, warm, an analyst's spec over the log of
// customBenchLog grouped by a custom field (plan, with avg:nps), and for
// comparison the same spec grouped by the known category. Each build is a
// full replay (the spec fold decodes every event); the figure is the second
// of two runs, so the log is in the page cache.
func BenchmarkSpecByCustomField(b *testing.B) {
	path := customBenchLog(b)
	l := openBenchLog(b, path)
	for _, c := range []struct{ name, src string }{
		{"custom=plan", "name: by-plan\ngroup_by: [plan]\nmeasures: [count, avg:nps]\n"},
		{"known=category", "name: by-category\ngroup_by: [category]\nmeasures: [count, avg:severity]\n"},
	} {
		b.Run(c.name, func(b *testing.B) {
			sp, err := ParseSpec([]byte(c.src))
			if err != nil {
				b.Fatal(err)
			}
			for range b.N {
				var elapsed time.Duration
				var tab *Table
				for range 2 {
					start := time.Now()
					if tab, err = Replay(context.Background(), l, sp, nil); err != nil {
						b.Fatal(err)
					}
					elapsed = time.Since(start)
				}
				if len(tab.Rows) == 0 {
					b.Fatal("no rows")
				}
				b.ReportMetric(elapsed.Seconds(), "warm_s")
				b.ReportMetric(float64(l.LastSeq())/elapsed.Seconds(), "events/s")
				b.ReportMetric(0, "ns/op")
			}
		})
	}
}

package projections

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/projections/customers"
)

// The customer benchmarks use their own log: PLAINT_BENCH_EVENTS events
// (default 200,000) over PLAINT_BENCH_CUSTOMERS customers (default a tenth
// of the events: 1M for 10M), in PLAINT_BENCH_DIR when set (kept between
// runs).
var custEvents benchFile

// customersBenchLog returns the path of a log of n events of nc customers
// over three years: 35% complaints, 10% resolutions, 35% revenue (70% with a cost), 8%
// acquisitions, 4% renewals (with a reason), 5% defections (half with a
// stated value, a third naming a competitor), 3% referrals; 2% come up to
// 90 days late.
func customersBenchLog(tb testing.TB) string {
	n := benchenv.Count(tb, "PLAINT_BENCH_EVENTS", 200_000)
	nc := benchenv.Count(tb, "PLAINT_BENCH_CUSTOMERS", max(n/10, 1))
	segs := []string{"enterprise", "smb", "consumer", "public"}
	reasons := []string{"price", "service-quality", "relocation", "competitor-offer"}
	return custEvents.get(tb, fmt.Sprintf("customers-%d-%d.db", n, nc), n, 3, func(r *rand.Rand, i int) (domain.Event, error) {
		t := benchLate(r, benchTime(i, n).Truncate(time.Second)).Truncate(time.Second)
		cust := fmt.Sprintf("C-%07d", r.IntN(nc))
		ev := domain.Event{ID: benchID(i), Source: "crm/bench", Time: t,
			Subject: cust, Schema: domain.CurrentSchema, Data: domain.Data{CustomerID: cust}}
		d := &ev.Data
		switch k := r.IntN(100); {
		case k < 35:
			ev.Type = domain.TypeComplaintFiled
			d.Category, d.Channel, d.Severity = benchCategories[r.IntN(len(benchCategories))], "phone", uint8(1+r.IntN(5))
			d.ComplaintID = fmt.Sprintf("K-%d", i)
		case k < 45:
			ev.Type = domain.TypeComplaintResolved
			d.ComplaintID = fmt.Sprintf("K-%d", max(0, i-r.IntN(1000)))
		case k < 80:
			ev.Type = domain.TypeRevenueRecorded
			d.Amount, d.Currency = domain.Money(1000+r.IntN(100000)), "EUR"
			if r.IntN(10) < 7 {
				d.Cost, d.HasCost = d.Amount*domain.Money(40+r.IntN(40))/100, true
			}
		case k < 88:
			ev.Type = domain.TypeCustomerAcquired
			d.Segment = segs[r.IntN(len(segs))]
		case k < 92:
			ev.Type = domain.TypeCustomerRenewed
			d.Reason = reasons[r.IntN(2)]
		case k < 97:
			ev.Type = domain.TypeCustomerDefected
			d.Reason = reasons[r.IntN(len(reasons))]
			if r.IntN(2) == 0 {
				d.Amount, d.Currency = domain.Money(r.IntN(1_000_000)), "EUR"
			}
			if r.IntN(3) == 0 {
				d.Competitor = "rival"
			}
		default:
			ev.Type = domain.TypeReferralMade
			d.ReferredID = fmt.Sprintf("C-%07d", r.IntN(nc))
		}
		return ev, nil
	})
}

// TestHelperBenchCustomers is run as a child process by
// BenchmarkCustomersBuild: it builds the customers state over the log at
// PLAINT_BENCH_LOG three times, then times the review and scorecard queries
// on the last state and prints the figures.
func TestHelperBenchCustomers(t *testing.T) {
	path := os.Getenv("PLAINT_BENCH_LOG")
	if path == "" || os.Getenv("PLAINT_BENCH_KIND") != "customers" {
		return
	}
	l := openBenchLog(t, path)
	o := defaultOptions()
	var f *customersFold
	for i := 0; i < 3; i++ {
		f = newCustomersFold()
		start, cpu := time.Now(), benchenv.CPUTime().Seconds()
		if err := foldRange(context.Background(), l, f, 1, l.LastSeq(), &o, new(atomic.Uint64)); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("build %d events %d seconds %.4f customers %d cpu_seconds %.4f\n", i, l.LastSeq(), time.Since(start).Seconds(),
			f.st.Customers(), benchenv.CPUTime().Seconds()-cpu)
	}
	fmt.Printf("peak_rss_kb %d\n", procStatusKB("VmHWM:"))
	fmt.Printf("anon_rss_kb %d\n", procStatusKB("RssAnon:"))
	names := func(k uint32) string { return "C" }
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	timeIt := func(name string, fn func() error) {
		const reps = 20
		best, total := time.Duration(1<<62), time.Duration(0)
		for range reps {
			s := time.Now()
			if err := fn(); err != nil {
				t.Fatal(err)
			}
			el := time.Since(s)
			best, total = min(best, el), total+el
		}
		fmt.Printf("query %s best_ms %.3f mean_ms %.3f\n", name, best.Seconds()*1000, total.Seconds()*1000/reps)
	}
	var lost int
	timeIt("review_quarter", func() error {
		r, err := f.st.Review(customers.ReviewQuery{Period: "2025-Q3", Now: now, Limit: 100}, names)
		if r != nil {
			lost = r.CustomersTotal
		}
		return err
	})
	timeIt("review_month", func() error {
		_, err := f.st.Review(customers.ReviewQuery{Period: "2025-09", Now: now, Limit: 100}, names)
		return err
	})
	timeIt("scorecard_year_by_segment", func() error {
		_, err := f.st.Scorecard(customers.ScorecardQuery{From: "2025-01", To: "2025-12", BySegment: true, Now: now})
		return err
	})
	s := time.Now()
	if _, err := f.st.Linkage(customers.LinkageQuery{}); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("linkage seconds %.4f\n", time.Since(s).Seconds())
	fmt.Printf("lost_in_quarter %d\n", lost)
	s = time.Now()
	var bytes int64
	f.st.MarkAllDirty()
	_ = f.st.TakeDirty(func(_ uint32, h []byte) error { bytes += int64(len(h)) + 4; return nil })
	fmt.Printf("state_bytes %d take_all_seconds %.4f\n", bytes, time.Since(s).Seconds())
}

// BenchmarkCustomersBuild builds the customers projection (review,
// scorecard, linkage) over the whole customers log in a child process,
// three times (the first cold when running as root), and times the review
// and scorecard queries on the built state. Metrics: warm build seconds,
// peak RSS, query milliseconds.
func BenchmarkCustomersBuild(b *testing.B) {
	path := customersBenchLog(b)
	for i := 0; i < b.N; i++ {
		cold := dropCaches()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchCustomers$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PLAINT_BENCH_LOG="+path, "PLAINT_BENCH_KIND=customers")
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		var secs []float64
		var events float64
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			num := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
			switch {
			case len(f) >= 6 && f[0] == "build":
				events = num(3)
				secs = append(secs, num(5))
				if len(f) >= 10 && len(secs) > 1 {
					b.ReportMetric(num(9), "warm_cpu_s")
				}
			case len(f) == 2 && f[0] == "peak_rss_kb":
				b.ReportMetric(num(1)/1024, "peak_rss_MB")
			case len(f) == 2 && f[0] == "anon_rss_kb":
				b.ReportMetric(num(1)/1024, "heap_rss_MB")
			case len(f) == 6 && f[0] == "query":
				b.ReportMetric(num(3), f[1]+"_ms")
			case len(f) == 3 && f[0] == "linkage":
				b.ReportMetric(num(2), "linkage_s")
			case len(f) == 4 && f[0] == "state_bytes":
				b.ReportMetric(num(1)/(1<<20), "state_MB")
			}
		}
		if len(secs) != 3 {
			b.Fatalf("child said: %s", out)
		}
		warm := min(secs[1], secs[2])
		b.ReportMetric(warm, "warm_s")
		b.ReportMetric(events/warm, "warm_events/s")
		if cold {
			b.ReportMetric(secs[0], "cold_s")
		}
		b.ReportMetric(events, "events")
	}
}

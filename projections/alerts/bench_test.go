package alerts_test

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
)

var (
	benchCats  = []string{"billing", "app-login", "price-increase", "device-fault", "slow-speed", "customer-service", "network-outage", "order-error", "coverage", "technician-no-show", "contract-terms", "cancellation-process", "refund-delay", "roaming-charges", "email-service", "number-porting", "data-privacy", "installation-delay"}
	benchSegs  = []string{"consumer", "smb", "enterprise", "student"}
	benchChans = []string{"phone", "chat", "app", "web", "email"}
)

// backtestLog returns a log of n events over three years (2023-11-01 to
// 2026-10-31) in event-time order: 35% complaints over 18 categories of
// very different sizes, 4 segments and 5 channels, with quiet weekends, a
// yearly cycle and Poisson noise, and three rises (×2.5 for four weeks);
// the rest customer renewals. It is built once into PLAINT_BENCH_DIR (a
// temporary directory when unset).
func backtestLog(b *testing.B, n int) string {
	dir := os.Getenv("PLAINT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, fmt.Sprintf("alerts-backtest-%d.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	l, err := eventstore.Open(tmp, eventstore.WithNoSync(), eventstore.WithInitialMmapSize(4<<30))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(5, 6))
	start := time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)
	const days = 1096
	weights := make([]float64, len(benchCats))
	sum := 0.0
	for i := range weights {
		weights[i] = 1 / float64(i+1)
		sum += weights[i]
	}
	weekday := []float64{1.2, 1.2, 1.15, 1.1, 1.05, 0.7, 0.6}
	rises := map[int][2]int{0: {700, 728}, 6: {900, 928}, 13: {1000, 1028}} // category → days
	perDay := float64(n) / days
	var batch []domain.Event
	uid := func() string {
		var id uuid.UUID
		for i := range id {
			id[i] = byte(r.Uint32())
		}
		return id.String()
	}
	total := 0
	for d := 0; d < days && total < n; d++ {
		day := start.AddDate(0, 0, d)
		shape := weekday[(int(day.Weekday())+6)%7] * (1 + 0.15*math.Sin(2*math.Pi*float64(d)/365.25))
		k := int(perDay*shape + 0.5)
		for i := 0; i < k && total < n; i++ {
			at := day.Add(time.Duration((float64(i) + 0.5) / float64(k) * float64(24*time.Hour))).Truncate(time.Second)
			cust := fmt.Sprintf("C-%07d", r.IntN(1_000_000))
			ev := domain.Event{ID: uid(), Source: "bench/crm", Time: at, Subject: cust, Schema: domain.CurrentSchema, Type: domain.TypeCustomerRenewed,
				Data: domain.Data{CustomerID: cust}}
			if r.Float64() < 0.35 {
				c := 0
				for u := r.Float64() * sum; c < len(weights)-1 && u > weights[c]; c++ {
					u -= weights[c]
				}
				// A rise: some of the day's other complaints go to the rising
				// category, which then has about 2.5 times its usual count.
				for rc, w := range rises {
					if d >= w[0] && d < w[1] && c != rc && r.Float64() < 1.5*weights[rc]/sum {
						c = rc
					}
				}
				ev.Type = domain.TypeComplaintFiled
				ev.Data.Category, ev.Data.Segment, ev.Data.Channel = benchCats[c], benchSegs[r.IntN(len(benchSegs))], benchChans[r.IntN(len(benchChans))]
			}
			batch = append(batch, ev)
			total++
			if len(batch) == 50_000 {
				if _, err := l.Append(batch...); err != nil {
					b.Fatal(err)
				}
				batch = batch[:0]
			}
		}
	}
	if _, err := l.Append(batch...); err != nil {
		b.Fatal(err)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	// The log's key snapshot sits beside it (name + ".keys") and moves with it.
	if err := os.Rename(tmp+".keys", path+".keys"); err != nil && !os.IsNotExist(err) {
		b.Fatal(err)
	}
	return path
}

// BenchmarkBacktest replays a log of PLAINT_BENCH_EVENTS events (default
// 1M; the figure is 10M) over three years through the detector, as
// `plaint alerts backtest` does: an engine in memory, the detector built
// over the whole log, its alert events read.
func BenchmarkBacktest(b *testing.B) {
	n := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 1_000_000)
	path := backtestLog(b, n)
	l, err := eventstore.Open(path, eventstore.WithReadOnly())
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	def, err := alerts.Definition(alerts.Params{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	b.ResetTimer()
	for range b.N {
		start, c0 := time.Now(), benchenv.CPUTime()
		e, err := projections.Open(l, "")
		if err != nil {
			b.Fatal(err)
		}
		evs := ensureAndRead(b, e, def)
		took, c := time.Since(start), benchenv.CPUTime()-c0
		e.Close()
		raised := 0
		for _, ev := range evs {
			if ev.Type == alerts.TypeRaised {
				raised++
			}
		}
		b.ReportMetric(took.Seconds(), "backtest_s")
		b.ReportMetric(c.Seconds(), "cpu_s")
		b.ReportMetric(float64(l.LastSeq())/took.Seconds(), "events/s")
		b.ReportMetric(float64(len(evs)), "alert_events")
		b.ReportMetric(float64(raised), "raised")
		b.ReportMetric(0, "ns/op")
		// The alert events' digest, to tell a change of the detector's
		// output from one of its speed.
		b.Logf("alert events (CloudEvents JSON lines) sha256 %x", sha256.Sum256(lines(b, evs)))
	}
}

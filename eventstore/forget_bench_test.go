package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/internal/testutil"
)

// benchForgotten is the customer BenchmarkForget forgets: one of the
// synthetic 100k, with every 100,000th event of the log made theirs and
// given an e-mail subject and custom fields to rewrite.
const benchForgotten = "C-000042"

// forgetBenchLog returns a log of n synthetic complaints, built once and
// kept in PLAINT_BENCH_DIR (default a temporary directory).
func forgetBenchLog(b *testing.B, n int) string {
	b.Helper()
	dir := os.Getenv("PLAINT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, fmt.Sprintf("forget-%d.db", n))
	if _, err := os.Stat(path); err == nil {
		return path
	}
	t0 := time.Now()
	tmp := path + ".tmp"
	os.Remove(tmp)
	l, err := eventstore.Open(tmp, eventstore.WithNoSync(), eventstore.WithInitialMmapSize(4<<30))
	if err != nil {
		b.Fatal(err)
	}
	g := benchenv.NewComplaints(1)
	extra, err := domain.NewAsSent(domain.Member{Data: true, Name: "nickname", Raw: `"Zorro-77-Secret"`},
		domain.Member{Name: "tenant", Raw: `"acme-tenant-4711"`})
	if err != nil {
		b.Fatal(err)
	}
	const batch = 50_000
	evs := make([]domain.Event, 0, batch)
	for i := range n {
		ev := g.Next()
		if i%100_000 == 99_999 {
			ev.Data.CustomerID, ev.Subject, ev.AsSent = benchForgotten, "jane.doe@example.org", extra
		}
		if evs = append(evs, ev); len(evs) == batch || i == n-1 {
			if _, err := l.Append(evs...); err != nil {
				b.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	b.Logf("built a log of %d events in %s", n, time.Since(t0).Round(time.Second))
	return path
}

// BenchmarkForget forgets one customer of a log of PLAINT_BENCH_EVENTS
// synthetic complaints (default 200k; the figure is 10M) while an
// ingest appends batches of 1,000 events through the group committer with
// fsync, and reports the erasure's time, its longest hold of the write lock
// and the longest an append waited.
func BenchmarkForget(b *testing.B) {
	n := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 200_000)
	src := forgetBenchLog(b, n)
	for range b.N {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "events.db")
		testutil.CopyFile(b, src, path)
		l, err := eventstore.Open(path, eventstore.WithInitialMmapSize(4<<30))
		if err != nil {
			b.Fatal(err)
		}
		// Warm, as a serving log is.
		if _, err := l.Stats(); err != nil {
			b.Fatal(err)
		}
		c := eventstore.NewCommitter(l)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		// The ingest: 20 batches first for its longest wait without an
		// erasure, then on during the erasure.
		var maxWait, baseWait time.Duration
		var forgetting atomic.Bool
		appended := 0
		warm := make(chan struct{})
		g := benchenv.NewComplaints(99)
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				evs := make([]domain.Event, 1000)
				for i := range evs {
					evs[i] = g.Next()
				}
				during := forgetting.Load()
				t := time.Now()
				if _, err := c.AppendBatch(context.Background(), eventstore.Batch{Events: evs}); err != nil {
					b.Error(err)
					return
				}
				if during {
					maxWait = max(maxWait, time.Since(t))
					appended += len(evs)
				} else {
					baseWait = max(baseWait, time.Since(t))
				}
				if i == 19 {
					close(warm)
				}
			}
		})
		<-warm
		forgetting.Store(true)
		b.StartTimer()
		start := time.Now()
		plan, err := l.PlanForget(context.Background(), benchForgotten)
		if err != nil {
			b.Fatal(err)
		}
		planned := time.Since(start)
		rep, err := l.Forget(context.Background(), plan, eventstore.ForgetOptions{RequestedBy: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		took := time.Since(start)
		b.StopTimer()
		cancel()
		wg.Wait()
		c.Close()
		st, _ := l.Stats()
		b.ReportMetric(took.Seconds(), "forget_s")
		b.ReportMetric(planned.Seconds(), "plan_s")
		b.ReportMetric(float64(rep.MaxHold.Microseconds())/1000, "max_lock_hold_ms")
		b.ReportMetric(float64(maxWait.Microseconds())/1000, "max_append_wait_ms")
		b.ReportMetric(float64(baseWait.Microseconds())/1000, "base_max_append_wait_ms")
		b.ReportMetric(float64(plan.Events), "customer_events")
		b.ReportMetric(float64(rep.Rewritten), "rewritten")
		b.ReportMetric(float64(rep.PagesScrubbed), "pages_zeroed")
		b.ReportMetric(float64(appended)/took.Seconds(), "ingest_events/s")
		b.ReportMetric(0, "ns/op")
		b.Logf("%d events (%.0f MB); %+v; rewrite hold %s, commit hold %s, scrub hold %s", st.Events, float64(st.FileBytes)/1e6,
			plan, rep.RewriteHold, rep.CommitHold, rep.ScrubHold)
		l.Close()
	}
}

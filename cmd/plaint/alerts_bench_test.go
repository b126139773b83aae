package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/projections/alerts"
)

// BenchmarkAlertLatency measures the live path of an alert: from the
// publish of the complaint that tips a series over its bound to the alert
// on the PLAINT_ALERTS stream, as a NATS subscriber receives it. A real
// `plaint serve` (embedded NATS) holds twelve weeks of steady complaints in
// PLAINT_BENCH_SERIES categories (default 30); then, category by category,
// complaints of the running week are published one at a time until the
// detector raises an alert, whose latest sample complaint is the one that
// tipped it.
func BenchmarkAlertLatency(b *testing.B) {
	n := benchenv.Count(b, "PLAINT_BENCH_SERIES", 30)
	for range b.N {
		data := b.TempDir()
		srv := startServer(b, data)
		now := time.Now().UTC()
		r := rand.New(rand.NewPCG(1, 2))
		var hist []domain.Event
		events := 0
		start := now.AddDate(0, 0, -84)
		for d := start; d.Before(now); d = d.Add(time.Hour) {
			for c := 0; c < n; c++ {
				if r.Float64() < 4.0/24 { // about four a day
					events++
					ev := latencyEvent(fmt.Sprintf("h-%d", events), c, d.Add(time.Duration(r.Int64N(int64(time.Hour)))))
					if ev.Time.After(now) {
						continue
					}
					hist = append(hist, ev)
				}
			}
		}
		f := filepath.Join(b.TempDir(), "history.jsonl")
		writeJSONL(b, f, hist)
		if code, _, errs := runMainB("emit", "--file", f, "--nats-url", srv.nats); code != 0 {
			b.Fatalf("emit: %s", errs)
		}
		stored := func() uint64 { return srv.statUint("events") }
		waitFor(b, 2*time.Minute, "the history to be stored", func() bool { return stored() == uint64(len(hist)) })

		client, err := plaintnats.Connect(plaintnats.ConnConfig{URL: srv.nats, Name: "latency-bench"})
		if err != nil {
			b.Fatal(err)
		}
		var mu sync.Mutex
		sent := map[string]time.Time{} // complaint id → published
		tipped := make(chan time.Duration, 16)
		stop, err := client.SubscribeAlerts(func(_ string, data []byte) {
			at := time.Now()
			ev, err := alerts.ParseCloudEvent(data)
			if err != nil || ev.Type != alerts.TypeRaised || len(ev.Data.Series) != 1 || len(ev.Data.SampleComplaintIDs) == 0 {
				return
			}
			mu.Lock()
			s, ok := sent[ev.Data.SampleComplaintIDs[len(ev.Data.SampleComplaintIDs)-1]]
			mu.Unlock()
			if ok {
				tipped <- at.Sub(s)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		pub, err := client.NewPublisher(plaintnats.PublisherConfig{Window: 1})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		var lat []time.Duration
		b.ResetTimer()
		for c := 0; c < n; c++ {
		burst:
			for k := 0; k < 200; k++ {
				ev := latencyEvent(fmt.Sprintf("burst-%d-%d", c, k), c, time.Now().UTC().Add(-time.Second))
				mu.Lock()
				sent[ev.ID] = time.Now()
				mu.Unlock()
				if err := pub.PublishEvent(ctx, &ev); err != nil {
					b.Fatal(err)
				}
				// The next complaint goes out once this one had the time to
				// be judged, or at once when it raised the alert.
				select {
				case d := <-tipped:
					lat = append(lat, d)
					break burst
				case <-time.After(100 * time.Millisecond):
				}
			}
		}
		b.StopTimer()
		stop()
		if _, err := pub.Wait(ctx); err != nil {
			b.Fatal(err)
		}
		client.Close()
		srv.term()
		if len(lat) < n/2 {
			b.Fatalf("only %d of %d categories raised an alert", len(lat), n)
		}
		slices.Sort(lat)
		q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.5), "p50_ms")
		b.ReportMetric(q(0.99), "p99_ms")
		b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max_ms")
		b.ReportMetric(float64(len(lat)), "alerts")
		b.ReportMetric(0, "ns/op")
	}
}

// latencyEvent is a complaint of the latency benchmark's category c.
func latencyEvent(id string, c int, at time.Time) domain.Event {
	return domain.Event{ID: id, Source: "bench/crm", Type: domain.TypeComplaintFiled, Time: at.Truncate(time.Millisecond), Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: "C-" + id, Category: fmt.Sprintf("lat-%02d", c)}}
}

// runMainB is runMain for benchmarks.
func runMainB(args ...string) (int, string, string) {
	var out, errb lockedBuffer
	m := &Main{Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), args)
	return code, string(out.bytes()), string(errb.bytes())
}

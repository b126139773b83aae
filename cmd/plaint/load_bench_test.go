package main

import (
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/internal/benchenv"
)

// BenchmarkTrendsUnderLoad is issue 8's load test against a real `plaint
// serve`: 32 clients ask GET /v1/trends?by=category as fast as they can for
// PLAINT_BENCH_SECONDS (default 30), first with no ingest, then while
// `plaint emit --synthetic` publishes a long history through NATS that the
// server ingests. The log is prefilled through NATS with a synthetic history
// of PLAINT_BENCH_CUSTOMERS customers (default 10,000, about 0.2M events).
// It reports the request rate and latencies of both phases, and the ingest
// rate alone (for a third of the phase) and under the query load.
var publishedLine = regexp.MustCompile(`published (\d+) events`)

func BenchmarkTrendsUnderLoad(b *testing.B) {
	secs := benchenv.Count(b, "PLAINT_BENCH_SECONDS", 30)
	customers := benchenv.Count(b, "PLAINT_BENCH_CUSTOMERS", 10_000)
	const clients = 32
	data := b.TempDir()
	natsAddr := freePort(b)
	srv := startServer(b, data, "--nats-listen", natsAddr)
	defer srv.term()
	emit := func(seed, customers int) *exec.Cmd {
		cmd := exec.Command(plaintBin, "emit", "--nats-url", "nats://"+natsAddr, "--synthetic",
			"--customers", fmt.Sprint(customers), "--months", "36", "--seed", fmt.Sprint(seed))
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		return cmd
	}
	out, err := exec.Command(plaintBin, "emit", "--nats-url", "nats://"+natsAddr, "--synthetic",
		"--customers", fmt.Sprint(customers), "--months", "36", "--seed", "1").Output()
	var published uint64
	if m := publishedLine.FindSubmatch(out); err != nil || m == nil {
		b.Fatalf("prefill: %v\n%s", err, out)
	} else {
		published, _ = strconv.ParseUint(string(m[1]), 10, 64)
	}
	waitFor(b, 300*time.Second, "the prefill to be stored", func() bool { return srv.statUint("events") >= published })
	url := srv.http + "/v1/trends?by=category"
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	get := func() error {
		resp, err := client.Get(url)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	}
	if err := get(); err != nil { // builds the projections
		b.Fatal(err)
	}
	load := func(phase string) {
		var (
			mu   sync.Mutex
			lat  []time.Duration
			errs atomic.Int64
			wg   sync.WaitGroup
		)
		start := time.Now()
		deadline := start.Add(time.Duration(secs) * time.Second)
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for time.Now().Before(deadline) {
					t := time.Now()
					if err := get(); err != nil {
						errs.Add(1)
						continue
					}
					mine = append(mine, time.Since(t))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		el := time.Since(start).Seconds()
		if errs.Load() > 0 || len(lat) == 0 {
			b.Fatalf("%s: %d failed requests, %d answered", phase, errs.Load(), len(lat))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
		b.ReportMetric(float64(len(lat))/el, phase+"_req/s")
		b.ReportMetric(ms(lat[len(lat)/2]), phase+"_p50_ms")
		b.ReportMetric(ms(lat[len(lat)*99/100]), phase+"_p99_ms")
		b.ReportMetric(ms(lat[len(lat)-1]), phase+"_max_ms")
	}
	// rate measures the events stored per second while fn runs.
	rate := func(fn func()) float64 {
		before, start := srv.statUint("events"), time.Now()
		fn()
		return float64(srv.statUint("events")-before) / time.Since(start).Seconds()
	}
	for i := 0; i < b.N; i++ {
		load("idle")
		// A history far longer than the phases: stopped when they end.
		pub := emit(2+i, 10*customers)
		// Let the publisher and the ingest get going, then measure.
		from := srv.statUint("events")
		waitFor(b, 120*time.Second, "ingest to start", func() bool { return srv.statUint("events") > from+5000 })
		alone := rate(func() { time.Sleep(time.Duration(secs) * time.Second / 3) }) // a measurement window
		loaded := rate(func() { load("ingest") })
		_ = pub.Process.Kill()
		_ = pub.Wait()
		b.ReportMetric(alone, "ingest_alone_events/s")
		b.ReportMetric(loaded, "ingest_loaded_events/s")
	}
	b.ReportMetric(float64(srv.statUint("events")), "events_at_end")
}

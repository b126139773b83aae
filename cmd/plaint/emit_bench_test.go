package main

import (
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/benchenv"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// BenchmarkEmitSynthetic is issue 14's "emit alone" figure: `plaint emit
// --synthetic` of PLAINT_BENCH_CUSTOMERS customers (default 20,000) over 24
// months (seed 7, ~385k events) into an embedded NATS server with plaint's
// streams and nothing consuming them. The server runs in the benchmark's
// process, so a -cpuprofile shows the publisher and the server side by side.
// It reports the events acknowledged per second, from the start of emit
// (generating the history included) to its last acknowledgement, the CPU
// time (user and system) of the process, publisher and server, per event,
// and checks that the stream holds every event emitted. PLAINT_BENCH_BATCH
// above 0 publishes in fast batches of that many events (emit --batch).
func BenchmarkEmitSynthetic(b *testing.B) {
	customers := benchenv.Count(b, "PLAINT_BENCH_CUSTOMERS", 20_000)
	batch := benchenv.Count(b, "PLAINT_BENCH_BATCH", 0)
	var events, secs float64
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		s := natstest.Server(b)
		natstest.EnsureStreams(b, natstest.Client(b, s.ClientURL()), plaintnats.StreamConfig{})
		_, js := natstest.Connect(b, s.ClientURL())
		b.StartTimer()
		cpu0 := benchenv.CPUTime()
		code, out, errOut := runMainB("emit", "--nats-url", s.ClientURL(), "--synthetic",
			"--customers", fmt.Sprint(customers), "--months", "24", "--seed", "7", "--batch", fmt.Sprint(batch))
		cpu += benchenv.CPUTime() - cpu0
		b.StopTimer()
		if code != 0 {
			b.Fatalf("emit: exit %d\n%s\n%s", code, out, errOut)
		}
		m := emitRateLine.FindStringSubmatch(out)
		if m == nil {
			b.Fatalf("emit printed no rate:\n%s", out)
		}
		n, _ := strconv.ParseFloat(m[1], 64)
		rate, _ := strconv.ParseFloat(m[2], 64)
		if stored := natstest.StreamMsgs(b, js, plaintnats.EventsStream); float64(stored) != n {
			b.Fatalf("emit published %.0f events, the stream holds %d", n, stored)
		}
		events += n
		secs += n / rate
		s.Shutdown()
		b.StartTimer()
	}
	b.ReportMetric(events/secs, "events/s")
	b.ReportMetric(secs*1e9/events, "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/events, "cpu-ns/event")
}

// emitRateLine matches emit's summary: the events acknowledged and their rate.
var emitRateLine = regexp.MustCompile(`published \d+ events: (\d+) acked .* (\d+) events/s in`)

// BenchmarkEmitSyntheticDryRun is the part of BenchmarkEmitSynthetic before
// NATS: generating the same history and checking each event as the server
// will (encode, decode), publishing nothing.
func BenchmarkEmitSyntheticDryRun(b *testing.B) {
	customers := benchenv.Count(b, "PLAINT_BENCH_CUSTOMERS", 20_000)
	var events int
	for range b.N {
		code, out, errOut := runMainB("emit", "--dry-run", "--synthetic",
			"--customers", fmt.Sprint(customers), "--months", "24", "--seed", "7")
		m := dryRunLine.FindStringSubmatch(out)
		if code != 0 || m == nil {
			b.Fatalf("emit --dry-run: exit %d\n%s\n%s", code, out, errOut)
		}
		n, _ := strconv.Atoi(m[1])
		events += n
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

var dryRunLine = regexp.MustCompile(`dry run: (\d+) events would be published`)

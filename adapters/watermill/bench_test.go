package watermill_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// benchEnvInt reads a count from the environment ("1M", "10M", "250k" or a
// plain number), or returns def.
func benchEnvInt(tb testing.TB, name string, def int) int {
	s := strings.TrimSpace(os.Getenv(name))
	if s == "" {
		return def
	}
	mult := 1
	switch {
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1_000_000, s[:len(s)-1]
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1_000, s[:len(s)-1]
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		tb.Fatalf("%s=%q is not a count", name, os.Getenv(name))
	}
	return n * mult
}

// synth makes synthetic complaint.filed events: random UUIDs, 100k customers
// and realistic cardinalities for the dimensions, spread over two years.
type synth struct {
	r     *rand.Rand
	start time.Time
}

var (
	synthSources    = []string{"crm/eu-west", "crm/us-east", "callcenter/berlin", "callcenter/austin", "webform"}
	synthCategories = []string{"billing", "outage", "slow-speed", "installation", "router", "contract", "support-wait",
		"price-increase", "roaming", "porting", "cancellation", "invoice-error", "data-cap", "tv-channels",
		"mobile-coverage", "refund", "technician-no-show", "account-access", "fraud", "privacy"}
	synthSegments   = []string{"consumer", "smb", "enterprise", "public-sector"}
	synthChannels   = []string{"phone", "email", "chat", "shop", "social"}
	synthRootCauses = []string{"process", "product", "people", "network", "partner", "unknown"}
	synthProducts   = []string{"fiber", "dsl", "cable", "mobile", "tv", "bundle-m", "bundle-l", "iot", "voip", "prepaid"}
	synthRegions    = []string{"north", "south", "east", "west", "central", "coast", "mountain", "capital"}
)

func newSynth(seed uint64) *synth {
	return &synth{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), start: time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)}
}

func (s *synth) pick(xs []string) string { return xs[s.r.IntN(len(xs))] }

func (s *synth) event() domain.Event {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(s.r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	cust := fmt.Sprintf("C-%06d", s.r.IntN(100_000))
	return domain.Event{
		ID: id.String(), Source: s.pick(synthSources), Type: domain.TypeComplaintFiled,
		Time:    s.start.Add(time.Duration(s.r.Int64N(int64(730 * 24 * time.Hour)))).Truncate(time.Second),
		Subject: cust, Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: cust, Category: s.pick(synthCategories), Segment: s.pick(synthSegments),
			Channel: s.pick(synthChannels), Severity: uint8(1 + s.r.IntN(5)), RootCause: s.pick(synthRootCauses),
			Product: s.pick(synthProducts), Region: s.pick(synthRegions)},
	}
}

// prefill appends n synthetic events to the log at path in big unsynced
// batches (the prefill only), then syncs it.
func prefill(tb testing.TB, path string, n int) {
	tb.Helper()
	l, err := eventstore.Open(path, eventstore.WithNoSync(), eventstore.WithInitialMmapSize(1<<31))
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	s := newSynth(1)
	const batch = 50_000
	evs := make([]domain.Event, 0, batch)
	for done := 0; done < n; {
		evs = evs[:0]
		for len(evs) < batch && done+len(evs) < n {
			evs = append(evs, s.event())
		}
		if _, err := l.Append(evs...); err != nil {
			tb.Fatal(err)
		}
		done += len(evs)
	}
	if err := l.Sync(); err != nil {
		tb.Fatal(err)
	}
}

// publishBacklog publishes n synthetic events asynchronously, waiting and
// retrying when the server falls behind, and waits for every ack.
func publishBacklog(tb testing.TB, js jetstream.JetStream, n int) {
	tb.Helper()
	s := newSynth(2)
	subject := domain.TypeComplaintFiled.Subject()
	for i := 0; i < n; i++ {
		data := payload(tb, s.event())
		for {
			_, err := js.PublishAsync(subject, data)
			if err == nil {
				break
			}
			if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
				tb.Fatal(err)
			}
			<-js.PublishAsyncComplete()
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(5 * time.Minute):
		tb.Fatal("publish did not complete")
	}
}

// peakRSS returns the process's peak resident set size in MiB (VmHWM).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkDrainBacklog drains a pre-published backlog of synthetic
// complaint events from JetStream through the Watermill ingest into a bbolt
// log that already holds PLAINT_BENCH_PREFILL events, with permanent
// deduplication and an fsync per commit. PLAINT_BENCH_EVENTS sets the
// backlog (default 100k). The figure: PLAINT_BENCH_EVENTS=1M
// PLAINT_BENCH_PREFILL=10M.
func BenchmarkDrainBacklog(b *testing.B) {
	events := benchEnvInt(b, "PLAINT_BENCH_EVENTS", 100_000)
	prefilled := benchEnvInt(b, "PLAINT_BENCH_PREFILL", 0)
	maxInFlight := benchEnvInt(b, "PLAINT_BENCH_INFLIGHT", 0)
	pullBatch := benchEnvInt(b, "PLAINT_BENCH_PULL", 0)
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		path := filepath.Join(dir, "events.db")
		if prefilled > 0 {
			t0 := time.Now()
			prefill(b, path, prefilled)
			b.Logf("prefilled %d events in %s", prefilled, time.Since(t0).Round(time.Millisecond))
		}
		t0 := time.Now()
		l, err := eventstore.Open(path, eventstore.WithInitialMmapSize(1<<31))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("opened the log (dedupe index rebuilt) in %s", time.Since(t0).Round(time.Millisecond))
		var commits atomic.Int64
		com := eventstore.NewCommitter(l, eventstore.WithCommitHook(func(int, int) { commits.Add(1) }))

		srv, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats")})
		if err != nil {
			b.Fatal(err)
		}
		nc, err := plaintnats.Connect(plaintnats.ConnConfig{URL: srv.ClientURL()})
		if err != nil {
			b.Fatal(err)
		}
		js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := plaintnats.EnsureStreams(ctx, js, plaintnats.StreamConfig{}); err != nil {
			b.Fatal(err)
		}
		t0 = time.Now()
		publishBacklog(b, js, events)
		b.Logf("published %d events in %s", events, time.Since(t0).Round(time.Millisecond))
		runtime.GC()

		in, err := plaintwm.New(plaintwm.Config{JetStream: js, Store: com, MaxInFlight: maxInFlight, PullBatch: pullBatch})
		if err != nil {
			b.Fatal(err)
		}
		want := uint64(prefilled + events)
		if p := os.Getenv("PLAINT_BENCH_CPUPROFILE"); p != "" {
			f, err := os.Create(p)
			if err != nil {
				b.Fatal(err)
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			defer pprof.StopCPUProfile()
		}
		b.StartTimer()
		start := time.Now()
		c0 := cpuTime()
		errc := make(chan error, 1)
		go func() { errc <- in.Run(ctx) }()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for l.LastSeq() < want {
			select {
			case <-tick.C:
				if os.Getenv("PLAINT_BENCH_TRACE") != "" {
					b.Logf("%s: %+v commits %d", time.Since(start).Round(time.Millisecond), in.Stats(), commits.Load())
				}
			default:
			}
			select {
			case <-l.Changed():
			case err := <-errc:
				b.Fatalf("Run stopped: %v", err)
			}
		}
		elapsed := time.Since(start)
		cpu := cpuTime() - c0
		b.StopTimer()
		if err := in.Close(); err != nil {
			b.Fatal(err)
		}
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
		st := in.Stats()
		if st.Stored != uint64(events) || st.Duplicates != 0 || st.DeadLettered != 0 || st.Errors != 0 {
			b.Fatalf("stats = %+v", st)
		}
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(events)/float64(commits.Load()), "events/commit")
		b.ReportMetric(peakRSS(), "peakRSS-MiB")
		b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
		b.ReportMetric(0, "ns/op")
		nc.Close()
		srv.Shutdown()
		com.Close()
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

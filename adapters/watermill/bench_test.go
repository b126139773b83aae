package watermill_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmjetstream "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/internal/testutil"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
)

// prefill appends n synthetic events to the log at path in big unsynced
// batches (the prefill only), then syncs it.
func prefill(tb testing.TB, path string, n int) {
	tb.Helper()
	l, err := eventstore.Open(path, eventstore.WithNoSync(), eventstore.WithInitialMmapSize(1<<31))
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	s := benchenv.NewComplaints(1)
	const batch = 50_000
	evs := make([]domain.Event, 0, batch)
	for done := 0; done < n; {
		evs = evs[:0]
		for len(evs) < batch && done+len(evs) < n {
			evs = append(evs, s.Next())
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
	s := benchenv.NewComplaints(2)
	subject := domain.TypeComplaintFiled.Subject()
	for i := 0; i < n; i++ {
		data := payload(tb, s.Next())
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

// procStatus returns a size from /proc/self/status in MiB: "VmHWM" is the
// peak resident set, "RssAnon" the current anonymous (heap, stacks) part,
// "RssFile" the current file-backed part (bbolt's memory map).
func procStatus(field string) float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// TestPrefillHelper is not a test: BenchmarkDrainBacklog runs the test
// binary again with PLAINT_BENCH_PREFILL_OUT set to build the prefilled log
// in another process, so that the prefill's memory does not count in the
// benchmark's peak RSS. Without the variable it does nothing.
func TestPrefillHelper(t *testing.T) {
	out := os.Getenv("PLAINT_BENCH_PREFILL_OUT")
	if out == "" {
		return
	}
	prefill(t, out, benchenv.Count(t, "PLAINT_BENCH_PREFILL", 0))
}

// prefilledLog puts a log holding n synthetic events at path. The log is
// built by a child process, or copied from PLAINT_BENCH_PREFILL_CACHE (a
// directory) when an earlier run left it there.
func prefilledLog(b *testing.B, path string, n int) {
	b.Helper()
	build := func(out string) {
		t0 := time.Now()
		cmd := exec.Command(os.Args[0], "-test.run=^TestPrefillHelper$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PLAINT_BENCH_PREFILL_OUT="+out, fmt.Sprintf("PLAINT_BENCH_PREFILL=%d", n))
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("prefill: %v\n%s", err, msg)
		}
		b.Logf("prefilled %d events in %s", n, time.Since(t0).Round(time.Millisecond))
	}
	cache := os.Getenv("PLAINT_BENCH_PREFILL_CACHE")
	if cache == "" {
		build(path)
		return
	}
	cached := filepath.Join(cache, fmt.Sprintf("prefill-%d.db", n))
	if _, err := os.Stat(cached); err != nil {
		if err := os.MkdirAll(cache, 0o755); err != nil {
			b.Fatal(err)
		}
		build(cached + ".tmp")
		if err := os.Rename(cached+".tmp", cached); err != nil {
			b.Fatal(err)
		}
	}
	testutil.CopyFile(b, cached, path)
}

// backlog is a NATS server whose events stream holds a published backlog,
// and a client on it.
type backlog struct {
	srv    *plaintnats.Server
	client *plaintnats.Client
	js     jetstream.JetStream
}

// consumer returns the durable ingest consumer.
func (bl *backlog) consumer(b *testing.B) jetstream.Consumer {
	b.Helper()
	cons, err := bl.client.IngestConsumer(context.Background(), "")
	if err != nil {
		b.Fatal(err)
	}
	return cons
}

func newBacklog(b *testing.B, dir string, n int) *backlog {
	b.Helper()
	srv, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: filepath.Join(dir, "nats")})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(srv.Shutdown)
	client := natstest.Client(b, srv.ClientURL())
	natstest.EnsureStreams(b, client, plaintnats.StreamConfig{})
	nc, _ := natstest.Connect(b, srv.ClientURL())
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	publishBacklog(b, js, n)
	b.Logf("published %d events in %s", n, time.Since(t0).Round(time.Millisecond))
	return &backlog{srv: srv, client: client, js: js}
}

// BenchmarkDrainBacklog drains a pre-published backlog of synthetic
// complaint events from JetStream through the Watermill ingest into a bbolt
// log that already holds PLAINT_BENCH_PREFILL events, with permanent
// deduplication and an fsync per commit. The clock stops when the last
// event is committed. PLAINT_BENCH_EVENTS sets the backlog (default 100k).
// The figure: PLAINT_BENCH_EVENTS=1M PLAINT_BENCH_PREFILL=10M.
// PLAINT_BENCH_INFLIGHT and PLAINT_BENCH_PULL override MaxInFlight and
// PullBatch, PLAINT_BENCH_BATCH the Batch (1: one Watermill message per
// event); PLAINT_BENCH_CPUPROFILE writes a CPU profile of the drain.
func BenchmarkDrainBacklog(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 100_000)
	prefilled := benchenv.Count(b, "PLAINT_BENCH_PREFILL", 0)
	maxInFlight := benchenv.Count(b, "PLAINT_BENCH_INFLIGHT", 0)
	pullBatch := benchenv.Count(b, "PLAINT_BENCH_PULL", 0)
	batch := benchenv.Count(b, "PLAINT_BENCH_BATCH", 0)
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		path := filepath.Join(dir, "events.db")
		if prefilled > 0 {
			prefilledLog(b, path, prefilled)
		}
		t0 := time.Now()
		l, err := eventstore.Open(path, eventstore.WithInitialMmapSize(1<<31))
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("opened the log with %d events (dedupe index rebuilt) in %s", l.LastSeq(), time.Since(t0).Round(time.Millisecond))
		var commits atomic.Int64
		com := eventstore.NewCommitter(l, eventstore.WithCommitHook(func(int, int) { commits.Add(1) }))
		bl := newBacklog(b, dir, events)
		runtime.GC()

		in, err := plaintwm.New(plaintwm.Config{Consumer: bl.consumer(b), DeadLetter: bl.client.PublishDeadLetter, Flush: bl.client.Flush,
			Store: com, MaxInFlight: maxInFlight, PullBatch: pullBatch, Batch: batch})
		if err != nil {
			b.Fatal(err)
		}
		want := uint64(prefilled + events)
		stopDetector := startDetector(b, l)
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
		start, c0 := time.Now(), benchenv.CPUTime()
		errc := make(chan error, 1)
		go func() { errc <- in.Run(context.Background()) }()
		for l.LastSeq() < want {
			select {
			case <-l.Changed():
			case err := <-errc:
				b.Fatalf("Run stopped: %v", err)
			}
		}
		lag := stopDetector()
		elapsed, cpu := time.Since(start), benchenv.CPUTime()-c0
		b.StopTimer()
		if lag >= 0 {
			b.ReportMetric(lag.Seconds(), "detector-lag-s")
		}
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
		ls, err := l.Stats()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
		b.ReportMetric(float64(events)/float64(commits.Load()), "events/commit")
		b.ReportMetric(ls.BytesPerEvent, "bytes/event")
		var runs int
		_ = l.View(func(s *eventstore.Snapshot) error { runs, _ = s.StreamRuns(); return nil })
		b.ReportMetric(float64(runs)*1000/float64(events), "stream-runs/1k-events")
		b.ReportMetric(procStatus("VmHWM"), "peakRSS-MiB")
		b.ReportMetric(procStatus("RssAnon"), "anonRSS-MiB")
		b.ReportMetric(procStatus("RssFile"), "fileRSS-MiB")
		b.ReportMetric(0, "ns/op")
		com.Close()
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// startDetector, with PLAINT_BENCH_DETECTOR=1, builds the alert detector
// over the prefilled log and keeps it live during the drain, as serve does;
// the returned stop waits until it has folded the whole log and returns
// how long that took after the drain stored its last event (-1 without
// the detector).
func startDetector(b *testing.B, l *eventstore.Log) (stop func() time.Duration) {
	if os.Getenv("PLAINT_BENCH_DETECTOR") != "1" {
		return func() time.Duration { return -1 }
	}
	e, err := projections.Open(l, "")
	if err != nil {
		b.Fatal(err)
	}
	def, err := alerts.Definition(alerts.Params{})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := e.Ensure(alerts.Name, def); err != nil {
		b.Fatal(err)
	}
	if _, err := alerts.Read(context.Background(), e); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return func() time.Duration {
		t0 := time.Now()
		if _, err := alerts.Read(context.Background(), e); err != nil {
			b.Fatal(err)
		}
		lag := time.Since(t0)
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
		e.Close()
		return lag
	}
}

// BenchmarkCeilingRawAck is the floor under BenchmarkDrainBacklog's cost:
// the same backlog read with nats.go's pull iterator and acked one by one,
// without Watermill, decoding or storing.
func BenchmarkCeilingRawAck(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 100_000)
	for range b.N {
		b.StopTimer()
		bl := newBacklog(b, b.TempDir(), events)
		it, err := bl.consumer(b).Messages(jetstream.PullMaxMessages(plaintwm.DefaultPullBatch))
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, c0 := time.Now(), benchenv.CPUTime()
		for range events {
			m, err := it.Next()
			if err != nil {
				b.Fatal(err)
			}
			if err := m.Ack(); err != nil {
				b.Fatal(err)
			}
		}
		elapsed, cpu := time.Since(start), benchenv.CPUTime()-c0
		b.StopTimer()
		it.Stop()
		b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
		b.ReportMetric(0, "ns/op")
	}
}

// BenchmarkCeilingRouterAck is the cost of the Watermill path alone: the
// Subscriber and a Router whose handler returns at once. PLAINT_BENCH_BATCH
// sets the Subscriber's Batch (default 1: one Watermill message per event;
// the ingest's default is DefaultBatch).
func BenchmarkCeilingRouterAck(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 100_000)
	batch := benchenv.Count(b, "PLAINT_BENCH_BATCH", 1)
	for range b.N {
		b.StopTimer()
		bl := newBacklog(b, b.TempDir(), events)
		cons := bl.consumer(b)
		sub, err := plaintwm.NewSubscriber(plaintwm.SubscriberConfig{
			Consumer: func(context.Context, string) (jetstream.Consumer, error) { return cons, nil }, Batch: batch})
		if err != nil {
			b.Fatal(err)
		}
		routerCeiling(b, sub, events, nil)
	}
}

// BenchmarkCeilingStockRouterAck is BenchmarkCeilingRouterAck with the
// stock watermill-nats JetStream subscriber (v2 pkg/jetstream) on the same
// consumer and backlog: what the Subscriber's in-flight window is measured
// against. PLAINT_BENCH_ACK_ASYNC=1 sets its AckAsync (default: its default,
// a synchronous double ack).
func BenchmarkCeilingStockRouterAck(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 20_000)
	ackAsync := os.Getenv("PLAINT_BENCH_ACK_ASYNC") == "1"
	for range b.N {
		b.StopTimer()
		bl := newBacklog(b, b.TempDir(), events)
		routerCeiling(b, stockSubscriber(b, bl, ackAsync), events, nil)
	}
}

// BenchmarkDrainStock drains the backlog as BenchmarkDrainBacklog does
// (decode, append through the group committer into a fresh log, fsync per
// commit), but through the stock watermill-nats JetStream subscriber with
// AckAsync, whose one message in flight per subscription leaves the
// committer one event per fsync. Default backlog 5,000.
func BenchmarkDrainStock(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 5_000)
	for range b.N {
		b.StopTimer()
		dir := b.TempDir()
		l, err := eventstore.Open(filepath.Join(dir, "events.db"))
		if err != nil {
			b.Fatal(err)
		}
		com := eventstore.NewCommitter(l)
		bl := newBacklog(b, dir, events)
		var dec domain.Decoder
		routerCeiling(b, stockSubscriber(b, bl, true), events, func(msg *message.Message) error {
			ev, err := dec.Decode(domain.TypeComplaintFiled.Subject(), msg.Payload) // the backlog's one subject: the stock message does not carry it
			if err != nil {
				return err
			}
			_, err = com.Append(msg.Context(), ev)
			return err
		})
		com.Close()
		if l.LastSeq() != uint64(events) {
			b.Fatalf("stored %d of %d", l.LastSeq(), events)
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// stockSubscriber returns watermill-nats' JetStream subscriber on the
// backlog's ingest consumer.
func stockSubscriber(b *testing.B, bl *backlog, ackAsync bool) message.Subscriber {
	b.Helper()
	cons := bl.consumer(b)
	sub, err := wmjetstream.NewSubscriber(wmjetstream.SubscriberConfig{
		URL: bl.srv.ClientURL(), Logger: wm.NopLogger{}, AckAsync: ackAsync,
		ResourceInitializer: func(context.Context, jetstream.JetStream, string) (jetstream.Consumer, func(context.Context, wm.LoggerAdapter), error) {
			return cons, func(context.Context, wm.LoggerAdapter) {}, nil
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	return sub
}

// routerCeiling runs a Router over sub until events JetStream messages were
// handled, and reports the rate and CPU per event. Its handler calls work
// (when not nil) and otherwise returns at once. The timer is stopped on
// entry and on return.
func routerCeiling(b *testing.B, sub message.Subscriber, events int, work func(*message.Message) error) {
	b.Helper()
	r, err := message.NewRouter(message.RouterConfig{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	var got atomic.Int64
	done := make(chan struct{})
	r.AddConsumerHandler("ack", plaintnats.DefaultConsumer, sub, func(msg *message.Message) error {
		if work != nil {
			if err := work(msg); err != nil {
				return err
			}
		}
		n := int64(1)
		if g, err := plaintwm.ReadGroup(msg); err == nil {
			n = int64(g.Len())
		}
		if got.Add(n) == int64(events) {
			close(done)
		}
		return nil
	})
	b.StartTimer()
	start, c0 := time.Now(), benchenv.CPUTime()
	errc := make(chan error, 1)
	go func() { errc <- r.Run(context.Background()) }()
	<-done
	elapsed, cpu := time.Since(start), benchenv.CPUTime()-c0
	b.StopTimer()
	if err := r.Close(); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(events)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(cpu.Microseconds())/float64(events), "cpu-µs/event")
	b.ReportMetric(0, "ns/op")
}

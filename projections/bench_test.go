package projections

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
)

// The benchmarks build their log once per process: PLAINT_BENCH_EVENTS
// events (default 200,000) in PLAINT_BENCH_DIR (default a temporary
// directory; set it to keep the log between runs).
var benchEvents benchFile

var benchCategories = []string{"billing", "delivery", "outage", "technical", "service", "account", "contract", "pricing",
	"installation", "cancellation", "refund", "fraud", "coverage", "roaming", "equipment", "porting", "privacy", "app", "website", "other"}

// benchLog returns the path of a log of PLAINT_BENCH_EVENTS (default 200k) events: 92% complaints,
// acquisitions and defections, event times over three years with 2% late.
func benchLog(tb testing.TB) string { return benchLogFormat(tb, benchBlocks()) }

// benchEventsF2 and benchEventsF3 are the logs of benchLogFormat.
var benchEventsF2, benchEventsF3 benchFile

// benchLogFormat is benchLog in blocks (blocks) or in format 2, for
// benchmarks that compare the two in one run.
func benchLogFormat(tb testing.TB, blocks bool) string {
	f := &benchEventsF2
	if blocks {
		f = &benchEventsF3
	}
	if blocks == benchBlocks() {
		f = &benchEvents
	}
	n := benchenv.Count(tb, "PLAINT_BENCH_EVENTS", 200_000)
	segs := []string{"enterprise", "smb", "consumer", "public"}
	chans := []string{"phone", "email", "chat", "store", "social"}
	return f.getFormat(tb, fmt.Sprintf("events-%d.db", n), blocks, n, 1, func(r *rand.Rand, i int) (domain.Event, error) {
		t := benchLate(r, benchTime(i, n))
		cust := fmt.Sprintf("C-%d", r.IntN(200_000))
		ev := domain.Event{ID: benchID(i), Source: "crm/bench", Time: t,
			Subject: cust, Schema: domain.CurrentSchema}
		switch k := r.IntN(100); {
		case k < 92:
			ev.Type = domain.TypeComplaintFiled
			ev.Data = domain.Data{CustomerID: cust, Category: benchCategories[r.IntN(len(benchCategories))],
				Segment: segs[r.IntN(len(segs))], Channel: chans[r.IntN(len(chans))], Severity: uint8(1 + r.IntN(5))}
		case k < 97:
			ev.Type = domain.TypeCustomerAcquired
			ev.Data = domain.Data{CustomerID: cust, Segment: segs[r.IntN(len(segs))]}
		default:
			ev.Type = domain.TypeCustomerDefected
			ev.Data = domain.Data{CustomerID: cust, Reason: "price"}
		}
		return ev, nil
	})
}

// TestMain removes the benchmark log when it was made in a temporary
// directory.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchTmp.dir != "" {
		os.RemoveAll(benchTmp.dir)
	}
	os.Exit(code)
}

// TestHelperBenchBuild is run as a child process by BenchmarkBuildMonthCategory,
// so that its peak RSS is the build's alone. It builds the month × category
// trend over the log at PLAINT_BENCH_LOG three times and prints the times.
func TestHelperBenchBuild(t *testing.T) {
	path := os.Getenv("PLAINT_BENCH_LOG")
	if path == "" {
		return
	}
	l := openBenchLog(t, path)
	o := defaultOptions()
	for i := 0; i < 3; i++ {
		f := newTrendFold([]Dimension{DimCategory}, domain.BucketMonth)
		start := time.Now()
		if err := foldRange(context.Background(), l, f, 1, l.LastSeq(), &o, new(atomic.Uint64)); err != nil {
			t.Fatal(err)
		}
		el := time.Since(start)
		fmt.Printf("build %d events %d seconds %.4f cells %d\n", i, l.LastSeq(), el.Seconds(), len(f.cells))
	}
	fmt.Printf("peak_rss_kb %d\n", procStatusKB("VmHWM:"))
	fmt.Printf("anon_rss_kb %d\n", procStatusKB("RssAnon:"))
}

// TestHelperBenchExport writes the log at PLAINT_BENCH_LOG as CSV (event
// time, category) to PLAINT_BENCH_EXPORT, for scripts/peers.sh.
func TestHelperBenchExport(t *testing.T) {
	out := os.Getenv("PLAINT_BENCH_EXPORT")
	if out == "" {
		return
	}
	path := benchLog(t)
	fmt.Println("log", path)
	l := openBenchLog(t, path)
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var buf []byte
	err = l.ViewRecords(func(s Snapshot) error {
		return s.Scan(1, 0, func(seq uint64, r eventstore.Record) error {
			if r.Type() != domain.TypeComplaintFiled {
				return nil
			}
			buf = time.Unix(0, r.EventTime()).UTC().AppendFormat(buf[:0], "2006-01-02 15:04:05")
			buf = append(buf, ',')
			buf = append(buf, s.String(r.Dim(eventstore.FieldCategory))...)
			buf = append(buf, '\n')
			_, err := w.Write(buf)
			return err
		})
	})
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
}

// procStatusKB returns a kB figure of /proc/self/status, such as VmHWM (peak
// RSS) or RssAnon (heap and stacks, without mapped files).
func procStatusKB(field string) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

// dropCaches asks the kernel to drop the page cache (root only); it reports
// whether it could.
func dropCaches() bool {
	if err := exec.Command("sync").Run(); err != nil {
		return false
	}
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200) == nil
}

// BenchmarkBuildMonthCategory builds a new month × category trend over the
// whole log in a child process: first with the page cache dropped (cold, when
// running as root), then twice warm. Metrics: warm and cold events/s, and
// the child's peak RSS.
func BenchmarkBuildMonthCategory(b *testing.B) {
	path := benchLog(b)
	for i := 0; i < b.N; i++ {
		cold := dropCaches()
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperBenchBuild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PLAINT_BENCH_LOG="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%v: %s", err, out)
		}
		var secs []float64
		var events, rss, anon int64
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 6 && f[0] == "build":
				events, _ = strconv.ParseInt(f[3], 10, 64)
				s, _ := strconv.ParseFloat(f[5], 64)
				secs = append(secs, s)
			case len(f) == 2 && f[0] == "peak_rss_kb":
				rss, _ = strconv.ParseInt(f[1], 10, 64)
			case len(f) == 2 && f[0] == "anon_rss_kb":
				anon, _ = strconv.ParseInt(f[1], 10, 64)
			}
		}
		if len(secs) != 3 {
			b.Fatalf("child said: %s", out)
		}
		warm := min(secs[1], secs[2])
		b.ReportMetric(float64(events)/warm, "warm_events/s")
		b.ReportMetric(warm, "warm_s")
		if cold {
			b.ReportMetric(float64(events)/secs[0], "cold_events/s")
			b.ReportMetric(secs[0], "cold_s")
		}
		b.ReportMetric(float64(rss)/1024, "peak_rss_MB")
		b.ReportMetric(float64(anon)/1024, "heap_rss_MB")
		b.ReportMetric(float64(events), "events")
	}
}

// BenchmarkTrendsHTTPWarm measures GET /v1/trends?by=category against a
// caught-up projection, through a real HTTP round trip (the handler is the
// projection engine behind a minimal mux mirroring adapters/http, which
// parses the URL into the query asked here).
func BenchmarkTrendsHTTPWarm(b *testing.B) {
	path := benchLog(b)
	l := openBenchLog(b, path)
	e, err := Open(l, "")
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/trends", func(w http.ResponseWriter, r *http.Request) {
		res, err := e.Trends(r.Context(), TrendQuery{By: []Dimension{DimCategory}})
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		b, err := res.Render(FormatJSON)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	u := ts.URL + "/v1/trends?" + url.Values{"by": {"category"}}.Encode()
	get := func() {
		resp, err := http.Get(u)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	get() // builds the projection
	for i := 0; i < 50; i++ {
		get()
	}
	const n = 2000
	for i := 0; i < b.N; i++ {
		lat := make([]time.Duration, n)
		for j := range lat {
			s := time.Now()
			get()
			lat[j] = time.Since(s)
		}
		sort.Slice(lat, func(a, c int) bool { return lat[a] < lat[c] })
		b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50_ms")
		b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99_ms")
		b.ReportMetric(float64(lat[n-1].Microseconds())/1000, "max_ms")
	}
	b.ReportMetric(float64(runtime.GOMAXPROCS(0)), "procs")
}

// BenchmarkTrendRebuildAfterEviction measures what an evicted ad-hoc trend
// costs when it is asked for again: the first question builds the trend,
// the customer base and the first-seen index; the trend is then evicted,
// and the next question rebuilds it alone (with restatement thresholds)
// through the engine. Metrics: first_s, rebuild_s.
func BenchmarkTrendRebuildAfterEviction(b *testing.B) {
	path := benchLog(b)
	l := openBenchLog(b, path)
	e, err := Open(l, "", WithTrendCache(time.Nanosecond, 0), WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	q := TrendQuery{By: []Dimension{DimCategory}}
	start := time.Now()
	if _, err := e.Trends(ctx, q); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(time.Since(start).Seconds(), "first_s")
	var total time.Duration
	for i := 0; i < b.N; i++ {
		if ev := e.evictTrends(time.Now().Add(time.Hour)); len(ev) != 1 {
			b.Fatalf("evicted %v", ev)
		}
		start := time.Now()
		if _, err := e.Trends(ctx, q); err != nil {
			b.Fatal(err)
		}
		total += time.Since(start)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "rebuild_s")
	b.ReportMetric(float64(l.LastSeq()), "events")
}

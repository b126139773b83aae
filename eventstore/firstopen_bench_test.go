package eventstore_test

import (
	"fmt"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
)

// BenchmarkFirstOpen measures the first open of a fresh process after a
// clean stop, the open `plaint serve` does: each iteration runs the test
// binary again (TestHelperFirstOpen), which opens the log once, writable,
// and says when Open returned (reads may start) and when Checked did (the
// page check is done and appends go ahead: where serve says it is ready).
// The process start is not counted. The log is cleanStopLog's
// (PLAINT_BENCH_OPEN_LOG, or a new one). PLAINT_BENCH_COLD=1 drops the page
// cache before each open (it needs root) and fails when it cannot;
// PLAINT_BENCH_OPEN_PROFILE=file writes the CPU profile of the last open
// (Open and Checked).
func BenchmarkFirstOpen(b *testing.B) {
	path := cleanStopLog(b, 200_000)
	cold := os.Getenv("PLAINT_BENCH_COLD") == "1"
	var open, checked, cpu float64
	for range b.N {
		if cold {
			syscall.Sync()
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0o200); err != nil {
				b.Fatalf("drop the page cache: %v", err)
			}
		}
		o, c, u := firstOpenChild(b, path)
		b.Logf("open %.4f s, checked %.4f s, cpu %.3f s (cold %v)", o, c, u, cold)
		open, checked, cpu = open+o, checked+c, cpu+u
	}
	b.ReportMetric(open/float64(b.N), "open_s")
	b.ReportMetric(checked/float64(b.N), "checked_s")
	b.ReportMetric(cpu/float64(b.N), "cpu_s")
	b.ReportMetric(0, "ns/op")
}

// firstOpenChild runs TestHelperFirstOpen in a fresh process on the log at
// path and returns the seconds it reports: until Open returned, until
// Checked did, and the CPU of both.
func firstOpenChild(tb testing.TB, path string) (open, checked, cpu float64) {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFirstOpen$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "PLAINT_FIRST_OPEN_LOG="+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%v: %s", err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) == 6 && f[0] == "first_open" {
			open, _ = strconv.ParseFloat(f[1], 64)
			checked, _ = strconv.ParseFloat(f[3], 64)
			cpu, _ = strconv.ParseFloat(f[5], 64)
			n++
		}
	}
	if n != 1 {
		tb.Fatalf("the child said: %s", out)
	}
	return open, checked, cpu
}

// TestHelperFirstOpen is BenchmarkFirstOpen's child: it opens the log
// PLAINT_FIRST_OPEN_LOG names and prints "first_open <Open s> checked
// <Checked s> cpu <CPU s of both>". Run by go test without the variable, it
// checks that protocol itself: a child on a small log after a clean stop
// reports one line, with Checked no earlier than Open.
func TestHelperFirstOpen(t *testing.T) {
	path := os.Getenv("PLAINT_FIRST_OPEN_LOG")
	if path == "" {
		open, checked, cpu := firstOpenChild(t, cleanStopLog(t, 5_000))
		if open <= 0 || checked < open || cpu < 0 {
			t.Fatalf("the child reported open %.4f s, checked %.4f s, cpu %.3f s", open, checked, cpu)
		}
		return
	}
	stopProfile := func() {}
	if prof := os.Getenv("PLAINT_BENCH_OPEN_PROFILE"); prof != "" {
		f, err := os.Create(prof)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			t.Fatal(err)
		}
		stopProfile = pprof.StopCPUProfile
	}
	cpu0 := benchenv.CPUTime()
	start := time.Now()
	l, err := eventstore.Open(path, eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	open := time.Since(start)
	if err := l.Checked(); err != nil {
		t.Fatal(err)
	}
	checked := time.Since(start)
	cpu := benchenv.CPUTime() - cpu0
	stopProfile()
	fmt.Printf("first_open %.4f checked %.4f cpu %.3f\n", open.Seconds(), checked.Seconds(), cpu.Seconds())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

// Package benchenv reads the sizes benchmarks take from the environment, so
// that `make bench` runs small by default and the figures in BENCHMARKS.md
// can be reproduced at full size (PLAINT_BENCH_EVENTS=10M and the like).
package benchenv

import (
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Count reads a count from the environment variable name ("1M", "250k" or a
// plain number), or returns def when it is not set. A malformed value fails
// the benchmark.
func Count(tb testing.TB, name string, def int) int {
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
		tb.Fatalf("%s=%q is not a count (use 1M, 250k or a number)", name, os.Getenv(name))
	}
	return n * mult
}

// CPUTime returns the CPU time (user and system) the process used so far,
// or 0 when the system does not say: on a shared machine, CPU per event is
// steadier than a rate.
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

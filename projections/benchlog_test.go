package projections

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// benchFile is a generated benchmark log, made once per process in
// PLAINT_BENCH_DIR (and kept there between runs) or, when that is not set,
// in a temporary directory TestMain removes.
type benchFile struct {
	once sync.Once
	path string
	err  error
}

// benchStart and benchSpan are the three years the events of the
// benchmark logs spread over.
var benchStart = time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC)

const benchSpan = int64(3 * 365 * 24 * time.Hour)

// benchTime is the time of the i-th of n events spread evenly over
// benchSpan from benchStart.
func benchTime(i, n int) time.Time {
	return benchStart.Add(time.Duration(benchSpan / int64(n) * int64(i)))
}

// benchLate returns t, or for one event in 50 (drawn from r) a time up to
// 90 days before it: an event that comes late.
func benchLate(r *rand.Rand, t time.Time) time.Time {
	if r.IntN(50) == 0 {
		return t.Add(-time.Duration(r.Int64N(int64(90 * 24 * time.Hour))))
	}
	return t
}

// benchID is the id of the i-th event of a benchmark log, a canonical UUID.
func benchID(i int) string { return fmt.Sprintf("%08x-0000-4000-8000-%012x", i>>16, i) }

// benchTmp is the temporary directory of the benchmark logs ("" until one
// is made there).
var benchTmp struct {
	sync.Mutex
	dir string
}

// benchLogDir returns PLAINT_BENCH_DIR, or the temporary directory.
func benchLogDir() (string, error) {
	if dir := os.Getenv("PLAINT_BENCH_DIR"); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("bench dir: %w", err)
		}
		return dir, nil
	}
	benchTmp.Lock()
	defer benchTmp.Unlock()
	if benchTmp.dir == "" {
		dir, err := os.MkdirTemp("", "plaint-bench-")
		if err != nil {
			return "", err
		}
		benchTmp.dir = dir
	}
	return benchTmp.dir, nil
}

// benchBlocks says whether the benchmark logs are written in blocks (record
// format 3, the default log): PLAINT_BENCH_BLOCKS=0 writes them in format 2
// (one value an event), as plaint did before blocks, for comparison.
func benchBlocks() bool { return os.Getenv("PLAINT_BENCH_BLOCKS") != "0" }

// get returns the path of the log called name (name-f2 in format 2, see
// benchBlocks), writing it first when it is missing: n events, event(r, i)
// the i-th, r seeded with seed.
func (f *benchFile) get(tb testing.TB, name string, n int, seed uint64, event func(r *rand.Rand, i int) (domain.Event, error)) string {
	return f.getFormat(tb, name, benchBlocks(), n, seed, event)
}

// getFormat is get for a log in blocks (blocks) or in format 2, whatever
// PLAINT_BENCH_BLOCKS says.
func (f *benchFile) getFormat(tb testing.TB, name string, blocks bool, n int, seed uint64, event func(r *rand.Rand, i int) (domain.Event, error)) string {
	if !blocks {
		name = strings.TrimSuffix(name, ".db") + "-f2.db"
	}
	f.once.Do(func() {
		dir, err := benchLogDir()
		if err != nil {
			f.err = err
			return
		}
		f.path = filepath.Join(dir, name)
		if _, err := os.Stat(f.path); err == nil {
			return
		}
		f.err = writeBenchLog(f.path, blocks, n, seed, event)
	})
	if f.err != nil {
		tb.Fatal(f.err)
	}
	return f.path
}

// writeBenchLog writes the log at path (through a temporary file renamed
// once complete), in blocks or in format 2, appending its events in batches
// of 50,000.
func writeBenchLog(path string, blocks bool, n int, seed uint64, event func(r *rand.Rand, i int) (domain.Event, error)) error {
	tmp := path + ".tmp"
	os.Remove(tmp)
	l, err := eventstore.Open(tmp, eventstore.WithNoSync(), eventstore.WithInitialMmapSize(4<<30),
		eventstore.WithBlocks(blocks))
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(seed, seed+1))
	const batch = 50_000
	evs := make([]domain.Event, 0, batch)
	for i := range n {
		ev, err := event(r, i)
		if err != nil {
			l.Close()
			return err
		}
		if evs = append(evs, ev); len(evs) == batch || i == n-1 {
			if _, err := l.Append(evs...); err != nil {
				l.Close()
				return err
			}
			evs = evs[:0]
		}
	}
	if err := l.Sync(); err != nil {
		l.Close()
		return err
	}
	if err := l.Close(); err != nil {
		return err
	}
	// The log's key snapshot sits beside it (name + ".keys") and moves with it.
	if err := os.Rename(tmp+".keys", path+".keys"); err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.Rename(tmp, path)
}

// openBenchLog opens the benchmark log at path read-only, closed when tb
// is done.
func openBenchLog(tb testing.TB, path string) *eventstore.Log {
	tb.Helper()
	l, err := eventstore.Open(path, eventstore.WithReadOnly(), eventstore.WithInitialMmapSize(4<<30))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	return l
}

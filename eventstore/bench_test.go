package eventstore_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
	"github.com/plaint/plaint/internal/testutil"
)

// benchEvents returns n synthetic complaint.filed events (see
// benchenv.Complaints).
func benchEvents(seed uint64, n int) []domain.Event {
	g := benchenv.NewComplaints(seed)
	out := make([]domain.Event, n)
	for i := range out {
		out[i] = g.Next()
	}
	return out
}

// BenchmarkAppend measures appends of synthetic complaint events with an
// fsync per transaction, by batch size, and the bytes each stored event
// takes in the file. PLAINT_BENCH_APPEND sets the events per case
// (default 200k; the batch-1 case appends at most 5,000).
func BenchmarkAppend(b *testing.B) {
	total := benchenv.Count(b, "PLAINT_BENCH_APPEND", 200_000)
	for _, batch := range []int{1, 100, 1000, 8192} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			n := total
			if batch == 1 {
				n = min(n, 5000)
			}
			evs := benchEvents(uint64(batch), n)
			for range b.N {
				b.StopTimer()
				l, err := eventstore.Open(filepath.Join(b.TempDir(), "events.db"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				for i := 0; i < n; i += batch {
					if _, err := l.Append(evs[i:min(i+batch, n)]...); err != nil {
						b.Fatal(err)
					}
				}
				elapsed := time.Since(start)
				b.StopTimer()
				st, err := l.Stats()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
				b.ReportMetric(st.BytesPerEvent, "bytes/event")
				b.ReportMetric(0, "ns/op")
				l.Close()
			}
		})
	}
}

// BenchmarkCommitter measures the group committer fed by many goroutines,
// each appending one event at a time, as the ingest does.
func BenchmarkCommitter(b *testing.B) {
	total := benchenv.Count(b, "PLAINT_BENCH_APPEND", 200_000)
	for _, writers := range []int{64, 1024, 8192} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			evs := benchEvents(uint64(writers), total)
			for range b.N {
				b.StopTimer()
				l, err := eventstore.Open(filepath.Join(b.TempDir(), "events.db"))
				if err != nil {
					b.Fatal(err)
				}
				var commits int
				c := eventstore.NewCommitter(l, eventstore.WithCommitHook(func(int, int) { commits++ }))
				b.StartTimer()
				start := time.Now()
				var wg sync.WaitGroup
				for w := range writers {
					wg.Go(func() {
						for i := w; i < total; i += writers {
							if _, err := c.Append(context.Background(), evs[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
				elapsed := time.Since(start)
				b.StopTimer()
				c.Close()
				b.ReportMetric(float64(total)/elapsed.Seconds(), "events/s")
				b.ReportMetric(float64(total)/float64(commits), "events/commit")
				b.ReportMetric(0, "ns/op")
				l.Close()
			}
		})
	}
}

// BenchmarkBytesPerEvent measures the file bytes per stored complaint event
// in the default log (blocks, record format 3)
// without extra fields (extra=0, the typical event: nothing beyond the fixed
// record) and with three extra data fields (extra=3: a plan string, an nps
// number and a tags array, kept as as-sent members). Events are appended in
// batches of 50,000 without fsync. PLAINT_BENCH_EVENTS sets the events per
// case (default 200k; BENCHMARKS.md quotes 10M).
func BenchmarkBytesPerEvent(b *testing.B) { bytesPerEvent(b) }

// BenchmarkBytesPerEventFormat2 is BenchmarkBytesPerEvent on a log that
// writes one value an event (record format 2, WithBlocks(false)), as plaint
// did before blocks.
func BenchmarkBytesPerEventFormat2(b *testing.B) { bytesPerEvent(b, eventstore.WithBlocks(false)) }

// bytesPerEvent runs BenchmarkBytesPerEvent on logs opened with opts.
func bytesPerEvent(b *testing.B, opts ...eventstore.Option) {
	total := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 200_000)
	plans := []string{`"gold"`, `"silver"`, `"bronze"`, `"trial"`}
	tags := []string{`["vip"]`, `["eu","new"]`, `[]`, `["churn-risk"]`}
	for _, extra := range []int{0, 3} {
		b.Run(fmt.Sprintf("extra=%d", extra), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				l, err := eventstore.Open(filepath.Join(b.TempDir(), "events.db"), append(opts, eventstore.WithNoSync())...)
				if err != nil {
					b.Fatal(err)
				}
				g := benchenv.NewComplaints(uint64(extra) + 1)
				batch := make([]domain.Event, 0, 50_000)
				flush := func() {
					if _, err := l.Append(batch...); err != nil {
						b.Fatal(err)
					}
					batch = batch[:0]
				}
				b.StartTimer()
				for i := range total {
					ev := g.Next()
					if extra > 0 {
						ev.AsSent, err = domain.NewAsSent(
							domain.Member{Data: true, Name: "plan", Raw: plans[i%len(plans)]},
							domain.Member{Data: true, Name: "nps", Raw: fmt.Sprint(i % 11)},
							domain.Member{Data: true, Name: "tags", Raw: tags[i%len(tags)]})
						if err != nil {
							b.Fatal(err)
						}
					}
					if batch = append(batch, ev); len(batch) == cap(batch) {
						flush()
					}
				}
				if len(batch) > 0 {
					flush()
				}
				b.StopTimer()
				st, err := l.Stats()
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(st.BytesPerEvent, "bytes/event")
				b.ReportMetric(0, "ns/op")
				l.Close()
			}
		})
	}
}

// BenchmarkOpenAfterCleanStop measures a writable open of a log after a
// clean stop (the dedupe key snapshot beside it): the time until Open
// returns (the log reads and the ingest may start) and until the page check
// running in the background has finished (writes wait for it), warm. Its
// opens are the later ones of one process (after cleanStopLog's);
// BenchmarkFirstOpen measures the first open of a process, the one serve does.
func BenchmarkOpenAfterCleanStop(b *testing.B) {
	path := cleanStopLog(b, 200_000)
	var open, checked time.Duration
	for range b.N {
		start := time.Now()
		l, err := eventstore.Open(path, eventstore.WithNoSync())
		if err != nil {
			b.Fatal(err)
		}
		open += time.Since(start)
		if err := l.Checked(); err != nil {
			b.Fatal(err)
		}
		checked += time.Since(start)
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(open.Seconds()/float64(b.N), "open_s")
	b.ReportMetric(checked.Seconds()/float64(b.N), "checked_s")
	b.ReportMetric(0, "ns/op")
}

// cleanStopLog returns the path of a log after a clean stop, in b's
// temporary directory: a copy of the log PLAINT_BENCH_OPEN_LOG names, with
// its key snapshot when it has one (BENCHMARKS.md uses the 10M-event log of
// the projections benchmark), or else a new log of PLAINT_BENCH_EVENTS
// (default events) events. It is opened and closed once, so that it has a
// key snapshot of its own whatever was copied.
func cleanStopLog(b testing.TB, events int) string {
	b.Helper()
	path := filepath.Join(b.TempDir(), "events.db")
	if src := os.Getenv("PLAINT_BENCH_OPEN_LOG"); src != "" {
		testutil.CopyFile(b, src, path)
		if _, err := os.Stat(src + ".keys"); err == nil {
			testutil.CopyFile(b, src+".keys", path+".keys")
		}
	} else {
		l, err := eventstore.Open(path, eventstore.WithNoSync())
		if err != nil {
			b.Fatal(err)
		}
		evs := benchEvents(7, benchenv.Count(b, "PLAINT_BENCH_EVENTS", events))
		for i := 0; i < len(evs); i += 50_000 {
			if _, err := l.Append(evs[i:min(i+50_000, len(evs))]...); err != nil {
				b.Fatal(err)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
	}
	// The first open of a copy may rebuild the key set (a snapshot of an
	// earlier layout, or none); its clean close leaves the snapshot the
	// measured opens load.
	l, err := eventstore.Open(path, eventstore.WithNoSync())
	if err != nil {
		b.Fatal(err)
	}
	if err := l.Close(); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkGet measures Snapshot.Get of random sequences in a log of
// PLAINT_BENCH_EVENTS (default 200k) synthetic complaints, in format 2 (one
// value an event) and in blocks (format 3, the default: Get decodes the one
// record it returns, not its block).
func BenchmarkGet(b *testing.B) {
	n := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 200_000)
	evs := benchEvents(11, n)
	for _, c := range []struct {
		name   string
		blocks bool
	}{{"format=2", false}, {"format=3", true}} {
		b.Run(c.name, func(b *testing.B) {
			l, err := eventstore.Open(filepath.Join(b.TempDir(), "events.db"), eventstore.WithNoSync(), eventstore.WithBlocks(c.blocks))
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			for i := 0; i < len(evs); i += 50_000 {
				if _, err := l.Append(evs[i:min(i+50_000, len(evs))]...); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			err = l.View(func(s *eventstore.Snapshot) error {
				seq := uint64(1)
				for range b.N {
					seq = (seq*6364136223846793005 + 1442695040888963407) % uint64(n)
					if _, err := s.Get(seq + 1); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
	}
}

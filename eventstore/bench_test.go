package eventstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/benchenv"
)

var (
	benchSources    = []string{"crm/eu-west", "crm/us-east", "callcenter/berlin", "callcenter/austin", "webform"}
	benchCategories = []string{"billing", "outage", "slow-speed", "installation", "router", "contract", "support-wait",
		"price-increase", "roaming", "porting", "cancellation", "invoice-error", "data-cap", "tv-channels",
		"mobile-coverage", "refund", "technician-no-show", "account-access", "fraud", "privacy"}
	benchSegments   = []string{"consumer", "smb", "enterprise", "public-sector"}
	benchChannels   = []string{"phone", "email", "chat", "shop", "social"}
	benchRootCauses = []string{"process", "product", "people", "network", "partner", "unknown"}
	benchProducts   = []string{"fiber", "dsl", "cable", "mobile", "tv", "bundle-m", "bundle-l", "iot", "voip", "prepaid"}
	benchRegions    = []string{"north", "south", "east", "west", "central", "coast", "mountain", "capital"}
)

// benchEvents returns n synthetic complaint.filed events: random UUIDs,
// 100k customers, realistic dimension cardinalities, two years of times.
func benchEvents(seed uint64, n int) []domain.Event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	start := time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)
	out := make([]domain.Event, n)
	for i := range out {
		var id uuid.UUID
		for j := range id {
			id[j] = byte(r.Uint32())
		}
		id[6] = id[6]&0x0f | 0x40
		id[8] = id[8]&0x3f | 0x80
		cust := fmt.Sprintf("C-%06d", r.IntN(100_000))
		out[i] = domain.Event{
			ID: id.String(), Source: pick(benchSources), Type: domain.TypeComplaintFiled,
			Time:    start.Add(time.Duration(r.Int64N(int64(730 * 24 * time.Hour)))).Truncate(time.Second),
			Subject: cust, Schema: domain.CurrentSchema,
			Data: domain.Data{CustomerID: cust, Category: pick(benchCategories), Segment: pick(benchSegments),
				Channel: pick(benchChannels), Severity: uint8(1 + r.IntN(5)), RootCause: pick(benchRootCauses),
				Product: pick(benchProducts), Region: pick(benchRegions)},
		}
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

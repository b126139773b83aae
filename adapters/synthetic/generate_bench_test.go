package synthetic

import (
	"context"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// BenchmarkGenerate is the generator's share of `plaint emit --synthetic`:
// the history of BenchmarkEmitSynthetic (20,000 customers, 24 months, seed
// 7, ~385k events), handed to an emit that does nothing.
func BenchmarkGenerate(b *testing.B) {
	end := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	var events int64
	for range b.N {
		sum, err := Generate(context.Background(), Config{Customers: 20000, Months: 24, Seed: 7, End: end},
			func(*domain.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		events += sum.Events
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(events), "ns/event")
}

package projections

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// monthOfComplaints returns n complaints spread over the given month.
func monthOfComplaints(month time.Time, n int, id *int) []domain.Event {
	var evs []domain.Event
	for i := 0; i < n; i++ {
		*id++
		evs = append(evs, domain.Event{ID: fmt.Sprint("c", *id), Source: "import", Type: domain.TypeComplaintFiled,
			Time: month.Add(time.Duration(i%27) * 24 * time.Hour), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprint("C-", *id%40), Category: []string{"billing", "outage"}[*id%2]}})
	}
	return evs
}

// appendInBatches appends evs in k batches; the test clock moves an hour
// per batch, so an import of many batches takes longer than the grace.
func appendInBatches(t *testing.T, l *eventstore.Log, evs []domain.Event, k int) {
	t.Helper()
	for i := 0; i < k; i++ {
		if _, err := l.Append(evs[i*len(evs)/k : (i+1)*len(evs)/k]...); err != nil {
			t.Fatal(err)
		}
	}
}

func restatedBuckets(t *testing.T, e *Engine) (buckets []string, late int64) {
	t.Helper()
	r, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}, From: "2024-01", To: "2025-12"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range r.Buckets {
		if b.Restated {
			buckets = append(buckets, b.Bucket)
		}
	}
	for _, row := range r.Rows {
		late += row.LateCount
		if row.Restated != (row.LateCount > 0) {
			t.Fatalf("row %+v", row)
		}
	}
	return buckets, late
}

// TestBackfillsAreNotRestatements imports two years of history newest first
// and oldest first, each in 72 batches (72 hours of record time on the test
// clock, three times the grace): no bucket is restated. Then a correction
// stored days after its month was reported restates that month, and only
// that month; a late complaint for the month still going on restates
// nothing.
func TestBackfillsAreNotRestatements(t *testing.T) {
	for _, newestFirst := range []bool{true, false} {
		t.Run(fmt.Sprintf("newest first %v", newestFirst), func(t *testing.T) {
			l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			id := 0
			for m := 0; m < 24; m++ {
				month := time.Date(2024, time.Month(1+m), 1, 0, 0, 0, 0, time.UTC)
				if newestFirst {
					month = time.Date(2025, time.Month(12-m), 1, 0, 0, 0, 0, time.UTC)
				}
				appendInBatches(t, l, monthOfComplaints(month, 60, &id), 3)
			}
			e := openTestEngine(t, l, "")
			if b, late := restatedBuckets(t, e); len(b) != 0 || late != 0 {
				t.Fatalf("the import restated %v (%d late complaints)", b, late)
			}
			// Two days later, a correction for June 2025 and a straggler
			// for December 2025, which no later event has closed yet.
			for i := 0; i < 48; i++ {
				appendInBatches(t, l, monthOfComplaints(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), 1, &id), 1)
			}
			appendInBatches(t, l, append(monthOfComplaints(time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), 1, &id),
				monthOfComplaints(time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC), 1, &id)...), 1)
			b, late := restatedBuckets(t, e)
			if len(b) != 1 || b[0] != "2025-06" || late != 1 {
				t.Fatalf("restated %v with %d late complaints, want 2025-06 with 1", b, late)
			}
			// A fresh engine, folding the whole log in parallel parts,
			// agrees.
			fresh := openTestEngine(t, l, "", WithWorkers(3), withParallelMin(1))
			if b2, late2 := restatedBuckets(t, fresh); fmt.Sprint(b2) != fmt.Sprint(b) || late2 != late {
				t.Fatalf("a rebuild says %v/%d, the live fold %v/%d", b2, late2, b, late)
			}
		})
	}
}

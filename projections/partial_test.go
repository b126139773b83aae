package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// steadyComplaints appends perDay complaints of each category every day
// from first to last (inclusive): a rate that never changes.
func steadyComplaints(t *testing.T, first, last time.Time, perDay int) *Engine {
	t.Helper()
	l, _ := openTestLog(t, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	var evs []domain.Event
	n := 0
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		for _, c := range []string{"billing", "delivery", "outage"} {
			for i := 0; i < perDay; i++ {
				n++
				evs = append(evs, domain.Event{ID: fmt.Sprint(n), Source: "crm", Type: domain.TypeComplaintFiled,
					Time: d.Add(time.Duration(i) * time.Hour), Schema: 1, Data: domain.Data{CustomerID: "C-1", Category: c}})
			}
		}
	}
	if _, err := l.Append(evs...); err != nil {
		t.Fatal(err)
	}
	return openTestEngine(t, l, "")
}

// TestPartialLastBucketIsNotReadAsADrop: with a steady rate and data ending
// mid-quarter, the last quarter is marked partial with the share of it the
// data cover, its change and p-value are computed on that covered time, and
// no row is flagged as a fall; the footer names the real bucket width.
func TestPartialLastBucketIsNotReadAsADrop(t *testing.T) {
	e := steadyComplaints(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC), 4)
	r, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}, Bucket: domain.BucketQuarter})
	if err != nil {
		t.Fatal(err)
	}
	if r.To != "2026-Q4" || r.DataFrom != "2025-01-01T00:00:00Z" || r.DataTo != "2026-10-21T00:00:00Z" {
		t.Fatalf("range %s..%s, data %s..%s", r.From, r.To, r.DataFrom, r.DataTo)
	}
	if r.From != "2025-Q1" {
		t.Fatalf("the default range starts at %s, not at the first bucket with data", r.From)
	}
	last := r.Buckets[len(r.Buckets)-1]
	if !last.Partial || last.Covered != round(20.0/92, 4) {
		t.Fatalf("last bucket %+v", last)
	}
	for _, b := range r.Buckets[:len(r.Buckets)-1] {
		if b.Partial || b.Covered != 1 {
			t.Fatalf("whole bucket %+v", b)
		}
	}
	for _, row := range r.Rows {
		if row.Bucket != "2026-Q4" {
			if row.Partial {
				t.Fatalf("row %+v", row)
			}
			continue
		}
		// 80 complaints in 20 days against 368 in Q3's 92 days: the same rate.
		if !row.Partial || row.Count != 80 || row.PrevCount != 368 || row.Significant || row.PValue == nil || *row.PValue < 0.5 ||
			row.Change == nil || *row.Change != 0 || row.PctChange == nil || *row.PctChange != 0 {
			t.Fatalf("partial row %+v (p %v change %v)", row, deref(row.PValue), deref(row.Change))
		}
		if want := roundSig(PoissonRatioPValue(80, 368, 20, 92), 6); *row.PValue != want {
			t.Fatalf("p %v, want %v (covered days as exposure)", *row.PValue, want)
		}
	}
	table, _ := r.Render(FormatTable)
	for _, want := range []string{"2026-Q4*", "quarter-over-quarter", "* 2026-Q4 is partial: the data (2025-01-01 through 2026-10-20) cover 22% of it"} {
		if !strings.Contains(string(table), want) {
			t.Fatalf("table lacks %q:\n%s", want, table)
		}
	}
	if strings.Count(string(table), "▼") != 1 || strings.Count(string(table), "▲") != 1 { // the footer's only
		t.Fatalf("a steady rate is flagged:\n%s", table)
	}
	csv, _ := r.Render(FormatCSV)
	if !strings.Contains(string(csv), ",partial,covered\n") || !strings.Contains(string(csv), ",true,0.2174\n") {
		t.Fatalf("csv:\n%s", csv)
	}
	var back struct {
		Rows []map[string]any `json:"rows"`
	}
	js, _ := r.Render(FormatJSON)
	if err := json.Unmarshal(js, &back); err != nil || back.Rows[len(back.Rows)-1]["partial"] != true || back.Rows[len(back.Rows)-1]["covered"] != 0.2174 {
		t.Fatalf("json: %v\n%s", err, js)
	}
	for _, c := range []struct {
		b    domain.Bucket
		want string
	}{{domain.BucketWeek, "week-over-week"}, {domain.BucketDay, "day-over-day"}, {domain.BucketMonth, "month-over-month"}} {
		r, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}, Bucket: c.b})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := WriteTrendTable(&buf, r); err != nil || !strings.Contains(buf.String(), c.want) {
			t.Fatalf("%s footer:\n%s", c.b, buf.String())
		}
	}
}

// TestBucketsOutsideTheDataAreWithheld: a bucket the data start inside of
// is partial and has nothing to compare with; buckets past the data have no
// change or p-value at all; the default range starts where the data do.
func TestBucketsOutsideTheDataAreWithheld(t *testing.T) {
	e := steadyComplaints(t, time.Date(2026, 6, 16, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC), 2)
	ctx := context.Background()
	r, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory}})
	if err != nil {
		t.Fatal(err)
	}
	if r.From != "2026-06" || r.To != "2026-09" || len(r.Buckets) != 4 {
		t.Fatalf("default range %s..%s (%d buckets)", r.From, r.To, len(r.Buckets))
	}
	if b := r.Buckets[0]; !b.Partial || b.Covered != 0.5 {
		t.Fatalf("first bucket %+v", b)
	}
	for _, row := range r.Rows {
		switch row.Bucket {
		case "2026-06":
			if row.Change != nil || row.PValue != nil || row.Significant {
				t.Fatalf("a change from before the data: %+v", row)
			}
		case "2026-07":
			// 62 in July against 30 in the covered half of June: the same rate.
			if row.Partial || row.Change == nil || *row.Change != 0 || row.Significant {
				t.Fatalf("July against a half June: %+v change %v", row, deref(row.Change))
			}
		}
	}
	r, err = e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory}, From: "2026-08", To: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range r.Rows {
		uncovered := row.Bucket >= "2026-10"
		if row.Partial != uncovered || uncovered && (row.Covered != 0 || row.Change != nil || row.PctChange != nil || row.PValue != nil || row.Significant) {
			t.Fatalf("row %+v", row)
		}
	}
	var buf bytes.Buffer
	if err := WriteTrendTable(&buf, r); err != nil || !strings.Contains(buf.String(), "* 2026-12: the data (2026-06-16 through 2026-09-30) do not reach it") {
		t.Fatalf("table:\n%s", buf.String())
	}
}

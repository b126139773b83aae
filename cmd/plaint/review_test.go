package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/synthetic"
	"github.com/plaint/plaint/domain"
)

// writeHistory makes a data directory holding a synthetic history.
func writeHistory(t *testing.T) string {
	t.Helper()
	var evs []domain.Event
	_, err := synthetic.Generate(context.Background(), synthetic.Config{Customers: 400, Months: 12, Seed: 3, End: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)},
		func(ev *domain.Event) error { evs = append(evs, *ev); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return writeLog(t, evs)
}

func TestReviewScorecardLinkageFromTheDataDirectory(t *testing.T) {
	dir := writeHistory(t)
	srv := deadServer(t)
	run := func(args ...string) string {
		t.Helper()
		code, out, errs := runMain(t, append([]string{"--data", dir, "--server", srv}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errs)
		}
		return out
	}
	md := run("review", "--period", "2025-Q3", "--top", "3")
	for _, want := range []string{"# Lost-customer review 2025-Q3 (2025-07-01 to 2025-09-30)", "## By reason", "## Call back (top 3 by value, per currency)", "| 1 | C-", "EUR "} {
		if !strings.Contains(md, want) {
			t.Fatalf("markdown lacks %q:\n%s", want, md)
		}
	}
	if csv := run("review", "--period", "2025-09", "--format", "csv"); !strings.HasPrefix(csv, "period,partial,customer_id,") || strings.Count(csv, "\n") < 2 {
		t.Fatalf("review csv:\n%s", csv)
	}
	sc := run("scorecard", "--from", "2025-01", "--to", "2025-11", "--format", "csv")
	if !strings.HasPrefix(sc, "period,segment,new_customers,new_value,lost_customers,lost_value,renewals,referrals,revenue,cost,profit,currency") ||
		!strings.Contains(sc, "2025-11,consumer,") {
		t.Fatalf("scorecard csv:\n%.1000s", sc)
	}
	if tbl := run("scorecard", "--from", "2025-10", "--to", "2025-11", "--by", "all"); !strings.Contains(tbl, "2025-11") || !strings.Contains(tbl, "(all)") {
		t.Fatalf("scorecard table:\n%s", tbl)
	}
	lk := run("linkage", "--window", "60d", "--by", "category,segment")
	if !strings.Contains(lk, "within 60 days") || !strings.Contains(lk, "revenue at risk") {
		t.Fatalf("linkage table:\n%s", lk)
	}
	code, _, errs := runMain(t, "--data", dir, "--server", srv, "review", "--period", "2025-13")
	if code != 2 || !strings.Contains(errs, "period") {
		t.Fatalf("exit %d: %s", code, errs)
	}
	code, _, errs = runMain(t, "--data", dir, "--server", srv, "linkage", "--by", "region")
	if code != 2 || !strings.Contains(errs, "category,segment") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

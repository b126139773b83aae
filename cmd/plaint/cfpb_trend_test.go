package main

import (
	"bytes"
	"context"
	stdcsv "encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	plaintcsv "github.com/plaint/plaint/adapters/csv"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
	"github.com/plaint/plaint/projections"
)

// cfpbLog imports the real CFPB sample's rows received up to and including
// until (an export taken that day) through examples/cfpb-mapping.yaml, in
// the file's order, into a new data directory.
func cfpbLog(t *testing.T, until time.Time) string {
	t.Helper()
	src, err := os.ReadFile(testutil.CFPBSample(t))
	if err != nil {
		t.Fatal(err)
	}
	cr := stdcsv.NewReader(bytes.NewReader(src))
	cr.LazyQuotes = true // as the mapping says: the export has bare quotes
	recs, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var kept bytes.Buffer
	w := stdcsv.NewWriter(&kept)
	w.Write(recs[0])
	for _, r := range recs[1:] {
		if d, err := time.Parse("02-01-2006", r[0]); err == nil && !d.After(until) {
			w.Write(r)
		}
	}
	w.Flush()
	m, err := plaintcsv.LoadMapping(repoFile("examples", "cfpb-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Event
	if _, err := plaintcsv.Import(context.Background(), &kept, m, func(ev *domain.Event) error { evs = append(evs, *ev); return nil },
		func(r plaintcsv.Rejection) { t.Errorf("rejected: %s", r) }); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, logFile), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(evs); i += 500 { // batches, as an import would commit them
		if _, err := l.Append(evs[i:min(i+500, len(evs))]...); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestTrendOfTheRealCFPBSampleMarksAPartialMonth imports the real CFPB
// rows received up to 2023-04-13, as if exported that day: April is partial
// (13 of 30 days), compared with March at the rate of its 13 days, in the
// table, CSV and JSON, the default range starts with the data's first
// month in it, and the import (mostly newest first) restates nothing.
func TestTrendOfTheRealCFPBSampleMarksAPartialMonth(t *testing.T) {
	dir := cfpbLog(t, time.Date(2023, 4, 13, 0, 0, 0, 0, time.UTC))
	srv := deadServer(t)
	code, out, errs := runMain(t, "--data", dir, "--server", srv, "trend", "--by", "category", "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var r projections.TrendResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if r.From != "2023-01" || r.To != "2023-04" || r.DataTo != "2023-04-14T00:00:00Z" {
		t.Fatalf("range %s..%s, data to %s", r.From, r.To, r.DataTo)
	}
	// The file is mostly newest first: an import, not restatements.
	for _, b := range r.Buckets {
		if b.Restated {
			t.Fatalf("the import restated %s", b.Bucket)
		}
	}
	april := r.Buckets[len(r.Buckets)-1]
	if !april.Partial || april.Covered != 0.4333 {
		t.Fatalf("April: %+v", april)
	}
	rows := 0
	for _, row := range r.Rows {
		if row.Bucket != "2023-04" {
			continue
		}
		rows++
		if !row.Partial || row.PValue == nil {
			t.Fatalf("row %+v", row)
		}
		want := projections.PoissonRatioPValue(row.Count, row.PrevCount, 13, 31)
		if d := *row.PValue - want; d > want*1e-5 || d < -want*1e-5 {
			t.Fatalf("%v: p %v, want %v (13 days against March's 31)", row.Key, *row.PValue, want)
		}
	}
	if rows == 0 {
		t.Fatal("no April rows")
	}
	code, out, _ = runMain(t, "--data", dir, "--server", srv, "trend", "--by", "category")
	if code != 0 || !strings.Contains(out, "2023-04*") || !strings.Contains(out, "* 2023-04 is partial: the data (2012-08-06 through 2023-04-13) cover 43% of it") {
		t.Fatalf("table:\n%s", out)
	}
	code, out, _ = runMain(t, "--data", dir, "--server", srv, "trend", "--by", "category", "--format", "csv")
	if code != 0 || !strings.Contains(out, ",partial,covered\n") || !strings.Contains(out, ",true,0.4333\n") {
		t.Fatalf("csv:\n%s", out)
	}
}

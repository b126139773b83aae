package csv_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	plaintcsv "github.com/plaint/plaint/adapters/csv"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

func importFile(t *testing.T, csvPath string, m *plaintcsv.Mapping) ([]domain.Event, []plaintcsv.Rejection, plaintcsv.Summary, error) {
	t.Helper()
	f, err := os.Open(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var evs []domain.Event
	var rejs []plaintcsv.Rejection
	sum, err := plaintcsv.Import(context.Background(), f, m,
		func(ev *domain.Event) error { evs = append(evs, *ev); return nil },
		func(r plaintcsv.Rejection) { rejs = append(rejs, r) })
	return evs, rejs, sum, err
}

// TestCFPBSampleImportsWithTheShippedMapping maps the whole real CFPB sample
// with examples/cfpb-mapping.yaml.
func TestCFPBSampleImportsWithTheShippedMapping(t *testing.T) {
	m, err := plaintcsv.LoadMapping(filepath.Join(testutil.RepoRoot(t), "examples", "cfpb-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	evs, rejs, sum, err := importFile(t, testutil.CFPBSample(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 3999 || sum.Accepted != 3999 || sum.Rejected != 0 || len(rejs) != 0 || len(evs) != 3999 {
		t.Fatalf("summary %+v, %d rejections, %d events; want 3999 rows all accepted", sum, len(rejs), len(evs))
	}
	first := evs[0]
	want := domain.Event{
		ID: "6896026", Source: "cfpb", Type: domain.TypeComplaintFiled, Schema: domain.CurrentSchema,
		Time: time.Date(2023, 4, 27, 4, 0, 0, 0, time.UTC), Subject: "cfpb-6896026",
		Data: domain.Data{
			CustomerID: "cfpb-6896026", ComplaintID: "6896026", Category: "credit-reporting",
			RootCause: "incorrect-information-on-your-report", Product: "credit-reporting",
			Channel: "web", Segment: "general", Region: "pa",
		},
	}
	if !first.Time.Equal(want.Time) {
		t.Errorf("first time %s, want %s", first.Time, want.Time)
	}
	first.Time = want.Time
	if first != want {
		t.Errorf("first event\n got %+v\nwant %+v", first, want)
	}
	count := func(get func(*domain.Event) string) map[string]int {
		out := map[string]int{}
		for i := range evs {
			out[get(&evs[i])]++
		}
		return out
	}
	channels := count(func(e *domain.Event) string { return e.Data.Channel })
	for ch, n := range map[string]int{"web": 3888, "phone": 75, "referral": 18, "mail": 13, "web-referral": 5} {
		if channels[ch] != n {
			t.Errorf("channel %s: %d events, want %d (all: %v)", ch, channels[ch], n, channels)
		}
	}
	cats := count(func(e *domain.Event) string { return e.Data.Category })
	for c, n := range map[string]int{"credit-reporting": 3362, "debt-collection": 217, "credit-card": 124, "personal-loan": 15} {
		if cats[c] != n {
			t.Errorf("category %s: %d events, want %d (all: %v)", c, cats[c], n, cats)
		}
	}
	if len(cats) != 9 {
		t.Errorf("%d categories, want 9: %v", len(cats), cats)
	}
	if r := count(func(e *domain.Event) string { return e.Data.Region }); r["unknown"] != 4 {
		t.Errorf("%d events without a state, want 4", r["unknown"])
	}
	if s := count(func(e *domain.Event) string { return e.Data.Segment }); s["servicemember"] != 188 || s["older-american-servicemember"] != 19 || s["general"] != 3730 {
		t.Errorf("segments %v", s)
	}
	dec := domain.Decoder{}
	for i := range evs {
		b, err := evs[i].MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		if len(evs[i].Data.RootCause) > domain.MaxSlugLen {
			t.Fatalf("row %d: root cause not truncated", i+1)
		}
		if _, err := dec.Decode(evs[i].Type.Subject(), b); err != nil {
			t.Fatalf("row %d does not decode: %v", i+1, err)
		}
	}
}

// TestCFPBSampleReportsRowsWithoutAState requires a state: the four rows
// without one are rejected with their row and line numbers.
func TestCFPBSampleReportsRowsWithoutAState(t *testing.T) {
	m, err := plaintcsv.LoadMapping(filepath.Join(testutil.RepoRoot(t), "examples", "cfpb-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m.Fields["region"] = &plaintcsv.FieldSpec{Column: "State", Required: true, Unmapped: plaintcsv.UnmappedKeep}
	_, rejs, sum, err := importFile(t, testutil.CFPBSample(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 3995 || sum.Rejected != 4 || len(rejs) != 4 {
		t.Fatalf("summary %+v, rejections %v; want 3995 accepted, 4 rejected", sum, rejs)
	}
	for _, r := range rejs {
		if r.Field != "region" || !strings.Contains(r.String(), `column "State" is empty and the field is required`) || r.Line < r.Row+1 {
			t.Errorf("rejection %q", r)
		}
	}
	m.OnError = plaintcsv.OnErrorFail
	_, _, sum, err = importFile(t, testutil.CFPBSample(t), m)
	if err == nil || !strings.Contains(err.Error(), rejs[0].String()) {
		t.Fatalf("err %v, want the first rejection %q", err, rejs[0])
	}
	if sum.Accepted != rejs[0].Row-1 {
		t.Fatalf("accepted %d rows before failing, want %d", sum.Accepted, rejs[0].Row-1)
	}
}

// TestCFPBSampleStrictQuotesRejectsThreeRows reads the sample without
// lazy_quotes: the three rows with a quote inside an unquoted field are
// rejected, and only they.
func TestCFPBSampleStrictQuotesRejectsThreeRows(t *testing.T) {
	m, err := plaintcsv.LoadMapping(filepath.Join(testutil.RepoRoot(t), "examples", "cfpb-mapping.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	m.LazyQuotes = false
	evs, rejs, sum, err := importFile(t, testutil.CFPBSample(t), m)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 3999 || sum.Accepted != 3996 || sum.Rejected != 3 || len(evs) != 3996 {
		t.Fatalf("summary %+v; want 3999 rows, 3996 accepted, 3 rejected", sum)
	}
	want := []string{
		`line 437 (row 368): bare " in non-quoted-field`,
		`line 1581 (row 1459): bare " in non-quoted-field`,
		`line 4394 (row 3847): bare " in non-quoted-field`,
	}
	for i, r := range rejs {
		if r.String() != want[i] {
			t.Errorf("rejection %d: %q, want %q", i, r, want[i])
		}
	}
}

package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// TestEveryAnswerOfAnEmptyCase answers every kind of question where there is
// nothing to count: an empty log, a log without complaints, a range without
// complaints and a filter matching nothing. Each must answer (no panic, no
// error) with no rows, in every format.
func TestEveryAnswerOfAnEmptyCase(t *testing.T) {
	ctx := context.Background()
	empty, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	noComplaints, dir2 := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	if _, err := noComplaints.Append(domain.Event{ID: "a1", Source: "crm", Type: domain.TypeCustomerAcquired,
		Time: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Schema: 1, Data: domain.Data{CustomerID: "C-1", Segment: "smb"}}); err != nil {
		t.Fatal(err)
	}
	some, dir3 := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, some, newGen(3), 300)
	cases := []struct {
		name  string
		e     *Engine
		q     TrendQuery
		spec  string
		empty bool // the spec's table has no rows
	}{
		{"empty log", openTestEngine(t, empty, filepath.Join(dir, "p.db")), TrendQuery{By: []Dimension{DimCategory}},
			"name: e1\ngroup_by: [category]\n", true},
		{"empty log as of a time", openTestEngine(t, empty, ""), TrendQuery{By: []Dimension{DimCategory},
			AsOf: AsOf{Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}}, "name: e2\n", true},
		{"empty log as of a sequence", openTestEngine(t, empty, ""), TrendQuery{By: []Dimension{DimSegment}, AsOf: AsOf{Seq: 5}},
			"name: e3\n", true},
		{"no event of the type", openTestEngine(t, noComplaints, filepath.Join(dir2, "p.db")), TrendQuery{By: []Dimension{DimCategory, DimSegment}},
			"name: e4\nfilter: {types: [complaint.filed]}\ngroup_by: [category]\n", true},
		{"an empty range", openTestEngine(t, some, filepath.Join(dir3, "p.db")), TrendQuery{By: []Dimension{DimCategory}, From: "2030-01", To: "2030-06"},
			"name: e5\nfilter: {from: 2030-01, to: 2030-06}\n", true},
		{"a filter matching nothing", openTestEngine(t, some, ""), TrendQuery{By: []Dimension{DimCategory},
			Where: map[Dimension][]string{DimSegment: {"nobody"}}}, "name: e6\nfilter: {where: {segment: [nobody]}}\n", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := c.e.Trends(ctx, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Rows) != 0 || len(r.Buckets) == 0 {
				t.Fatalf("%d rows, %d buckets", len(r.Rows), len(r.Buckets))
			}
			for _, f := range []string{FormatJSON, FormatCSV, FormatTable} {
				b, err := r.Render(f)
				if err != nil {
					t.Fatal(err)
				}
				switch f {
				case FormatJSON:
					var back map[string]any
					if err := json.Unmarshal(b, &back); err != nil || back["rows"] == nil {
						t.Fatalf("json %s: %v", b, err)
					}
				case FormatCSV:
					if strings.Count(string(b), "\n") != 1 {
						t.Fatalf("csv:\n%s", b)
					}
				case FormatTable:
					if !strings.Contains(string(b), "(no complaints in this range)") {
						t.Fatalf("table:\n%s", b)
					}
				}
			}
			sp, err := ParseSpec([]byte(c.spec))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.e.Create(sp); err != nil {
				t.Fatal(err)
			}
			tab, err := c.e.Query(ctx, sp.Name, AsOf{})
			if err != nil {
				t.Fatal(err)
			}
			if c.empty && len(tab.Rows) != 0 {
				t.Fatalf("spec table: %v", tab.Rows)
			}
			var buf bytes.Buffer
			if err := WriteTable(&buf, tab, FormatJSON); err != nil || !strings.Contains(buf.String(), `"rows": []`) {
				t.Fatalf("json table %s: %v", buf.String(), err)
			}
			if _, err := c.e.Query(ctx, sp.Name, AsOf{Seq: 1}); err != nil {
				t.Fatal(err)
			}
			if st, err := c.e.Status(sp.Name); err != nil || st.State != "live" {
				t.Fatalf("status %+v %v", st, err)
			}
			if len(c.e.List()) == 0 {
				t.Fatal("empty list")
			}
		})
	}
	tab, err := Replay(ctx, empty, &Spec{Name: "r", Bucket: "month", Measures: []string{"count"}}, nil)
	if err != nil || len(tab.Rows) != 0 {
		t.Fatalf("replay of an empty log: %v %v", tab, err)
	}
}

package projections

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func TestAmountMeasuresNeedOneCurrencyPerGroup(t *testing.T) {
	for _, src := range []string{
		"name: x\ngroup_by: [segment, currency]\nmeasures: [sum:amount]\n",
		"name: x\nfilter:\n  where:\n    currency: [EUR]\nmeasures: [avg:amount]\n",
	} {
		if _, err := ParseSpec([]byte(src)); err != nil {
			t.Errorf("%q: %v", src, err)
		}
	}
	_, err := ParseSpec([]byte("name: x\nfilter:\n  where:\n    currency: [EUR, USD]\nmeasures: [sum:amount]\n"))
	if err == nil || !strings.Contains(err.Error(), "different currencies") {
		t.Fatalf("two currencies in one group: %v", err)
	}
}

func TestParseSpecErrorsNameLineAndField(t *testing.T) {
	for _, c := range []struct{ src, field, line string }{
		{"name: x\ngrup_by: [category]\n", "grup_by", "line 2"},
		{"name: x\nmeasures: [count, median:amount]\n", "measures[1]", "line 2"},
		{"name: x\nfilter:\n  types: [complaint.filed, complaint.opened]\n", "filter.types[1]", "line 3"},
		{"name: x\nfilter:\n  where:\n    \"\": red\n", "filter.where", "line 4"},
		{"name: x\nfilter:\n  types: [customer.defected]\nmeasures: [count, avg:severity]\n", "measures[1]", "line 4"},
		{"name: x\nfilter:\n  types: [customer.defected, customer.renewed]\ngroup_by: [complaint_id]\n", "group_by[0]", "line 4"},
		{"name: x\nmeasures: [count, sum:category]\n", "measures[1]", "line 2"},
		{"name: x\nfilter: {where: {currency: [EUR, USD]}}\nmeasures: [sum:cost]\n", "measures[0]", "line 3"},
		{"name: x\nbucket: year\n", "bucket", "line 2"},
		{"name: x\ngroup_by: [segment]\nmeasures: [count, sum:amount]\n", "measures[1]", "line 3"},
		{"name: Bad Name\n", "name", "line 1"},
		{"group_by: [category]\n", "name", "line 1"},
		{"name: x\nfilter:\n  from: yesterday\n", "filter.from", "line 3"},
		{"name: x\ngroup_by: [category, category]\n", "group_by[1]", "line 2"},
		{"name: [x\n", "spec", "line 1"},
		// YAML syntax errors name the line they are on.
		{"name: x\nmeasures: [count\nbucket: month\n", "spec", "line 2"},
		{"name: x\ngroup_by: [a]\n  bucket: month\n", "spec", "line 3"},
		{"name: x\nbucket: month\n- a\n", "spec", "line 3"},
		{"name: x\nbucket: month\nfoo: bar: baz\n", "spec", "line 3"},
		{"name: x\nbucket: month\ngroup_by: [a,\n", "spec", "line 3"},
		{`{"name": "x", "measures": ["sum:customer_id"]}`, "measures[0]", "line 1"},
	} {
		_, err := ParseSpec([]byte(c.src))
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID {
			t.Fatalf("%q: err = %v, want EINVALID", c.src, err)
		}
		if de.Field != c.field || !strings.Contains(de.Message, c.line) {
			t.Errorf("%q: error %q (field %q), want field %q and %q", c.src, de.Error(), de.Field, c.field, c.line)
		}
	}
}

func TestParseSpecAcceptsYAMLAndJSON(t *testing.T) {
	y, err := ParseSpec([]byte("name: by_region\nfilter: {types: complaint.filed, where: {segment: enterprise}}\ngroup_by: region\n"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := ParseSpec([]byte(`{"name":"by_region","filter":{"types":["complaint.filed"],"where":{"segment":["enterprise"]}},"group_by":["region"],"bucket":"month","measures":["count"]}`))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(y.canonical(), j.canonical()) {
		t.Fatalf("YAML and JSON specs differ:\n%s\n%s", y.canonical(), j.canonical())
	}
}

func TestCreateRejectsMalformedSpecAndRegistersNothing(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := openTestEngine(t, l, "")
	if _, err := e.Create(&Spec{Name: "x", Bucket: "month", Measures: []string{"median:amount"}}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("err = %v", err)
	}
	if n := len(e.List()); n != 0 {
		t.Fatalf("%d projections registered", n)
	}
}

// TestReplaysAreByteIdentical replays a spec and a trend twice over the same
// log, with different parallelism, and compares the CSV bytes.
func TestReplaysAreByteIdentical(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(7), 3000)
	sp, err := ParseSpec([]byte("name: r\ngroup_by: [category, segment, currency]\nmeasures: [count, distinct:customer_id, sum:amount, avg:severity]\n"))
	if err != nil {
		t.Fatal(err)
	}
	var outs [2]bytes.Buffer
	var trends [2]bytes.Buffer
	for i, w := range []int{1, 3} {
		tab, err := Replay(context.Background(), l, sp, nil, WithWorkers(w), withParallelMin(1), WithChunk(333))
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteTable(&outs[i], tab, FormatCSV); err != nil {
			t.Fatal(err)
		}
		e := openTestEngine(t, l, "", WithWorkers(w), withParallelMin(1), WithChunk(333))
		tr, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory, DimSegment}, From: "2024-01", To: "2026-12"})
		if err != nil {
			t.Fatal(err)
		}
		if err := WriteTrendCSV(&trends[i], tr); err != nil {
			t.Fatal(err)
		}
	}
	if outs[0].Len() < 1000 || !bytes.Equal(outs[0].Bytes(), outs[1].Bytes()) {
		t.Fatalf("replays differ or are empty (%d and %d bytes)", outs[0].Len(), outs[1].Len())
	}
	if !bytes.Equal(trends[0].Bytes(), trends[1].Bytes()) {
		t.Fatal("trend CSVs differ")
	}
	if !strings.HasPrefix(trends[0].String(), "bucket,category,segment,count,prev_count,change,pct_change,yoy_count,share,p_value") {
		t.Fatalf("CSV header: %q", strings.SplitN(trends[0].String(), "\n", 2)[0])
	}
}

// TestV0ComplaintsCountUnderTheirUpcastCategory stores v0 complaints and
// checks the trend counts them under the derived category, which is in no
// record's category field.
func TestV0ComplaintsCountUnderTheirUpcastCategory(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	at := time.Date(2025, 10, 5, 0, 0, 0, 0, time.UTC)
	evs := []domain.Event{
		{ID: "1", Source: "old", Type: domain.TypeComplaintFiled, Time: at, Schema: 0, Data: domain.Data{CustomerID: "C-1", Topic: "Parcel never arrived"}},
		{ID: "2", Source: "old", Type: domain.TypeComplaintFiled, Time: at, Schema: 0, Data: domain.Data{CustomerID: "C-2", Topic: "Strange noise"}},
		{ID: "3", Source: "new", Type: domain.TypeComplaintFiled, Time: at, Schema: 1, Data: domain.Data{CustomerID: "C-3", Category: "delivery"}},
	}
	if _, err := l.Append(evs...); err != nil {
		t.Fatal(err)
	}
	e := openTestEngine(t, l, "")
	r, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}, From: "2025-10", To: "2025-10"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, row := range r.Rows {
		got[row.Key["category"]] = row.Count
	}
	if got["delivery"] != 2 || got["strange-noise"] != 1 || len(got) != 2 {
		t.Fatalf("counts %v", got)
	}
}

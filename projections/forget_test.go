package projections

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/scrub"
	"github.com/plaint/plaint/projections/customers"
)

// forgetSpecs are analysts' projections that hold customer ids or count
// every event.
var forgetSpecs = []string{
	"name: by-customer\ngroup_by: [customer_id, currency]\nmeasures: [count, sum:amount]\nfilter: {types: [revenue.recorded]}\n",
	"name: everything\ngroup_by: [segment]\nmeasures: [count, distinct:customer_id]\n",
}

// outputs renders the trend CSV, the active-customer rates with it, and
// every spec's table.
func outputs(t *testing.T, e *Engine, names ...string) (trend string, tables map[string]string) {
	t.Helper()
	ctx := context.Background()
	tr, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory, DimSegment}, From: "2024-01", To: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteTrendCSV(&b, tr); err != nil {
		t.Fatal(err)
	}
	tables = map[string]string{}
	for _, name := range names {
		tab, err := e.Query(ctx, name, AsOf{})
		if err != nil {
			t.Fatal(err)
		}
		var o bytes.Buffer
		if err := WriteTable(&o, tab, FormatCSV); err != nil {
			t.Fatal(err)
		}
		tables[name] = o.String()
	}
	return b.String(), tables
}

func forgetC7(t *testing.T, l *eventstore.Log) *eventstore.ForgetPlan {
	t.Helper()
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-7")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{RequestedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestForgetRebuildsProjectionsWithTheSameAggregates(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(3), 3000)
	state := filepath.Join(dir, "projections.db")
	e := openTestEngine(t, l, state)
	for _, s := range forgetSpecs {
		sp, err := ParseSpec([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Create(sp); err != nil {
			t.Fatal(err)
		}
	}
	trendBefore, before := outputs(t, e, "by-customer", "everything")
	if !strings.Contains(before["by-customer"], ",C-7,") {
		t.Fatalf("the test needs C-7 in a projection:\n%s", before["by-customer"])
	}
	e.saveDirty(true)
	if exactStrings(t, state, "C-7") == 0 {
		t.Fatal("projections.db does not hold C-7 before the erasure")
	}
	if names := e.Naming("C-7"); len(names) != 0 {
		t.Fatalf("Naming = %v", names)
	}
	plan := forgetC7(t, l)
	var needles [][]byte
	for i, n := range plan.Needles() {
		if !plan.Kept()[i] {
			needles = append(needles, n)
		}
	}
	if len(needles) == 0 {
		t.Fatal("no needle to check")
	}
	rep, err := e.Forget(context.Background(), needles)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rebuilt < 4 { // the two specs, the trend and the active base
		t.Fatalf("report %+v", rep)
	}
	trendAfter, after := outputs(t, e, "by-customer", "everything")
	if trendAfter != trendBefore {
		t.Fatal("the trend CSV changed")
	}
	if after["everything"] != before["everything"] {
		t.Fatalf("a projection of every event changed (the erasure event must not count):\n%s\n%s", before["everything"], after["everything"])
	}
	want := strings.ReplaceAll(before["by-customer"], ",C-7,", ","+plan.Pseudonym+",")
	if sortLines(after["by-customer"]) != sortLines(want) {
		t.Fatalf("by customer:\n%s\nwant\n%s", after["by-customer"], want)
	}
	// C-7 (and not C-70...) is gone from the state file: the strtab holds
	// strings with a length before them, so look for the exact bytes.
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := exactStrings(t, state, "C-7"); n != 0 {
		t.Fatalf("projections.db still holds the string C-7 %d times", n)
	}
}

func TestAnEngineOpeningAfterAnOfflineErasureRebuilds(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(3), 3000)
	state := filepath.Join(dir, "projections.db")
	e, err := Open(l, state)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ParseSpec([]byte(forgetSpecs[0]))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Create(sp); err != nil {
		t.Fatal(err)
	}
	_, before := outputs(t, e, "by-customer")
	// The customers projection, saved incrementally (entries).
	if _, err := e.Review(context.Background(), customers.ReviewQuery{Period: "2025-06"}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if exactStrings(t, state, "C-7") == 0 {
		t.Fatal("projections.db does not hold C-7 before the erasure")
	}
	if !hasBucket(t, state, bucketEntries) {
		t.Fatal("the customers projection saved no entries")
	}
	plan := forgetC7(t, l)
	e = openTestEngine(t, l, state)
	if exactStrings(t, state, "C-7") != 0 {
		t.Fatal("opening after the erasure left C-7 in projections.db")
	}
	tab, err := e.Query(context.Background(), "by-customer", AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	var o bytes.Buffer
	if err := WriteTable(&o, tab, FormatCSV); err != nil {
		t.Fatal(err)
	}
	if want := strings.ReplaceAll(before["by-customer"], ",C-7,", ","+plan.Pseudonym+","); sortLines(o.String()) != sortLines(want) {
		t.Fatalf("after the rebuild:\n%s\nwant\n%s", o.String(), want)
	}
}

func TestSpecsNamingTheCustomer(t *testing.T) {
	_, e := openRandomEngine(t, 3, 100)
	sp, err := ParseSpec([]byte("name: one\nfilter: {where: {customer_id: [C-7]}}\nmeasures: [count]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Create(sp); err != nil {
		t.Fatal(err)
	}
	if got := e.Naming("C-7"); len(got) != 1 || got[0] != "one" {
		t.Fatalf("Naming(C-7) = %v", got)
	}
	if got := e.Naming("C-70"); len(got) != 0 {
		t.Fatalf("Naming(C-70) = %v", got)
	}
}

func TestErasureEventsAreNotCounted(t *testing.T) {
	c := &compiledSpec{allTypes: true}
	r := eventstore.Record(make([]byte, 64))
	r[5] = byte(domain.TypeCustomerForgotten)
	if c.wantsRecord(r) {
		t.Fatal("a spec over every type counts customer.forgotten")
	}
	r[5] = byte(domain.TypeComplaintFiled)
	if !c.wantsRecord(r) {
		t.Fatal("a spec over every type skips complaints")
	}
}

// exactStrings counts the places path holds s as a whole string: not
// followed by a letter or digit (C-7 but not C-70).
func exactStrings(t *testing.T, path, s string) int {
	t.Helper()
	hits, err := scrub.Find(path, [][]byte{[]byte(s)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hits {
		end := int(h.Offset) + len(s)
		if end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] >= 'a' && b[end] <= 'z' || b[end] >= 'A' && b[end] <= 'Z') {
			continue
		}
		n++
	}
	return n
}

func sortLines(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func hasBucket(t *testing.T, path string, name []byte) bool {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	found := false
	_ = db.View(func(tx *bolt.Tx) error { found = tx.Bucket(name) != nil; return nil })
	return found
}

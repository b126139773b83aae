package projections

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections/customers"
	"github.com/plaint/plaint/projections/customers/customerstest"
)

// reference folds events (deduplicated, in log order) into a state of the
// customers package directly: its figures are checked against a naive
// recomputation there, so the engine's must equal them.
func reference(t *testing.T, evs []domain.Event) (*customers.State, customers.Names) {
	t.Helper()
	st := customers.New()
	ids := map[string]uint32{}
	names := []string{""}
	for i := range evs {
		c := evs[i].Data.CustomerID
		k, ok := ids[c]
		if !ok {
			k = uint32(len(names))
			ids[c], names = k, append(names, c)
		}
		if f, ok := customers.FactOf(&evs[i], k, st.Strs); ok {
			if err := st.Apply(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	return st, func(k uint32) string { return names[k] }
}

var testNow = time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC)

type customerAnswers struct {
	Reviews  []*customers.Review
	Score    *customers.Scorecard
	Linkages []*customers.Linkage
}

var (
	testReviews = []customers.ReviewQuery{{Period: "2025-06", Now: testNow}, {Period: "2025-Q3", Now: testNow, Top: 3, Limit: 4}, {Period: "2025-11", Now: testNow}}
	testScore   = customers.ScorecardQuery{From: "2024-06", To: "2025-11", BySegment: true, Now: testNow}
	testLinks   = []customers.LinkageQuery{{}, {Window: 30 * 24 * time.Hour, BySegment: true, From: "2024-06"}}
)

func engineAnswers(t *testing.T, e *Engine) customerAnswers {
	t.Helper()
	ctx := context.Background()
	var a customerAnswers
	for _, q := range testReviews {
		r, err := e.Review(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		r.AsOfSeq = 0
		a.Reviews = append(a.Reviews, r)
	}
	s, err := e.Scorecard(ctx, testScore)
	if err != nil {
		t.Fatal(err)
	}
	s.AsOfSeq = 0
	a.Score = s
	for _, q := range testLinks {
		l, err := e.Linkage(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		l.AsOfSeq = 0
		a.Linkages = append(a.Linkages, l)
	}
	return a
}

func referenceAnswers(t *testing.T, st *customers.State, names customers.Names) customerAnswers {
	t.Helper()
	var a customerAnswers
	for _, q := range testReviews {
		r, err := st.Review(q, names)
		if err != nil {
			t.Fatal(err)
		}
		a.Reviews = append(a.Reviews, r)
	}
	s, err := st.Scorecard(testScore)
	if err != nil {
		t.Fatal(err)
	}
	a.Score = s
	for _, q := range testLinks {
		l, err := st.Linkage(q)
		if err != nil {
			t.Fatal(err)
		}
		a.Linkages = append(a.Linkages, l)
	}
	return a
}

func sameAnswers(t *testing.T, what string, got, want customerAnswers) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s: the engine's answers differ from the reference fold:\ngot  %.2000s\nwant %.2000s", what, g, w)
	}
}

// storedOrder returns the events the log kept, in its order.
func storedOrder(t *testing.T, l *eventstore.Log) []domain.Event {
	t.Helper()
	var out []domain.Event
	if err := l.ReadFrom(1, func(_ uint64, ev domain.Event) error { out = append(out, ev); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCustomersProjection builds the customers projection over a real log
// holding every case (late events, duplicates the log drops, comebacks,
// defections without value...), advances it with more events (late ones
// restate their periods), reopens it from its incrementally saved state,
// and checks every answer against the reference fold each time.
func TestCustomersProjection(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	statePath := filepath.Join(dir, "projections.db")
	delivered := customerstest.World(4, 200)
	split := len(delivered) * 7 / 10
	appendAll := func(evs []domain.Event) {
		for i := 0; i < len(evs); i += 700 {
			if _, err := l.Append(evs[i:min(i+700, len(evs))]...); err != nil {
				t.Fatal(err)
			}
		}
	}
	appendAll(delivered[:split])
	e, err := Open(l, statePath, WithCheckpointEvery(0))
	if err != nil {
		t.Fatal(err)
	}
	st, names := reference(t, storedOrder(t, l))
	sameAnswers(t, "first build", engineAnswers(t, e), referenceAnswers(t, st, names))
	before, _ := e.Review(context.Background(), testReviews[0])

	appendAll(delivered[split:])
	stored := storedOrder(t, l)
	if len(stored) == len(delivered) {
		t.Fatal("the log dropped no duplicate")
	}
	st, names = reference(t, stored)
	want := referenceAnswers(t, st, names)
	sameAnswers(t, "advanced", engineAnswers(t, e), want)
	after, _ := e.Review(context.Background(), testReviews[0])
	if b, a := mustJSON(before.Defected), mustJSON(after.Defected); b == a {
		t.Fatalf("late events did not restate 2025-06: %s", a)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The state was saved by entries: one per customer, and a header.
	db, err := bolt.Open(statePath, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var entries int
	var marker []byte
	err = db.View(func(tx *bolt.Tx) error {
		marker = append(marker, tx.Bucket(bucketState).Get([]byte(customersName))...)
		b := tx.Bucket(bucketEntries).Bucket([]byte(customersName))
		entries = b.Stats().KeyN
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if string(marker) != string(incrementalMarker) || entries != st.Customers()+1 {
		t.Fatalf("saved state %q with %d entries; want the marker and %d customers + header", marker, entries, st.Customers())
	}

	e = openTestEngine(t, l, statePath, WithCheckpointEvery(0))
	sameAnswers(t, "reopened", engineAnswers(t, e), want)

	// One more event: only its customer is dirty, and only it is written.
	c := stored[len(stored)-1].Data.CustomerID
	ev := domain.Event{ID: "extra-1", Source: "test", Type: domain.TypeComplaintFiled, Time: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC),
		Subject: c, Schema: domain.CurrentSchema, Data: domain.Data{CustomerID: c, Category: "billing"}}
	if _, err := l.Append(ev); err != nil {
		t.Fatal(err)
	}
	engineAnswers(t, e)
	p := e.projs[customersName]
	p.mu.Lock()
	dirty := p.f.(*customersFold).st.Dirty()
	p.mu.Unlock()
	if dirty != 1 {
		t.Fatalf("%d customers dirty after one event, want 1", dirty)
	}
	e.saveDirty(true)
	p.mu.Lock()
	dirty = p.f.(*customersFold).st.Dirty()
	p.mu.Unlock()
	if dirty != 0 {
		t.Fatalf("%d customers dirty after a save", dirty)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestReviewShowsErasedCustomers forgets a lost customer and checks that the
// review shows its pseudonym and the same figures.
func TestReviewShowsErasedCustomers(t *testing.T) {
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	mk := func(id string, typ domain.Type, at string, d domain.Data) domain.Event {
		tm, _ := time.Parse(time.RFC3339, at)
		d.CustomerID = "C-1042"
		return domain.Event{ID: id, Source: "crm", Type: typ, Time: tm, Subject: "C-1042", Schema: domain.CurrentSchema, Data: d}
	}
	evs := []domain.Event{
		mk("a", domain.TypeCustomerAcquired, "2025-01-10T09:00:00Z", domain.Data{Segment: "enterprise"}),
		mk("b", domain.TypeComplaintFiled, "2025-08-01T09:00:00Z", domain.Data{Category: "billing", Channel: "phone", Severity: 3}),
		mk("c", domain.TypeCustomerDefected, "2025-08-14T09:00:00Z", domain.Data{Reason: "price", Amount: 6123400, Currency: "USD"}),
	}
	if _, err := l.Append(evs...); err != nil {
		t.Fatal(err)
	}
	e := openTestEngine(t, l, "")
	q := customers.ReviewQuery{Period: "2025-Q3", Now: testNow}
	r, err := e.Review(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Customers) != 1 || r.Customers[0].CustomerID != "C-1042" {
		t.Fatalf("before: %s", mustJSON(r.Customers))
	}
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "request", RequestedBy: "dpo", ScrubWait: time.Second}); err != nil {
		t.Fatal(err)
	}
	r2, err := e.Review(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(r2.Customers) != 1 || !strings.HasPrefix(r2.Customers[0].CustomerID, "erased-") ||
		r2.Callbacks[0].CustomerID != r2.Customers[0].CustomerID || *r2.Customers[0].Value != "61234.00" {
		t.Fatalf("after forget: %s", mustJSON(r2))
	}
	if mustJSON(r2.Defected) != mustJSON(r.Defected) || !slices.Equal(reviewNames(r2), []string{r2.Customers[0].CustomerID}) {
		t.Fatalf("figures changed: %s vs %s", mustJSON(r2.Defected), mustJSON(r.Defected))
	}
}

func reviewNames(r *customers.Review) []string {
	var out []string
	for _, c := range r.Customers {
		out = append(out, c.CustomerID)
	}
	return out
}

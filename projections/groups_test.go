package projections

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
)

// TestGroupsAreBounded: a projection, a trend and a replay past the group
// bound fail with an error that says what to change, the build stops and
// the failed projection lets go of its state; a live projection that grows
// past the bound fails the same way.
func TestGroupsAreBounded(t *testing.T) {
	const limit = 200
	l, e := openRandomEngine(t, 51, 3000, WithMaxGroups(limit))
	ctx := context.Background()
	isBound := func(err error, what string) {
		t.Helper()
		if !errors.Is(err, ErrTooManyGroups) || domain.ErrorCode(err) != domain.EINVALID ||
			!strings.Contains(err.Error(), fmt.Sprintf("more than %d", limit)) || !strings.Contains(err.Error(), what) {
			t.Fatalf("error %v, want the group bound naming %q", err, what)
		}
	}
	sp, _ := ParseSpec([]byte("name: per-customer-day\ngroup_by: [customer_id]\nbucket: day\n"))
	if _, err := e.Create(sp); err != nil {
		t.Fatal(err)
	}
	_, err := e.Query(ctx, sp.Name, AsOf{})
	isBound(err, "projection per-customer-day (customer_id per day)")
	st, _ := e.Status(sp.Name)
	if st.State != "failed" || !strings.Contains(st.Error, "raise --max-groups") || st.MemoryBytes > 10_000 {
		t.Fatalf("status %+v", st)
	}
	_, err = e.Query(ctx, sp.Name, AsOf{Seq: l.LastSeq()})
	isBound(err, "customer_id per day")

	_, err = e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory, DimSegment, DimChannel}, Bucket: domain.BucketDay})
	isBound(err, "trend by category × segment × channel per day")
	// Few cells, but more rows than the bound once every key is shown in
	// every bucket.
	_, err = e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory}, Bucket: domain.BucketQuarter, From: "1990-Q1", To: "2026-Q4"})
	isBound(err, "this trend would have")

	_, err = Replay(ctx, l, sp, nil, WithMaxGroups(limit))
	isBound(err, "customer_id per day")

	// Live: within the bound at first, past it after more events.
	small, _ := ParseSpec([]byte("name: per-customer\ngroup_by: [customer_id]\nbucket: quarter\nfilter: {types: [complaint.filed], to: 2024-04-01}\n"))
	if _, err := e.Create(small); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(ctx, small.Name, AsOf{}); err != nil {
		t.Fatalf("within the bound: %v", err)
	}
	g := newGen(52)
	g.custs = 5000
	appendRandom(t, l, g, 8000)
	_, err = e.Query(ctx, small.Name, AsOf{})
	isBound(err, "customer_id per quarter")
	if st, _ := e.Status(small.Name); st.State != "failed" {
		t.Fatalf("status %+v", st)
	}
}

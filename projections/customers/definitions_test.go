package customers

import (
	"math"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// hist builds small hand-made histories.
type hist struct {
	t  *testing.T
	s  *State
	ks *keys
	n  int
}

func newHist(t *testing.T) *hist { return &hist{t: t, s: New(), ks: newKeys()} }

func at(s string) time.Time {
	if len(s) == 10 {
		s += "T12:00:00Z"
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// add folds one event of customer c at time when (a date or RFC 3339).
func (h *hist) add(typ domain.Type, c, when string, d domain.Data) {
	h.t.Helper()
	h.n++
	d.CustomerID = c
	ev := domain.Event{ID: string(rune(h.n)), Source: "t", Type: typ, Time: at(when), Data: d}
	f, ok := FactOf(&ev, h.ks.key(c), h.s.Strs)
	if !ok {
		h.t.Fatalf("%s not folded", typ)
	}
	if err := h.s.Apply(f); err != nil {
		h.t.Fatal(err)
	}
}

func usd(cents int64) domain.Data { return domain.Data{Amount: domain.Money(cents), Currency: "USD"} }

func (h *hist) review(period string) *Review {
	h.t.Helper()
	r, err := h.s.Review(ReviewQuery{Period: period, Now: at("2030-01-01")}, h.ks.name)
	if err != nil {
		h.t.Fatal(err)
	}
	return r
}

func TestSegmentIsTheEventsOrTheLatestAcquisitions(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeCustomerAcquired, "A", "2025-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeCustomerDefected, "A", "2025-03-01", domain.Data{})                      // smb (acquisition)
	h.add(domain.TypeCustomerAcquired, "A", "2025-05-01", domain.Data{Segment: "enterprise"}) // comes back
	h.add(domain.TypeCustomerDefected, "A", "2025-07-01", domain.Data{Segment: "public"})     // its own
	h.add(domain.TypeCustomerDefected, "B", "2025-07-02", domain.Data{})                      // never acquired
	h.add(domain.TypeCustomerAcquired, "B", "2025-08-01", domain.Data{Segment: "smb"})        // after: does not apply
	for p, want := range map[string]string{"2025-03": "smb", "2025-07": "public,(none)"} {
		r := h.review(p)
		got := ""
		for i, c := range r.Customers {
			if i > 0 {
				got += ","
			}
			got += c.Segment
		}
		if got != want {
			t.Errorf("%s: segments %s, want %s", p, got, want)
		}
	}
	// The late acquisition of B before its defection restates July.
	h.add(domain.TypeCustomerAcquired, "B", "2025-06-01", domain.Data{Segment: "consumer"})
	if r := h.review("2025-07"); r.Customers[1].Segment != "consumer" || r.BySegment[0].Count != 1 {
		t.Errorf("after a late acquisition: %s, by segment %+v", r.Customers[1].Segment, r.BySegment)
	}
}

func TestValueFallsBackToRevenueOfTheYearBeforeInTheTenure(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeCustomerAcquired, "A", "2023-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeRevenueRecorded, "A", "2023-06-01", usd(50000)) // before the first defection: first tenure
	h.add(domain.TypeCustomerDefected, "A", "2023-07-01", usd(700))  // stated
	h.add(domain.TypeCustomerAcquired, "A", "2024-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeRevenueRecorded, "A", "2024-07-01T12:00:00Z", usd(1000)) // exactly 365 days before: out
	h.add(domain.TypeRevenueRecorded, "A", "2024-07-02", usd(2000))
	h.add(domain.TypeRevenueRecorded, "A", "2025-06-30", usd(3000))
	h.add(domain.TypeRevenueRecorded, "A", "2025-07-01", domain.Data{Amount: 4000, Currency: "EUR"}) // at the defection: in
	h.add(domain.TypeCustomerDefected, "A", "2025-07-01", domain.Data{})
	h.add(domain.TypeCustomerDefected, "B", "2025-07-03", domain.Data{}) // nothing to fall back on
	r := h.review("2025-07")
	a, b := r.Customers[0], r.Customers[1]
	if a.ValueSource != "revenue_365d" || len(a.Values) != 2 || a.Values[0] != (Amount{"EUR", "40.00"}) || a.Values[1] != (Amount{"USD", "50.00"}) || a.Value != nil {
		t.Errorf("A: %+v", a)
	}
	if b.ValueSource != "none" || len(b.Values) != 0 || b.Value != nil {
		t.Errorf("B: %+v", b)
	}
	if r.Defected.NoValue != 1 || r.Defected.Stated != 0 || len(r.Defected.Value) != 2 {
		t.Errorf("totals: %+v", r.Defected)
	}
	if r := h.review("2023-07"); *r.Customers[0].Value != "7.00" || r.Customers[0].ValueSource != "stated" || r.Defected.Stated != 1 {
		t.Errorf("stated value: %+v", r.Customers[0])
	}
	// A late revenue event inside the window restates the defection's value.
	h.add(domain.TypeRevenueRecorded, "A", "2025-01-15", usd(500))
	if r := h.review("2025-07"); r.Customers[0].Values[1].Amount != "55.00" || r.Defected.Value[1].Amount != "55.00" {
		t.Errorf("after a late revenue: %+v", r.Customers[0].Values)
	}
}

func TestComplaintsOfTheNinetyDaysBefore(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeComplaintFiled, "A", "2025-04-02T09:00:00Z", domain.Data{Category: "old"}) // exactly 90 days: out
	h.add(domain.TypeComplaintFiled, "A", "2025-04-03T09:00:00Z", domain.Data{Category: "billing", ComplaintID: "K1"})
	h.add(domain.TypeComplaintResolved, "A", "2025-04-05T09:00:00Z", domain.Data{ComplaintID: "K1"})
	h.add(domain.TypeComplaintFiled, "A", "2025-07-01T09:00:00Z", domain.Data{Category: "outage", ComplaintID: "K2"})
	h.add(domain.TypeCustomerDefected, "A", "2025-07-01T09:00:00Z", domain.Data{})
	h.add(domain.TypeComplaintFiled, "A", "2025-07-01T09:00:00Z", domain.Data{Category: "same-time"}) // at the defection: in
	h.add(domain.TypeComplaintFiled, "A", "2025-07-02T09:00:00Z", domain.Data{Category: "after"})
	h.add(domain.TypeComplaintResolved, "A", "2025-07-09T09:00:00Z", domain.Data{ComplaintID: "K2"}) // after leaving
	cs := h.review("2025-07").Customers[0].Complaints
	if len(cs) != 3 || cs[0].Category != "billing" || !cs[0].Resolved || cs[0].ResolvedAt.Day() != 5 ||
		cs[1].Category != "outage" || !cs[1].Resolved || cs[2].Category != "same-time" || cs[2].Resolved {
		t.Fatalf("complaints: %+v", cs)
	}
}

func TestComeBackStartsANewTenure(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeCustomerAcquired, "A", "2024-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeCustomerDefected, "A", "2024-06-01", usd(100))
	h.add(domain.TypeCustomerAcquired, "A", "2025-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeCustomerDefected, "A", "2025-03-01", usd(200))
	first, second := h.review("2024-Q2"), h.review("2025-Q1")
	if first.Defected.Count != 1 || second.Defected.Count != 1 || first.Customers[0].Tenure != 1 || second.Customers[0].Tenure != 2 ||
		!second.Customers[0].CustomerAt.Equal(at("2025-01-01")) || *second.Customers[0].Value != "2.00" {
		t.Fatalf("first %+v\nsecond %+v", first.Customers, second.Customers)
	}
	// A late defection inside the second tenure splits it.
	h.add(domain.TypeCustomerDefected, "A", "2025-02-01", usd(300))
	if r := h.review("2025-Q1"); r.Defected.Count != 2 || r.Customers[1].Tenure != 3 || r.Customers[1].CustomerAt != nil {
		t.Fatalf("after a late defection: %+v", r.Customers)
	}
}

func TestCallbacksByValueThenRecencyThenID(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeCustomerDefected, "C", "2025-09-01", usd(5000))
	h.add(domain.TypeCustomerDefected, "B", "2025-09-03", usd(5000))
	h.add(domain.TypeCustomerDefected, "A", "2025-09-03", usd(5000))
	h.add(domain.TypeCustomerDefected, "D", "2025-09-02", usd(9000))
	h.add(domain.TypeCustomerDefected, "E", "2025-09-02", domain.Data{Amount: 100, Currency: "EUR"})
	h.add(domain.TypeCustomerDefected, "F", "2025-09-02", domain.Data{}) // no value: not ranked
	r, err := h.s.Review(ReviewQuery{Period: "2025-09", Top: 3, Now: at("2030-01-01")}, h.ks.name)
	if err != nil {
		t.Fatal(err)
	}
	got := ""
	for _, c := range r.Callbacks {
		got += c.Currency + ":" + c.CustomerID + " "
	}
	if got != "EUR:E USD:D USD:A USD:B " {
		t.Fatalf("callbacks %s", got)
	}
}

func TestLiftBaseRateAndRevenueAtRisk(t *testing.T) {
	h := newHist(t)
	// Four billing complainants: one leaves 10 days after, one 100 days
	// after (outside 90), two stay; one of those complained in the last 90
	// days and paid 1200.00 in the year.
	for _, c := range []string{"A", "B", "C", "D"} {
		h.add(domain.TypeCustomerAcquired, c, "2024-01-01", domain.Data{Segment: "smb"})
	}
	h.add(domain.TypeComplaintFiled, "A", "2024-03-01", domain.Data{Category: "billing"})
	h.add(domain.TypeCustomerDefected, "A", "2024-03-11", usd(50000))
	h.add(domain.TypeComplaintFiled, "B", "2024-03-01", domain.Data{Category: "billing"})
	h.add(domain.TypeCustomerDefected, "B", "2024-06-09", usd(1))
	h.add(domain.TypeComplaintFiled, "C", "2024-03-01", domain.Data{Category: "billing"})
	h.add(domain.TypeRevenueRecorded, "D", "2024-09-01", usd(120000))
	h.add(domain.TypeComplaintFiled, "D", "2024-11-01", domain.Data{Category: "billing"})
	// Non-complainants: E and F, acquired 2024-01-01; E leaves after 100 days.
	h.add(domain.TypeCustomerAcquired, "E", "2024-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeCustomerDefected, "E", "2024-04-10", domain.Data{})
	h.add(domain.TypeCustomerAcquired, "F", "2024-01-01", domain.Data{Segment: "smb"})
	h.add(domain.TypeReferralMade, "F", "2024-12-31", domain.Data{}) // the end of the history
	l, err := h.s.Linkage(LinkageQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Rows) != 1 {
		t.Fatalf("rows %+v", l.Rows)
	}
	r := l.Rows[0]
	// E: 100 days, F: 2024-01-01 to 2024-12-31 = 365 days; 1 defection.
	wantBase := 1 - math.Exp(-90.0*1/465)
	if r.Complainants != 4 || r.Defected != 1 || r.DefectionRate != 0.25 || l.NonComplainants != 2 || l.ExposureDays != 465 ||
		math.Abs(*r.BaseRate-wantBase) > 1e-12 || math.Abs(*r.Lift-0.25/wantBase) > 1e-9 {
		t.Fatalf("row %+v base %v (want %v), exposure %v", r, *r.BaseRate, wantBase, l.ExposureDays)
	}
	// At risk: D only (C's complaint is older than 90 days): 1200.00 × 1/4.
	if r.AtRisk != 1 || len(r.RevenueAtRisk) != 1 || r.RevenueAtRisk[0].Amount != "300.00" || r.ValueLost[0].Amount != "500.00" {
		t.Fatalf("at risk %d %+v, value lost %+v", r.AtRisk, r.RevenueAtRisk, r.ValueLost)
	}
	// A 100-day window links B too.
	l, _ = h.s.Linkage(LinkageQuery{Window: 100 * 24 * time.Hour})
	if l.Rows[0].Defected != 2 || l.Rows[0].ValueLost[0].Amount != "500.01" {
		t.Fatalf("100 days: %+v", l.Rows[0])
	}
}

func TestRevenueAtRiskRoundsHalfAwayFromZero(t *testing.T) {
	if got := scaleRat(SumOf(1001), 1, 2, "USD"); got != "5.01" { // 500.5 cents
		t.Fatalf("got %s", got)
	}
	if got := scaleRat(SumOf(-1001), 1, 2, "USD"); got != "-5.01" {
		t.Fatalf("got %s", got)
	}
}

func TestScorecardChangesAndPartialMonth(t *testing.T) {
	h := newHist(t)
	h.add(domain.TypeCustomerAcquired, "A", "2025-09-03", domain.Data{Segment: "smb", Amount: 10000, Currency: "USD"})
	h.add(domain.TypeCustomerAcquired, "B", "2025-10-03", domain.Data{Segment: "smb"})
	h.add(domain.TypeCustomerAcquired, "C", "2025-10-04", domain.Data{Segment: "smb"})
	h.add(domain.TypeRevenueRecorded, "A", "2025-09-30", domain.Data{Amount: 10000, Currency: "USD", Cost: 6000, HasCost: true})
	h.add(domain.TypeRevenueRecorded, "A", "2025-10-31", domain.Data{Amount: 12000, Currency: "USD", Cost: 6000, HasCost: true})
	h.add(domain.TypeRevenueRecorded, "B", "2025-10-31", domain.Data{Amount: 1000, Currency: "USD"}) // no cost
	h.add(domain.TypeCustomerRenewed, "A", "2025-10-05", domain.Data{Reason: "price-lock"})
	sc, err := h.s.Scorecard(ScorecardQuery{From: "2025-09", To: "2025-10", Now: at("2025-10-20")})
	if err != nil {
		t.Fatal(err)
	}
	sep, oct := sc.Rows[0], sc.Rows[1]
	if sep.Partial || !oct.Partial {
		t.Fatalf("partial: %v %v", sep.Partial, oct.Partial)
	}
	if oct.NewCustomers != (Count{Count: 2, Prev: 1, Change: 1, Pct: oct.NewCustomers.Pct}) || *oct.NewCustomers.Pct != 100 {
		t.Fatalf("new: %+v", oct.NewCustomers)
	}
	p := oct.Revenue[0]
	if p.Revenue.Amount != "130.00" || p.Revenue.Change != "30.00" || *p.Revenue.Pct != 30 || p.Cost.Amount != "60.00" ||
		p.Profit.Amount != "70.00" || p.Profit.Prev != "40.00" || *p.Profit.Pct != 75 || p.Uncosted != "10.00" {
		t.Fatalf("revenue: %+v", p)
	}
	if len(oct.RenewalsBy) != 1 || oct.RenewalsBy[0].Reason != "price-lock" || oct.Renewals.Count != 1 {
		t.Fatalf("renewals: %+v", oct.RenewalsBy)
	}
	if len(oct.NewValue) != 1 || oct.NewValue[0].Amount != "0.00" || oct.NewValue[0].Change != "-100.00" {
		t.Fatalf("new value: %+v", oct.NewValue)
	}
	r, _ := h.s.Review(ReviewQuery{Period: "2025-Q4", Now: at("2025-10-20")}, h.ks.name)
	if !r.Partial || r.Defected.Change.PrevPartial {
		t.Fatalf("review partial %v prev %v", r.Partial, r.Defected.Change.PrevPartial)
	}
}

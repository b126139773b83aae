package customers

import (
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// linkageWorld returns a state of n customers, each acquired, with two
// complaints of different categories, revenue and, every third, a
// defection after the complaints (with a stated value every sixth).
func linkageWorld(t *testing.T, n int) *State {
	t.Helper()
	s := New()
	cats := [...]uint32{s.Strs.Intern("billing"), s.Strs.Intern("outage")}
	seg, usd := s.Strs.Intern("smb"), s.Strs.Intern("USD")
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	var facts []Fact
	for c := range n {
		key, t := uint32(1+c), t0+int64(c)*1e9
		facts = append(facts,
			Fact{Type: domain.TypeCustomerAcquired, Time: t, Customer: key, Segment: seg},
			Fact{Type: domain.TypeRevenueRecorded, Time: t + 10*day, Customer: key, Currency: usd, Amount: 5000},
			Fact{Type: domain.TypeComplaintFiled, Time: t + 20*day, Customer: key, Category: cats[c%2], Severity: 2},
			Fact{Type: domain.TypeComplaintFiled, Time: t + 30*day, Customer: key, Category: cats[(c+1)%2], Severity: 3})
		if c%3 == 0 {
			f := Fact{Type: domain.TypeCustomerDefected, Time: t + 40*day, Customer: key}
			if c%6 == 0 {
				f.Currency, f.Amount = usd, 900
			}
			facts = append(facts, f)
		}
	}
	if err := s.ApplyAll(facts); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLinkageAllocatesNothingPerCustomer checks that a linkage, which
// reads every customer's history, allocates as much over 8,000 customers
// as over 1,000: allocating two maps and slices for each complainant made
// it ~60% slower on a 1M-customer state.
func TestLinkageAllocatesNothingPerCustomer(t *testing.T) {
	allocs := func(n int) float64 {
		s := linkageWorld(t, n)
		for _, bySeg := range []bool{false, true} {
			l, err := s.Linkage(LinkageQuery{BySegment: bySeg})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Rows) != 2 || l.Rows[0].Complainants+l.Rows[1].Complainants != int64(2*n) {
				t.Fatalf("%d customers: rows %+v", n, l.Rows)
			}
		}
		return testing.AllocsPerRun(5, func() {
			if _, err := s.Linkage(LinkageQuery{}); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, big := allocs(1000), allocs(8000)
	if big > small+20 {
		t.Fatalf("a linkage allocates %.0f times over 8,000 customers, %.0f over 1,000: it allocates per customer", big, small)
	}
	t.Logf("allocations: %.0f over 1,000 customers, %.0f over 8,000", small, big)
}

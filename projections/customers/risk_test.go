package customers

import (
	"cmp"
	"fmt"
	"math/big"
	"slices"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/customers/customerstest"
)

// TestValueAtRiskMatchesNaiveRecomputation checks an alert's value at
// risk against a recomputation from the raw events: for the customers who
// complained of a category in the weeks before as-of (an alert's customers
// affected), the revenue of those who have not defected since in the 365
// days up to as-of (after their last defection) × the category's defection
// rate of the naive linkage, exactly.
func TestValueAtRiskMatchesNaiveRecomputation(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		evs := customerstest.Dedupe(customerstest.World(seed, 260))
		nv := newNaive(evs)
		ks := newKeys()
		s := fold(t, evs, 5000, ks)
		asOf := time.Unix(0, s.Latest()).UTC()
		l, err := s.Linkage(LinkageQuery{})
		if err != nil {
			t.Fatal(err)
		}
		want := nv.linkage(LinkageQuery{}, asOf)
		rate := map[string][2]int64{}
		for _, r := range want.Rows {
			rate[r.Category] = [2]int64{r.Defected, r.Complainants}
		}
		var qs []RiskQuery
		var wants [][]Amount
		nonzero := 0
		for _, weeks := range []int{1, 4, 13} {
			since := asOf.AddDate(0, 0, -7*weeks)
			affected := map[string]map[string]bool{} // category → customer ids
			for _, ev := range evs {
				if ev.Type == domain.TypeComplaintFiled && !ev.Time.Before(since) && !ev.Time.After(asOf) {
					if affected[ev.Data.Category] == nil {
						affected[ev.Data.Category] = map[string]bool{}
					}
					affected[ev.Data.Category][ev.Data.CustomerID] = true
				}
			}
			cats := make([]string, 0, len(affected))
			for c := range affected {
				cats = append(cats, c)
			}
			slices.Sort(cats)
			for _, cat := range cats {
				q := RiskQuery{Category: cat, Since: since}
				value := nmoney{}
				for id := range affected[cat] {
					q.Customers = append(q.Customers, ks.key(id))
					idx := nv.by[id]
					defected, last := false, -1
					for pos, i := range idx {
						e := &nv.evs[i]
						if e.Type != domain.TypeCustomerDefected || e.Time.After(asOf) {
							continue
						}
						last = pos
						defected = defected || !e.Time.Before(since)
					}
					if defected {
						continue
					}
					for pos, i := range idx {
						e := &nv.evs[i]
						if pos > last && e.Type == domain.TypeRevenueRecorded && !e.Time.After(asOf) && e.Time.After(asOf.Add(-365*24*time.Hour)) {
							value.add(e.Data.Currency, int64(e.Data.Amount))
						}
					}
				}
				slices.Sort(q.Customers)
				r, ok := rate[cat]
				var w []Amount
				if ok {
					w = []Amount{}
					for c, v := range value {
						x := new(big.Rat).SetFrac(new(big.Int).Mul(v, big.NewInt(r[0])), big.NewInt(r[1]))
						w = append(w, Amount{Currency: c, Amount: roundRat(x, c)})
						if x.Sign() != 0 {
							nonzero++
						}
					}
					slices.SortFunc(w, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
				}
				qs, wants = append(qs, q), append(wants, w)
			}
		}
		// A category the linkage does not know, and an unknown customer.
		qs = append(qs, RiskQuery{Category: "no-such-category", Customers: []uint32{1}, Since: asOf}, RiskQuery{Category: qs[0].Category, Customers: []uint32{1 << 30}, Since: asOf})
		wants = append(wants, nil, []Amount{})
		got, err := s.ValueAtRisk(l, qs)
		if err != nil {
			t.Fatal(err)
		}
		if nonzero < 3 {
			t.Fatalf("seed %d: only %d non-zero values at risk: the check proves little", seed, nonzero)
		}
		for i := range qs {
			sameJSON(t, fmt.Sprintf("seed %d value at risk of %s since %s", seed, qs[i].Category, qs[i].Since.Format(time.DateOnly)), got[i], wants[i])
		}
		if _, err := s.ValueAtRisk(&Linkage{By: "category,segment", AsOf: l.AsOf}, qs); err == nil {
			t.Error("a linkage by segment was accepted")
		}
	}
}

// Package customerstest generates customer histories for the tests of the
// per-customer projection: every case its definitions care about.
package customerstest

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// World generates a history with every case the definitions care about:
// customers who defect with no complaint before, who come back and defect
// again, defections without a stated value (some without any revenue
// either), customers the log never saw acquired, events without a segment,
// two currencies, costs, renewal reasons, competitors, complaint ids and
// their resolutions, late events and duplicates. It returns the events as
// delivered (late ones after later events, duplicates included).
func World(seed uint64, customers int) []domain.Event {
	r := rand.New(rand.NewPCG(seed, seed*7+1))
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	segs := []string{"enterprise", "smb", "consumer"}
	cats := []string{"billing", "outage", "price-increase", "support-wait"}
	reasons := []string{"price", "service-quality", "relocation", ""}
	var evs []domain.Event
	n := 0
	add := func(t domain.Type, at time.Time, cust string, d domain.Data) {
		if !at.Before(end) {
			return
		}
		n++
		d.CustomerID = cust
		evs = append(evs, domain.Event{ID: fmt.Sprintf("e-%d", n), Source: "test", Type: t, Time: at.Truncate(time.Second),
			Subject: cust, Schema: domain.CurrentSchema, Data: d})
	}
	rnd := func(from time.Time, days int) time.Time {
		return from.Add(time.Duration(r.Int64N(int64(days) * int64(24*time.Hour))))
	}
	cmp := 0
	for i := range customers {
		cust := fmt.Sprintf("C-%03d", i)
		cur := "EUR"
		if i%5 == 0 {
			cur = "USD"
		}
		t := rnd(start, 120)
		preexisting := i%9 == 0
		for tenure := 0; tenure < 3 && t.Before(end); tenure++ {
			seg := segs[r.IntN(len(segs))]
			if !preexisting || tenure > 0 {
				d := domain.Data{Segment: seg}
				if r.IntN(3) == 0 {
					d.Amount, d.Currency = domain.Money(1000+r.IntN(90000)), cur
				}
				add(domain.TypeCustomerAcquired, t, cust, d)
			}
			life := 30 + r.IntN(400)
			stop := t.Add(time.Duration(life) * 24 * time.Hour)
			noRevenue := i%11 == 3
			for m := t.AddDate(0, 1, 0); m.Before(stop); m = m.AddDate(0, 1, 0) {
				if !noRevenue {
					d := domain.Data{Amount: domain.Money(500 + r.IntN(20000)), Currency: cur}
					if r.IntN(4) != 0 {
						d.Cost, d.HasCost = domain.Money(r.IntN(int(d.Amount))), true
					}
					if r.IntN(2) == 0 {
						d.Segment = seg
					}
					add(domain.TypeRevenueRecorded, m, cust, d)
				}
				if i%4 != 1 && r.IntN(3) == 0 { // i%4 == 1: never complains
					cmp++
					cid := fmt.Sprintf("K-%d", cmp)
					ct := rnd(m, 28)
					d := domain.Data{Category: cats[r.IntN(len(cats))], Channel: "phone", Severity: uint8(1 + r.IntN(5))}
					if r.IntN(5) != 0 {
						d.ComplaintID = cid
					}
					if r.IntN(2) == 0 {
						d.Segment = seg
					}
					add(domain.TypeComplaintFiled, ct, cust, d)
					if d.ComplaintID != "" && r.IntN(3) != 0 {
						add(domain.TypeComplaintResolved, ct.Add(time.Duration(r.IntN(20*24))*time.Hour), cust, domain.Data{ComplaintID: cid})
					}
				}
				if r.IntN(12) == 0 {
					d := domain.Data{Reason: reasons[r.IntN(len(reasons))]}
					if r.IntN(2) == 0 {
						d.Amount, d.Currency = domain.Money(r.IntN(100000)), cur
					}
					add(domain.TypeCustomerRenewed, rnd(m, 20), cust, d)
				}
				if r.IntN(15) == 0 {
					add(domain.TypeReferralMade, rnd(m, 20), cust, domain.Data{ReferredID: "R-" + cust})
				}
			}
			if r.IntN(4) == 0 && tenure == 0 {
				break // stays
			}
			d := domain.Data{Reason: reasons[r.IntN(len(reasons))]}
			if r.IntN(3) == 0 {
				d.Competitor = "rival"
			}
			if r.IntN(2) == 0 {
				d.Amount, d.Currency = domain.Money(r.IntN(500000)), cur
			}
			if r.IntN(2) == 0 {
				d.Segment = seg
			}
			add(domain.TypeCustomerDefected, stop, cust, d)
			t = stop.Add(time.Duration(20+r.IntN(200)) * 24 * time.Hour)
		}
	}
	slices.SortStableFunc(evs, func(a, b domain.Event) int { return a.Time.Compare(b.Time) })
	// Late: some events are delivered up to 200 days after their time.
	var onTime, late []domain.Event
	for _, ev := range evs {
		if r.IntN(20) == 0 {
			late = append(late, ev)
		} else {
			onTime = append(onTime, ev)
		}
	}
	out := make([]domain.Event, 0, len(evs)*11/10)
	li := 0
	for _, ev := range onTime {
		for li < len(late) && late[li].Time.Add(time.Duration(1+r.IntN(200))*24*time.Hour).Before(ev.Time) {
			out = append(out, late[li])
			li++
		}
		out = append(out, ev)
		if r.IntN(30) == 0 && len(out) > 2 { // a duplicate of an earlier event
			out = append(out, out[r.IntN(len(out)-1)])
		}
	}
	return append(out, late[li:]...)
}

// Dedupe drops events whose (source, id) came before, as the log does.
func Dedupe(evs []domain.Event) []domain.Event {
	seen := map[string]bool{}
	var out []domain.Event
	for _, ev := range evs {
		k := ev.Source + "\x00" + ev.ID
		if !seen[k] {
			seen[k] = true
			out = append(out, ev)
		}
	}
	return out
}

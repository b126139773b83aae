package customers

import (
	"cmp"
	"math/big"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// ScorecardQuery asks for the five scorecard metrics month by month.
type ScorecardQuery struct {
	From, To string // months, both included (2025-01, 2025-12)
	// BySegment breaks every month down by customer segment; otherwise
	// each month has one row for all customers.
	BySegment bool
	Now       time.Time // decides which month is still running (zero: the wall clock)
}

// MaxScorecardMonths bounds the months of one scorecard.
const MaxScorecardMonths = 600

// Count is a count with its month-over-month change.
type Count struct {
	Count  int64    `json:"count"`
	Prev   int64    `json:"prev"`
	Change int64    `json:"change"`
	Pct    *float64 `json:"pct_change"`
}

// MoneyChange is an amount in one currency with its month-over-month change.
type MoneyChange struct {
	Currency string   `json:"currency"`
	Amount   string   `json:"amount"`
	Prev     string   `json:"prev"`
	Change   string   `json:"change"`
	Pct      *float64 `json:"pct_change"`
}

// ReasonCount is a count for one reason.
type ReasonCount struct {
	Reason string `json:"reason"`
	Count
}

// Profit is the revenue, cost and profit of one currency.
type Profit struct {
	Currency string      `json:"currency"`
	Revenue  MoneyChange `json:"revenue"`
	Cost     MoneyChange `json:"cost"`
	Profit   MoneyChange `json:"profit"`
	// Uncosted is the revenue of events that carried no cost: profit counts
	// it whole, so a large share of it overstates profitability.
	Uncosted string `json:"uncosted_revenue"`
}

// ScoreRow is one month of one group.
type ScoreRow struct {
	Period        string        `json:"period"`
	Segment       string        `json:"segment"` // "(all)" without a breakdown
	Partial       bool          `json:"partial"`
	NewCustomers  Count         `json:"new_customers"`
	NewValue      []MoneyChange `json:"new_value"`
	LostCustomers Count         `json:"lost_customers"`
	LostValue     []MoneyChange `json:"lost_value"`
	Renewals      Count         `json:"renewals"`
	RenewalValue  []MoneyChange `json:"renewal_value"`
	RenewalsBy    []ReasonCount `json:"renewals_by_reason"`
	Referrals     Count         `json:"referrals"`
	Revenue       []Profit      `json:"revenue"`
}

// Scorecard is the five metrics by group, month by month.
type Scorecard struct {
	From    string     `json:"from"`
	To      string     `json:"to"`
	By      string     `json:"by"`
	AsOfSeq uint64     `json:"as_of_seq,omitempty"`
	Rows    []ScoreRow `json:"rows"`
}

// allLabel is the group of every customer.
const allLabel = "(all)"

// monthAcc holds one group's figures of one month.
type monthAcc struct {
	n                   [mReferral + 1]int64
	val                 [mReferral + 1][]money
	renewBy             map[uint32]int64
	revenue, cost, unco []money
}

// Validate reports whether Scorecard can answer q: both months parse, to is
// not before from, and the range is at most MaxScorecardMonths long. The
// HTTP and CLI edges call it so that a query they accept is answered.
func (q ScorecardQuery) Validate() error {
	_, _, err := q.months()
	return err
}

// months returns q's first and last month.
func (q ScorecardQuery) months() (from, to domain.Period, err error) {
	if from, err = ParseMonth("from", q.From); err != nil {
		return from, to, err
	}
	if to, err = ParseMonth("to", q.To); err != nil {
		return from, to, err
	}
	lo, hi := monthIndex(from.Start.UnixNano()), monthIndex(to.Start.UnixNano())
	if hi < lo {
		return from, to, domain.FieldErrorf("to", "%s is before from %s", q.To, q.From)
	}
	if hi-lo >= MaxScorecardMonths {
		return from, to, domain.FieldErrorf("to", "a scorecard covers at most %d months", MaxScorecardMonths)
	}
	return from, to, nil
}

// Scorecard answers q.
func (s *State) Scorecard(q ScorecardQuery) (*Scorecard, error) {
	from, to, err := q.months()
	if err != nil {
		return nil, err
	}
	lo, hi := monthIndex(from.Start.UnixNano()), monthIndex(to.Start.UnixNano())
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	type gk struct {
		m   int32
		seg uint32
	}
	acc := map[gk]*monthAcc{}
	segs := map[uint32]bool{}
	get := func(k gk) *monthAcc {
		a := acc[k]
		if a == nil {
			a = &monthAcc{renewBy: map[uint32]int64{}}
			acc[k] = a
		}
		return a
	}
	for _, sh := range s.shards {
		for k, c := range sh.agg {
			if k.month < lo-1 || k.month > hi {
				continue
			}
			seg := uint32(0)
			if q.BySegment {
				seg = k.seg
				if k.month >= lo {
					segs[seg] = true
				}
			}
			a := get(gk{k.month, seg})
			switch {
			case k.metric == mRevenue:
				a.n[mRevenue] += c.n
				a.revenue = addMoney(a.revenue, k.cur, c.amount)
				a.cost = addMoney(a.cost, k.cur, c.cost)
				a.unco = addMoney(a.unco, k.cur, c.uncosted)
			case k.cur == 0:
				a.n[k.metric] += c.n
				if k.metric == mRenew {
					a.renewBy[k.reason] += c.n
				}
			default:
				a.val[k.metric] = addMoney(a.val[k.metric], k.cur, c.amount)
			}
		}
	}
	if !q.BySegment {
		segs[0] = true
	}
	segList := make([]uint32, 0, len(segs))
	for id := range segs {
		segList = append(segList, id)
	}
	slices.SortFunc(segList, func(a, b uint32) int { return cmp.Compare(s.label(a), s.label(b)) })
	out := &Scorecard{From: from.String(), To: to.String(), By: "segment", Rows: []ScoreRow{}}
	if !q.BySegment {
		out.By = "all"
	}
	empty := &monthAcc{renewBy: map[uint32]int64{}}
	for m := lo; m <= hi; m++ {
		for _, seg := range segList {
			cur, prev := acc[gk{m, seg}], acc[gk{m - 1, seg}]
			if cur == nil {
				cur = empty
			}
			if prev == nil {
				prev = empty
			}
			row := ScoreRow{Period: monthLabel(m), Segment: allLabel, Partial: partial(monthStart(m+1), now)}
			if q.BySegment {
				row.Segment = s.label(seg)
			}
			row.NewCustomers = count(cur.n[mNew], prev.n[mNew])
			row.LostCustomers = count(cur.n[mLost], prev.n[mLost])
			row.Renewals = count(cur.n[mRenew], prev.n[mRenew])
			row.Referrals = count(cur.n[mReferral], prev.n[mReferral])
			row.NewValue = s.moneyChanges(cur.val[mNew], prev.val[mNew])
			row.LostValue = s.moneyChanges(cur.val[mLost], prev.val[mLost])
			row.RenewalValue = s.moneyChanges(cur.val[mRenew], prev.val[mRenew])
			row.RenewalsBy = []ReasonCount{}
			for r := range idUnion(cur.renewBy, prev.renewBy) {
				if cur.renewBy[r] == 0 && prev.renewBy[r] == 0 {
					continue
				}
				row.RenewalsBy = append(row.RenewalsBy, ReasonCount{Reason: s.label(r), Count: count(cur.renewBy[r], prev.renewBy[r])})
			}
			slices.SortFunc(row.RenewalsBy, func(a, b ReasonCount) int {
				if c := cmp.Compare(b.Count.Count, a.Count.Count); c != 0 {
					return c
				}
				return cmp.Compare(a.Reason, b.Reason)
			})
			row.Revenue = s.profits(cur, prev)
			out.Rows = append(out.Rows, row)
		}
	}
	return out, nil
}

func count(cur, prev int64) Count {
	return Count{Count: cur, Prev: prev, Change: cur - prev, Pct: pct(cur, prev)}
}

// moneyChanges pairs each currency of cur and prev.
func (s *State) moneyChanges(cur, prev []money) []MoneyChange {
	out := []MoneyChange{}
	for id := range currencyUnion(cur, prev) {
		out = append(out, s.moneyChange(id, find(cur, id), find(prev, id)))
	}
	slices.SortFunc(out, func(a, b MoneyChange) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

func find(ms []money, cur uint32) Sum {
	for _, m := range ms {
		if m.cur == cur {
			return m.sum
		}
	}
	return Sum{}
}

func (s *State) moneyChange(id uint32, cur, prev Sum) MoneyChange {
	code := s.Strs.Str(id)
	mc := MoneyChange{Currency: code, Amount: cur.Format(code), Prev: prev.Format(code), Change: cur.Sub(prev).Format(code)}
	if !prev.IsZero() {
		r := new(big.Rat).SetFrac(cur.Sub(prev).Big(), prev.Big())
		f, _ := r.Float64()
		v := float64(int64(f*1000+copysign(0.5, f))) / 10
		mc.Pct = &v
	}
	return mc
}

func (s *State) profits(cur, prev *monthAcc) []Profit {
	out := []Profit{}
	for id := range currencyUnion(cur.revenue, prev.revenue) {
		rc, rp := find(cur.revenue, id), find(prev.revenue, id)
		cc, cp := find(cur.cost, id), find(prev.cost, id)
		p := Profit{Currency: s.Strs.Str(id), Revenue: s.moneyChange(id, rc, rp), Cost: s.moneyChange(id, cc, cp),
			Profit: s.moneyChange(id, rc.Sub(cc), rp.Sub(cp))}
		p.Uncosted = find(cur.unco, id).Format(p.Currency)
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b Profit) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

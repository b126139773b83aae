package customers

import (
	"cmp"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/plaint/plaint/domain"
)

// DefaultWindow is the linkage window: a defection within it after a
// complaint is linked to the complaint.
const DefaultWindow = 90 * 24 * time.Hour

// LinkageQuery asks which complaints are followed by defections.
type LinkageQuery struct {
	// Window links a defection to the complaints in the Window before it
	// (0: DefaultWindow); whole days, 1 to 3650.
	Window time.Duration
	// BySegment breaks each category down by the complaint's segment.
	BySegment bool
	// From and To bound the complaints considered by event time (months,
	// both included; empty: the whole history).
	From, To string
	// AsOf is the end of the history (zero: the latest event time folded);
	// the revenue at risk looks at the Window before it.
	AsOf time.Time
	// Sort orders the rows: "risk" (revenue at risk, the default) or
	// "count" (complainants).
	Sort string
}

// LinkRow is the linkage of one complaint category (and segment).
type LinkRow struct {
	Category     string `json:"category"`
	Segment      string `json:"segment,omitempty"`
	Complainants int64  `json:"complainants"`
	Defected     int64  `json:"defected"`
	// DefectionRate is Defected / Complainants.
	DefectionRate float64 `json:"defection_rate"`
	// BaseRate is the Window-day defection risk of customers who did not
	// complain (of the row's segment, with a segment breakdown); Lift is
	// DefectionRate / BaseRate. Both are null when the base is unknown or
	// zero.
	BaseRate *float64 `json:"base_rate"`
	Lift     *float64 `json:"lift"`
	// ValueLost is the value of the linked defections, per currency.
	ValueLost []Amount `json:"value_lost"`
	// AtRisk counts the customers with a complaint of the row in the Window
	// before AsOf who have not defected since; RevenueAtRisk is their value
	// (revenue of the 365 days before AsOf) × DefectionRate, per currency.
	AtRisk        int64    `json:"at_risk_customers"`
	RevenueAtRisk []Amount `json:"revenue_at_risk"`
	RankByCount   int      `json:"rank_by_count"`
	RankByRisk    int      `json:"rank_by_risk"`

	riskKey Sum
}

// Linkage is the complaint → defection linkage.
type Linkage struct {
	WindowDays int    `json:"window_days"`
	By         string `json:"by"`
	From       string `json:"from,omitempty"`
	To         string `json:"to,omitempty"`
	AsOf       string `json:"as_of"`
	AsOfSeq    uint64 `json:"as_of_seq,omitempty"`
	// RiskCurrency is the currency the rank by revenue at risk compares.
	RiskCurrency string `json:"risk_currency,omitempty"`
	// The customers who filed no complaint in the range: how many, their
	// defections in it, the days they were customers in it, and the
	// Window-day risk that gives (1 - exp(-window × defections / days)).
	NonComplainants           int64     `json:"non_complainants"`
	NonComplainantsDefections int64     `json:"non_complainant_defections"`
	ExposureDays              float64   `json:"exposure_days"`
	BaseRate                  *float64  `json:"base_rate"`
	Rows                      []LinkRow `json:"rows"`
}

type linkKey struct{ cat, seg uint32 }

type linkAcc struct {
	complainants, defected, atRisk int64
	valueLost, riskValue           []money
}

type baseAcc struct {
	n, defections int64
	exposure      Sum // nanoseconds
}

// days returns the exposure in days.
func (b *baseAcc) days() float64 {
	f, _ := new(big.Rat).SetFrac(b.exposure.Big(), big.NewInt(day)).Float64()
	return f
}

type linkPart struct {
	rows map[linkKey]*linkAcc
	base map[uint32]*baseAcc
	err  error
	// What customer works with, kept from one customer to the next.
	seen        []linkSeen
	defs        []int
	vals, value []money
}

// Validate reports whether Linkage can answer q: the window is whole days
// from 1d to 3650d, the sort is known, the months parse and to is not before
// from. The HTTP and CLI edges call it so that a query they accept is
// answered.
func (q LinkageQuery) Validate() error {
	_, err := q.bounds()
	return err
}

// linkBounds is a checked LinkageQuery: its window and the event-time range
// [lo, hi) of the complaints it considers, with the dates that name it.
type linkBounds struct {
	window   time.Duration
	lo, hi   int64
	from, to string
}

// bounds checks q and returns its window and range.
func (q LinkageQuery) bounds() (linkBounds, error) {
	b := linkBounds{window: q.Window, lo: math.MinInt64, hi: math.MaxInt64}
	if b.window == 0 {
		b.window = DefaultWindow
	}
	if w := b.window; w%(24*time.Hour) != 0 || w < 24*time.Hour || w > 3650*24*time.Hour {
		return b, domain.FieldErrorf("window", "%s must be whole days from 1d to 3650d", w)
	}
	switch q.Sort {
	case "", "risk", "count":
	default:
		return b, domain.FieldErrorf("sort", "%q must be risk or count", q.Sort)
	}
	if q.From != "" {
		p, err := ParseMonth("from", q.From)
		if err != nil {
			return b, err
		}
		b.lo, b.from = p.Start.UnixNano(), p.Start.Format("2006-01-02")
	}
	if q.To != "" {
		p, err := ParseMonth("to", q.To)
		if err != nil {
			return b, err
		}
		b.hi, b.to = p.End().UnixNano(), p.End().Format("2006-01-02")
	}
	if b.hi <= b.lo {
		return b, domain.FieldErrorf("to", "%s is before from %s", q.To, q.From)
	}
	return b, nil
}

// Linkage answers q.
func (s *State) Linkage(q LinkageQuery) (*Linkage, error) {
	b, err := q.bounds()
	if err != nil {
		return nil, err
	}
	w, lo, hi := b.window, b.lo, b.hi
	out := &Linkage{WindowDays: int(w / (24 * time.Hour)), By: "category", Rows: []LinkRow{}, From: b.from, To: b.to}
	if q.BySegment {
		out.By = "category,segment"
	}
	asOf := s.maxT
	if !q.AsOf.IsZero() {
		asOf = q.AsOf.UnixNano()
	}
	out.AsOf = time.Unix(0, asOf).UTC().Format(time.RFC3339)
	hi = min(hi, asOf+1)
	win := int64(w)

	workers := runtime.GOMAXPROCS(0)
	parts := make([]linkPart, workers)
	var wg sync.WaitGroup
	n := len(s.custs)
	for p := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			part := &parts[p]
			part.rows, part.base = map[linkKey]*linkAcc{}, map[uint32]*baseAcc{}
			var items []item
			var err error
			// Group by group, as ApplyBatch folds them: a group's
			// histories were carved from its shard's slabs together, so
			// reading them in key order would jump between shards at
			// every 64 keys.
			for g := p; g < nGroups; g += workers {
				for block := g; block*64 < n; block += nGroups {
					for key := block * 64; key < min(block*64+64, n); key++ {
						c := &s.custs[key]
						if c.n == 0 {
							continue
						}
						if items, err = decodeHistory(items[:0], c.hist); err != nil {
							part.err = fmt.Errorf("customer %d: %w", key, err)
							return
						}
						part.customer(items, q.BySegment, lo, hi, asOf, win)
					}
				}
			}
		}()
	}
	wg.Wait()
	rows := map[linkKey]*linkAcc{}
	base := map[uint32]*baseAcc{}
	for i := range parts {
		if parts[i].err != nil {
			return nil, parts[i].err
		}
		for k, a := range parts[i].rows {
			r := rows[k]
			if r == nil {
				rows[k] = a
				continue
			}
			r.complainants += a.complainants
			r.defected += a.defected
			r.atRisk += a.atRisk
			for _, m := range a.valueLost {
				r.valueLost = addMoney(r.valueLost, m.cur, m.sum)
			}
			for _, m := range a.riskValue {
				r.riskValue = addMoney(r.riskValue, m.cur, m.sum)
			}
		}
		for k, a := range parts[i].base {
			b := base[k]
			if b == nil {
				b = &baseAcc{}
				base[k] = b
			}
			b.n += a.n
			b.defections += a.defections
			b.exposure = b.exposure.Add(a.exposure)
		}
	}
	days := float64(out.WindowDays)
	rate := func(b *baseAcc) *float64 {
		if b == nil || b.exposure.Sign() <= 0 {
			return nil
		}
		v := 1 - math.Exp(-days*float64(b.defections)/b.days())
		return &v
	}
	var all baseAcc
	for _, b := range base {
		all.n += b.n
		all.defections += b.defections
		all.exposure = all.exposure.Add(b.exposure)
	}
	out.NonComplainants, out.NonComplainantsDefections, out.ExposureDays = all.n, all.defections, all.days()
	out.BaseRate = rate(&all)
	// The currency the risk ranking compares: the one most customers at
	// risk have value in.
	curCount := map[uint32]int{}
	for _, a := range rows {
		for _, m := range a.riskValue {
			curCount[m.cur]++
		}
	}
	var riskCur uint32
	for c, k := range curCount {
		if riskCur == 0 || k > curCount[riskCur] || k == curCount[riskCur] && s.Strs.Str(c) < s.Strs.Str(riskCur) {
			riskCur = c
		}
	}
	if riskCur != 0 {
		out.RiskCurrency = s.Strs.Str(riskCur)
	}
	for k, a := range rows {
		r := LinkRow{Category: s.label(k.cat), Complainants: a.complainants, Defected: a.defected, AtRisk: a.atRisk,
			ValueLost: s.amounts(a.valueLost), RevenueAtRisk: []Amount{}}
		if q.BySegment {
			r.Segment = s.label(k.seg)
		}
		r.DefectionRate = float64(a.defected) / float64(a.complainants)
		r.BaseRate = out.BaseRate
		if q.BySegment {
			r.BaseRate = rate(base[k.seg])
		}
		if r.BaseRate != nil && *r.BaseRate > 0 {
			l := r.DefectionRate / *r.BaseRate
			r.Lift = &l
		}
		for _, m := range a.riskValue {
			code := s.Strs.Str(m.cur)
			r.RevenueAtRisk = append(r.RevenueAtRisk, Amount{Currency: code, Amount: scaleRat(m.sum, a.defected, a.complainants, code)})
			if m.cur == riskCur {
				// Comparable to the minor unit: the exact product scaled.
				v, _ := domain.ParseMoney(scaleRat(m.sum, a.defected, a.complainants, code), code)
				r.riskKey = SumOf(v)
			}
		}
		slices.SortFunc(r.RevenueAtRisk, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
		out.Rows = append(out.Rows, r)
	}
	name := func(r *LinkRow) string { return r.Category + "\x00" + r.Segment }
	slices.SortFunc(out.Rows, func(a, b LinkRow) int {
		if c := cmp.Compare(b.Complainants, a.Complainants); c != 0 {
			return c
		}
		return cmp.Compare(name(&a), name(&b))
	})
	for i := range out.Rows {
		out.Rows[i].RankByCount = i + 1
	}
	slices.SortStableFunc(out.Rows, func(a, b LinkRow) int { return b.riskKey.Cmp(a.riskKey) })
	for i := range out.Rows {
		out.Rows[i].RankByRisk = i + 1
	}
	if q.Sort == "count" {
		slices.SortFunc(out.Rows, func(a, b LinkRow) int { return cmp.Compare(a.RankByCount, b.RankByCount) })
	}
	return out, nil
}

// linkSeen is what a customer's complaints of one row (key k) found: a
// defection linked to them (defs, the indexes of those defections in the
// customer's items), and whether the customer is at risk for the row.
type linkSeen struct {
	k            linkKey
	linked, risk bool
	defs         []int
}

// seenOf returns the entry of k in p.seen, added when missing. Entries are
// reused from one customer to the next with their room, so a scan of a
// million customers allocates nothing per customer (and runs no collection
// cycles over the state because of it). The pointer is valid until the
// next seenOf.
func (p *linkPart) seenOf(k linkKey) *linkSeen {
	for i := range p.seen {
		if p.seen[i].k == k {
			return &p.seen[i]
		}
	}
	if len(p.seen) < cap(p.seen) {
		p.seen = p.seen[:len(p.seen)+1]
	} else {
		p.seen = append(p.seen, linkSeen{})
	}
	sn := &p.seen[len(p.seen)-1]
	sn.k, sn.linked, sn.risk, sn.defs = k, false, false, sn.defs[:0]
	return sn
}

// customer adds one customer's history to the part.
func (p *linkPart) customer(items []item, bySeg bool, lo, hi, asOf, win int64) {
	var acqSeg uint32
	complained := false
	p.seen = p.seen[:0]
	// Defections in time order, for the window look-ups.
	p.defs = p.defs[:0]
	for i := range items {
		if items[i].typ == domain.TypeCustomerDefected {
			p.defs = append(p.defs, i)
		}
	}
	defs := p.defs
	for i := range items {
		it := &items[i]
		seg := it.seg
		if seg == 0 {
			seg = acqSeg
		}
		if it.typ == domain.TypeCustomerAcquired && it.seg != 0 {
			acqSeg = it.seg
		}
		if it.typ != domain.TypeComplaintFiled || it.t < lo || it.t >= hi {
			continue
		}
		complained = true
		k := linkKey{cat: it.cat}
		if bySeg {
			k.seg = seg
		}
		sn := p.seenOf(k)
		for _, d := range defs {
			dt := items[d].t
			if dt >= it.t && dt <= it.t+win && dt <= asOf && !slices.Contains(sn.defs, d) {
				sn.defs = append(sn.defs, d)
				sn.linked = true
			}
		}
		if it.t > asOf-win && it.t <= asOf {
			defectedSince := false
			for _, d := range defs {
				if items[d].t >= it.t && items[d].t <= asOf {
					defectedSince = true
				}
			}
			if !defectedSince {
				sn.risk = true
			}
		}
	}
	if !complained {
		p.nonComplainant(items, bySeg, acqSeg, lo, hi)
		return
	}
	valueDone := false
	for i := range p.seen {
		sn := &p.seen[i]
		a := p.rows[sn.k]
		if a == nil {
			a = &linkAcc{}
			p.rows[sn.k] = a
		}
		a.complainants++
		if sn.linked {
			a.defected++
			for _, d := range sn.defs {
				p.vals, _ = lostValue(items, d, p.vals[:0])
				for _, v := range p.vals {
					a.valueLost = addMoney(a.valueLost, v.cur, v.sum)
				}
			}
		}
		if sn.risk {
			a.atRisk++
			if !valueDone {
				p.value, valueDone = currentValue(p.value[:0], items, asOf), true
			}
			for _, v := range p.value {
				a.riskValue = addMoney(a.riskValue, v.cur, v.sum)
			}
		}
	}
}

// currentValue appends to out the revenue a customer recorded in the 365
// days up to asOf, after its last defection before asOf.
func currentValue(out []money, items []item, asOf int64) []money {
	for j := len(items) - 1; j >= 0; j-- {
		x := &items[j]
		if x.t > asOf {
			continue
		}
		if x.typ == domain.TypeCustomerDefected || x.t <= asOf-atRiskRevenue {
			break
		}
		if x.typ == domain.TypeRevenueRecorded {
			out = addMoney(out, x.cur, SumOf(x.amount))
		}
	}
	return out
}

// nonComplainant adds a customer who filed no complaint in [lo, hi) to the
// base: its days as a customer in the range and its defections in it. A
// tenure runs from the customer's first event after its previous defection
// (its first event at all for the first) to its next defection, or hi.
func (p *linkPart) nonComplainant(items []item, bySeg bool, seg uint32, lo, hi int64) {
	k := uint32(0)
	if bySeg {
		k = seg
	}
	var b baseAcc
	start, open := int64(0), false
	add := func(from, to int64) {
		from, to = max(from, lo), min(to, hi)
		if to > from {
			b.exposure = b.exposure.Add(SumOf(domain.Money(to - from)))
		}
	}
	for i := range items {
		it := &items[i]
		if !open {
			start, open = it.t, true
		}
		if it.typ == domain.TypeCustomerDefected {
			add(start, it.t)
			open = false
			if it.t >= lo && it.t < hi {
				b.defections++
			}
		}
	}
	if open {
		add(start, hi)
	}
	if b.exposure.IsZero() && b.defections == 0 {
		return // not a customer in the range
	}
	t := p.base[k]
	if t == nil {
		t = &baseAcc{}
		p.base[k] = t
	}
	t.n++
	t.defections += b.defections
	t.exposure = t.exposure.Add(b.exposure)
}

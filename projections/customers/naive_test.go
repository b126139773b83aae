package customers

import (
	"cmp"
	"math"
	"math/big"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// naive recomputes every figure straight from the events (deduplicated, in
// log order), by the definitions, without any of the state's machinery.
type naive struct {
	evs []domain.Event // log order; index = seq-1
	by  map[string][]int
}

func newNaive(evs []domain.Event) *naive {
	n := &naive{evs: evs, by: map[string][]int{}}
	for i := range evs {
		if !Folded(evs[i].Type) {
			continue
		}
		c := evs[i].Data.CustomerID
		n.by[c] = append(n.by[c], i)
	}
	for _, idx := range n.by {
		slices.SortStableFunc(idx, func(a, b int) int { return evs[a].Time.Compare(evs[b].Time) })
	}
	return n
}

func lbl(s string) string {
	if s == "" {
		return noneLabel
	}
	return s
}

// seg returns the segment of the customer's event at position pos of its
// sorted events.
func (n *naive) seg(idx []int, pos int) string {
	if s := n.evs[idx[pos]].Data.Segment; s != "" {
		return s
	}
	for j := pos - 1; j >= 0; j-- {
		e := &n.evs[idx[j]]
		if e.Type == domain.TypeCustomerAcquired && e.Data.Segment != "" {
			return e.Data.Segment
		}
	}
	return ""
}

type nmoney map[string]*big.Int

func (m nmoney) add(cur string, v int64) {
	if m[cur] == nil {
		m[cur] = new(big.Int)
	}
	m[cur].Add(m[cur], big.NewInt(v))
}

func (m nmoney) amounts() []Amount {
	out := []Amount{}
	for c, v := range m {
		out = append(out, Amount{Currency: c, Amount: formatBig(v, c)})
	}
	slices.SortFunc(out, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

// value returns the value of the defection at pos and whether it was stated.
func (n *naive) value(idx []int, pos int) (nmoney, bool) {
	d := &n.evs[idx[pos]]
	m := nmoney{}
	if d.Data.Currency != "" {
		m.add(d.Data.Currency, int64(d.Data.Amount))
		return m, true
	}
	prevDef := -1
	for j := 0; j < pos; j++ {
		if n.evs[idx[j]].Type == domain.TypeCustomerDefected {
			prevDef = j
		}
	}
	for j := prevDef + 1; j < pos; j++ {
		e := &n.evs[idx[j]]
		if e.Type == domain.TypeRevenueRecorded && e.Time.After(d.Time.Add(-365*24*time.Hour)) {
			m.add(e.Data.Currency, int64(e.Data.Amount))
		}
	}
	return m, false
}

type ndef struct {
	cust   string
	pos    int
	ev     *domain.Event
	seg    string
	val    nmoney
	stated bool
}

func (n *naive) defections(from, to time.Time) []ndef {
	var out []ndef
	for c, idx := range n.by {
		for pos, i := range idx {
			e := &n.evs[i]
			if e.Type != domain.TypeCustomerDefected || e.Time.Before(from) || !e.Time.Before(to) {
				continue
			}
			v, st := n.value(idx, pos)
			out = append(out, ndef{cust: c, pos: pos, ev: e, seg: n.seg(idx, pos), val: v, stated: st})
		}
	}
	return out
}

func lostOf(ds []ndef, keep func(*ndef) bool) Lost {
	l := Lost{}
	m := nmoney{}
	for i := range ds {
		d := &ds[i]
		if !keep(d) {
			continue
		}
		l.Count++
		if d.stated {
			l.Stated++
		} else if len(d.val) == 0 {
			l.NoValue++
		}
		for c, v := range d.val {
			if m[c] == nil {
				m[c] = new(big.Int)
			}
			m[c].Add(m[c], v)
		}
	}
	l.Value = m.amounts()
	return l
}

func withChange(cur, prev Lost, prevPartial bool) Lost {
	ch := &Change{PrevCount: prev.Count, Count: cur.Count - prev.Count, PrevValue: prev.Value, PrevPartial: prevPartial}
	ch.Pct = pct(cur.Count, prev.Count)
	diff := nmoney{}
	for _, a := range cur.Value {
		v, _ := new(big.Int).SetString(unformat(a), 10)
		if diff[a.Currency] == nil {
			diff[a.Currency] = new(big.Int)
		}
		diff[a.Currency].Add(diff[a.Currency], v)
	}
	for _, a := range prev.Value {
		v, _ := new(big.Int).SetString(unformat(a), 10)
		if diff[a.Currency] == nil {
			diff[a.Currency] = new(big.Int)
		}
		diff[a.Currency].Sub(diff[a.Currency], v)
	}
	ch.Value = diff.amounts()
	cur.Change = ch
	return cur
}

// unformat turns a decimal amount back into minor units.
func unformat(a Amount) string {
	m, err := domain.ParseMoney(a.Amount, a.Currency)
	if err != nil {
		panic(err)
	}
	return big.NewInt(int64(m)).String()
}

func (n *naive) review(q ReviewQuery) *Review {
	p, err := ParsePeriod("period", q.Period)
	if err != nil {
		panic(err)
	}
	top := q.Top
	if top == 0 {
		top = DefaultTop
	}
	pp := p.Prev()
	r := &Review{Period: p.String(), From: p.Start.Format("2006-01-02"), To: p.End().Format("2006-01-02"),
		Partial: p.End().After(q.Now), Previous: pp.String(), Top: top}
	prevPartial := pp.End().After(q.Now)
	cur, prev := n.defections(p.Start, p.End()), n.defections(pp.Start, pp.End())
	all := func(*ndef) bool { return true }
	r.Defected = withChange(lostOf(cur, all), lostOf(prev, all), prevPartial)
	reasons, segs := map[string]bool{}, map[string]bool{}
	for _, ds := range [][]ndef{cur, prev} {
		for _, d := range ds {
			reasons[lbl(d.ev.Data.Reason)] = true
			segs[lbl(d.seg)] = true
		}
	}
	r.ByReason, r.BySegment, r.ByCompetitor = []LostGroup{}, []LostGroup{}, []LostGroup{}
	for x := range reasons {
		f := func(d *ndef) bool { return lbl(d.ev.Data.Reason) == x }
		r.ByReason = append(r.ByReason, LostGroup{Reason: x, Lost: withChange(lostOf(cur, f), lostOf(prev, f), prevPartial)})
	}
	for x := range segs {
		f := func(d *ndef) bool { return lbl(d.seg) == x }
		r.BySegment = append(r.BySegment, LostGroup{Segment: x, Lost: withChange(lostOf(cur, f), lostOf(prev, f), prevPartial)})
	}
	comps := map[string]bool{}
	for _, d := range cur {
		comps[lbl(d.ev.Data.Competitor)] = true
	}
	for x := range comps {
		f := func(d *ndef) bool { return lbl(d.ev.Data.Competitor) == x }
		r.ByCompetitor = append(r.ByCompetitor, LostGroup{Competitor: x, Lost: lostOf(cur, f)})
	}
	sortGroups(r.ByReason)
	sortGroups(r.BySegment)
	sortGroups(r.ByCompetitor)
	r.Customers = []LostCustomer{}
	type cb struct {
		lc  *LostCustomer
		v   *big.Int
		cur string
	}
	var cbs []cb
	for _, d := range cur {
		idx := n.by[d.cust]
		lc := LostCustomer{CustomerID: d.cust, Segment: lbl(d.seg), Reason: lbl(d.ev.Data.Reason), Competitor: lbl(d.ev.Data.Competitor),
			DefectedAt: d.ev.Time, Values: d.val.amounts(), Complaints: []Complaint{}, Tenure: 1}
		var acq *time.Time
		for j := 0; j < d.pos; j++ {
			e := &n.evs[idx[j]]
			switch e.Type {
			case domain.TypeCustomerDefected:
				lc.Tenure++
				acq = nil
			case domain.TypeCustomerAcquired:
				t := e.Time
				acq = &t
			}
		}
		lc.CustomerAt = acq
		switch {
		case d.stated:
			lc.ValueSource = "stated"
		case len(d.val) > 0:
			lc.ValueSource = "revenue_365d"
		default:
			lc.ValueSource = "none"
		}
		if len(lc.Values) == 1 {
			lc.Value, lc.Currency = &lc.Values[0].Amount, &lc.Values[0].Currency
		}
		for _, i := range idx {
			e := &n.evs[i]
			if e.Type != domain.TypeComplaintFiled || !e.Time.After(d.ev.Time.Add(-90*24*time.Hour)) || e.Time.After(d.ev.Time) {
				continue
			}
			c := Complaint{Time: e.Time, Category: e.Data.Category, Channel: e.Data.Channel, Severity: e.Data.Severity}
			if id := e.Data.ComplaintID; id != "" {
				for _, j := range idx {
					x := &n.evs[j]
					if x.Type == domain.TypeComplaintResolved && x.Data.ComplaintID == id && (c.ResolvedAt == nil || x.Time.Before(*c.ResolvedAt)) {
						t := x.Time
						c.Resolved, c.ResolvedAt = true, &t
					}
				}
			}
			lc.Complaints = append(lc.Complaints, c)
		}
		r.Customers = append(r.Customers, lc)
	}
	slices.SortFunc(r.Customers, func(a, b LostCustomer) int {
		if c := a.DefectedAt.Compare(b.DefectedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.CustomerID, b.CustomerID)
	})
	r.CustomersTotal = len(r.Customers)
	for i := range r.Customers {
		lc := &r.Customers[i]
		for _, a := range lc.Values {
			v, _ := new(big.Int).SetString(unformat(a), 10)
			cbs = append(cbs, cb{lc, v, a.Currency})
		}
	}
	slices.SortFunc(cbs, func(a, b cb) int {
		if c := cmp.Compare(a.cur, b.cur); c != 0 {
			return c
		}
		if c := b.v.Cmp(a.v); c != 0 {
			return c
		}
		if c := b.lc.DefectedAt.Compare(a.lc.DefectedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.lc.CustomerID, b.lc.CustomerID)
	})
	r.Callbacks = []Callback{}
	per := map[string]int{}
	for _, c := range cbs {
		if per[c.cur] >= top {
			continue
		}
		per[c.cur]++
		r.Callbacks = append(r.Callbacks, Callback{CustomerID: c.lc.CustomerID, Value: formatBig(c.v, c.cur), Currency: c.cur,
			Segment: c.lc.Segment, Reason: c.lc.Reason, Competitor: c.lc.Competitor, DefectedAt: c.lc.DefectedAt, Complaints: len(c.lc.Complaints)})
	}
	if q.Limit > 0 && len(r.Customers) > q.Limit {
		r.Customers = r.Customers[:q.Limit]
	}
	return r
}

// scorecard recomputes the scorecard.
func (n *naive) scorecard(q ScorecardQuery) *Scorecard {
	from, _ := ParseMonth("from", q.From)
	to, _ := ParseMonth("to", q.To)
	type key struct {
		month string
		seg   string
	}
	type acc struct {
		n       map[domain.Type]int64
		val     map[domain.Type]nmoney
		renewBy map[string]int64
		rev     nmoney
		cost    nmoney
		unco    nmoney
	}
	accs := map[key]*acc{}
	get := func(k key) *acc {
		if accs[k] == nil {
			accs[k] = &acc{n: map[domain.Type]int64{}, val: map[domain.Type]nmoney{}, renewBy: map[string]int64{}, rev: nmoney{}, cost: nmoney{}, unco: nmoney{}}
		}
		return accs[k]
	}
	segs := map[string]bool{}
	for _, idx := range n.by {
		for pos, i := range idx {
			e := &n.evs[i]
			if e.Type == domain.TypeComplaintFiled || e.Type == domain.TypeComplaintResolved {
				continue
			}
			m := e.Time.Format("2006-01")
			seg := allLabel
			if q.BySegment {
				seg = lbl(n.seg(idx, pos))
			}
			if m >= from.String() && m <= to.String() {
				segs[seg] = true
			}
			a := get(key{m, seg})
			a.n[e.Type]++
			switch e.Type {
			case domain.TypeRevenueRecorded:
				a.rev.add(e.Data.Currency, int64(e.Data.Amount))
				if e.Data.HasCost {
					a.cost.add(e.Data.Currency, int64(e.Data.Cost))
				} else {
					a.unco.add(e.Data.Currency, int64(e.Data.Amount))
				}
			case domain.TypeCustomerDefected:
				v, _ := n.value(idx, pos)
				if a.val[e.Type] == nil {
					a.val[e.Type] = nmoney{}
				}
				for c, x := range v {
					a.val[e.Type].add(c, x.Int64())
				}
			default:
				if e.Data.Currency != "" {
					if a.val[e.Type] == nil {
						a.val[e.Type] = nmoney{}
					}
					a.val[e.Type].add(e.Data.Currency, int64(e.Data.Amount))
				}
				if e.Type == domain.TypeCustomerRenewed {
					a.renewBy[lbl(e.Data.Reason)]++
				}
			}
		}
	}
	if !q.BySegment {
		segs[allLabel] = true
	}
	var segList []string
	for s := range segs {
		segList = append(segList, s)
	}
	slices.Sort(segList)
	out := &Scorecard{From: from.String(), To: to.String(), By: "all", Rows: []ScoreRow{}}
	if q.BySegment {
		out.By = "segment"
	}
	sum := func(m nmoney, c string) Sum {
		if m == nil || m[c] == nil {
			return Sum{}
		}
		return SumOf(domain.Money(m[c].Int64()))
	}
	st := New() // only for formatting helpers
	mc := func(cur, prev nmoney) []MoneyChange {
		out := []MoneyChange{}
		for c := range union(cur, prev) {
			out = append(out, st.moneyChange(st.Strs.Intern(c), sum(cur, c), sum(prev, c)))
		}
		slices.SortFunc(out, func(a, b MoneyChange) int { return cmp.Compare(a.Currency, b.Currency) })
		return out
	}
	for m := from; !m.Start.After(to.Start); m = m.Next() {
		for _, seg := range segList {
			cur, prev := get(key{m.String(), seg}), get(key{m.Prev().String(), seg})
			row := ScoreRow{Period: m.String(), Segment: seg, Partial: m.End().After(q.Now)}
			row.NewCustomers = count(cur.n[domain.TypeCustomerAcquired], prev.n[domain.TypeCustomerAcquired])
			row.LostCustomers = count(cur.n[domain.TypeCustomerDefected], prev.n[domain.TypeCustomerDefected])
			row.Renewals = count(cur.n[domain.TypeCustomerRenewed], prev.n[domain.TypeCustomerRenewed])
			row.Referrals = count(cur.n[domain.TypeReferralMade], prev.n[domain.TypeReferralMade])
			row.NewValue = mc(cur.val[domain.TypeCustomerAcquired], prev.val[domain.TypeCustomerAcquired])
			row.LostValue = mc(cur.val[domain.TypeCustomerDefected], prev.val[domain.TypeCustomerDefected])
			row.RenewalValue = mc(cur.val[domain.TypeCustomerRenewed], prev.val[domain.TypeCustomerRenewed])
			row.RenewalsBy = []ReasonCount{}
			for r := range union(cur.renewBy, prev.renewBy) {
				row.RenewalsBy = append(row.RenewalsBy, ReasonCount{Reason: r, Count: count(cur.renewBy[r], prev.renewBy[r])})
			}
			slices.SortFunc(row.RenewalsBy, func(a, b ReasonCount) int {
				if c := cmp.Compare(b.Count.Count, a.Count.Count); c != 0 {
					return c
				}
				return cmp.Compare(a.Reason, b.Reason)
			})
			row.Revenue = []Profit{}
			for c := range union(cur.rev, prev.rev) {
				id := st.Strs.Intern(c)
				rc, rp, cc, cp := sum(cur.rev, c), sum(prev.rev, c), sum(cur.cost, c), sum(prev.cost, c)
				row.Revenue = append(row.Revenue, Profit{Currency: c, Revenue: st.moneyChange(id, rc, rp), Cost: st.moneyChange(id, cc, cp),
					Profit: st.moneyChange(id, rc.Sub(cc), rp.Sub(cp)), Uncosted: sum(cur.unco, c).Format(c)})
			}
			slices.SortFunc(row.Revenue, func(a, b Profit) int { return cmp.Compare(a.Currency, b.Currency) })
			out.Rows = append(out.Rows, row)
		}
	}
	return out
}

// union returns the set of the keys of a and b.
func union[M ~map[string]V, V any](a, b M) map[string]bool {
	keys := make(map[string]bool, len(a)+len(b))
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

// linkage recomputes the linkage by category (and segment).
func (n *naive) linkage(q LinkageQuery, asOf time.Time) *Linkage {
	w := q.Window
	if w == 0 {
		w = DefaultWindow
	}
	lo, hi := time.Unix(0, math.MinInt64), time.Unix(0, math.MaxInt64)
	out := &Linkage{WindowDays: int(w / (24 * time.Hour)), By: "category", AsOf: asOf.UTC().Format(time.RFC3339), Rows: []LinkRow{}}
	if q.BySegment {
		out.By = "category,segment"
	}
	if q.From != "" {
		p, _ := ParseMonth("from", q.From)
		lo, out.From = p.Start, p.Start.Format("2006-01-02")
	}
	if q.To != "" {
		p, _ := ParseMonth("to", q.To)
		hi, out.To = p.End(), p.End().Format("2006-01-02")
	}
	if asOf.Add(1).Before(hi) {
		hi = asOf.Add(1)
	}
	type rk struct{ cat, seg string }
	type racc struct {
		complainants, defected, atRisk int64
		lost, risk                     nmoney
	}
	rows := map[rk]*racc{}
	type bacc struct {
		n, d int64
		exp  *big.Int
	}
	base := map[string]*bacc{}
	for _, idx := range n.by {
		complained := false
		keys := map[rk]bool{}
		linked := map[rk]map[int]bool{}
		risk := map[rk]bool{}
		for pos, i := range idx {
			e := &n.evs[i]
			if e.Type != domain.TypeComplaintFiled || e.Time.Before(lo) || !e.Time.Before(hi) {
				continue
			}
			complained = true
			k := rk{cat: lbl(e.Data.Category)}
			if q.BySegment {
				k.seg = lbl(n.seg(idx, pos))
			}
			keys[k] = true
			defSince := false
			for dpos, j := range idx {
				d := &n.evs[j]
				if d.Type != domain.TypeCustomerDefected || d.Time.Before(e.Time) || d.Time.After(asOf) {
					continue
				}
				defSince = true
				if !d.Time.After(e.Time.Add(w)) {
					if linked[k] == nil {
						linked[k] = map[int]bool{}
					}
					linked[k][dpos] = true
				}
			}
			if e.Time.After(asOf.Add(-w)) && !e.Time.After(asOf) && !defSince {
				risk[k] = true
			}
		}
		if !complained {
			seg := ""
			if q.BySegment {
				for _, i := range idx {
					if e := &n.evs[i]; e.Type == domain.TypeCustomerAcquired && e.Data.Segment != "" {
						seg = lbl(e.Data.Segment)
					}
				}
				if seg == "" {
					seg = noneLabel
				}
			}
			b := bacc{exp: new(big.Int)}
			var start time.Time
			open := false
			add := func(f, t time.Time) {
				if f.Before(lo) {
					f = lo
				}
				if t.After(hi) {
					t = hi
				}
				if t.After(f) {
					b.exp.Add(b.exp, big.NewInt(t.UnixNano()-f.UnixNano()))
				}
			}
			for _, i := range idx {
				e := &n.evs[i]
				if !open {
					start, open = e.Time, true
				}
				if e.Type == domain.TypeCustomerDefected {
					add(start, e.Time)
					open = false
					if !e.Time.Before(lo) && e.Time.Before(hi) {
						b.d++
					}
				}
			}
			if open {
				add(start, hi)
			}
			if b.exp.Sign() > 0 || b.d > 0 {
				if base[seg] == nil {
					base[seg] = &bacc{exp: new(big.Int)}
				}
				base[seg].n++
				base[seg].d += b.d
				base[seg].exp.Add(base[seg].exp, b.exp)
			}
			continue
		}
		for k := range keys {
			a := rows[k]
			if a == nil {
				a = &racc{lost: nmoney{}, risk: nmoney{}}
				rows[k] = a
			}
			a.complainants++
			if len(linked[k]) > 0 {
				a.defected++
				for dpos := range linked[k] {
					v, _ := n.value(idx, dpos)
					for c, x := range v {
						a.lost.add(c, x.Int64())
					}
				}
			}
			if risk[k] {
				a.atRisk++
				// revenue in the 365 days up to asOf after the last defection before asOf
				last := -1
				for pos, i := range idx {
					if e := &n.evs[i]; e.Type == domain.TypeCustomerDefected && !e.Time.After(asOf) {
						last = pos
					}
				}
				for pos, i := range idx {
					e := &n.evs[i]
					if pos > last && e.Type == domain.TypeRevenueRecorded && !e.Time.After(asOf) && e.Time.After(asOf.Add(-365*24*time.Hour)) {
						a.risk.add(e.Data.Currency, int64(e.Data.Amount))
					}
				}
			}
		}
	}
	days := func(b *bacc) float64 {
		f, _ := new(big.Rat).SetFrac(b.exp, big.NewInt(int64(24*time.Hour))).Float64()
		return f
	}
	rate := func(b *bacc) *float64 {
		if b == nil || b.exp.Sign() <= 0 {
			return nil
		}
		v := 1 - math.Exp(-float64(out.WindowDays)*float64(b.d)/days(b))
		return &v
	}
	all := bacc{exp: new(big.Int)}
	for _, b := range base {
		all.n += b.n
		all.d += b.d
		all.exp.Add(all.exp, b.exp)
	}
	out.NonComplainants, out.NonComplainantsDefections, out.ExposureDays, out.BaseRate = all.n, all.d, days(&all), rate(&all)
	// The rates as LinkRow defines them, each the exact quotient rounded
	// once to the nearest float64: what one float64 division of the two
	// gives, worked out here without the projection's arithmetic.
	quo := func(x, y *big.Rat) float64 {
		f, _ := new(big.Rat).Quo(x, y).Float64()
		return f
	}
	for k, a := range rows {
		baseRate := out.BaseRate
		if q.BySegment {
			baseRate = rate(base[k.seg])
		}
		r := LinkRow{Category: k.cat, Segment: k.seg, Complainants: a.complainants, Defected: a.defected, AtRisk: a.atRisk,
			DefectionRate: quo(big.NewRat(a.defected, 1), big.NewRat(a.complainants, 1)), BaseRate: baseRate,
			ValueLost: a.lost.amounts(), RevenueAtRisk: []Amount{}}
		if baseRate != nil && *baseRate > 0 {
			lift := quo(new(big.Rat).SetFloat64(r.DefectionRate), new(big.Rat).SetFloat64(*baseRate))
			r.Lift = &lift
		}
		for c, v := range a.risk {
			x := new(big.Rat).SetFrac(new(big.Int).Mul(v, big.NewInt(a.defected)), big.NewInt(a.complainants))
			r.RevenueAtRisk = append(r.RevenueAtRisk, Amount{Currency: c, Amount: roundRat(x, c)})
		}
		slices.SortFunc(r.RevenueAtRisk, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
		out.Rows = append(out.Rows, r)
	}
	return out
}

// roundRat rounds minor units x half away from zero and formats them.
func roundRat(x *big.Rat, cur string) string {
	num, den := new(big.Int).Set(x.Num()), x.Denom()
	neg := num.Sign() < 0
	num.Abs(num)
	q, r := new(big.Int).QuoRem(num, den, new(big.Int))
	if new(big.Int).Lsh(r, 1).Cmp(den) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if neg {
		q.Neg(q)
	}
	return formatBig(q, cur)
}

package customers

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// Names turns a customer key into the customer id to show: the log's
// dictionary string, erased-<n> for a forgotten customer.
type Names func(key uint32) string

// DefaultTop is how many callbacks a review lists per currency by default.
const DefaultTop = 10

// ReviewQuery asks for the lost-customer review of one month or quarter.
type ReviewQuery struct {
	Period string // 2025-09 or 2025-Q3
	// Top is how many callbacks to list per currency (0: DefaultTop).
	Top int
	// Limit is how many lost customers to list (0: all of them); the
	// review always says how many there were.
	Limit int
	// Now decides whether the period is still running (zero: the wall
	// clock).
	Now time.Time
}

// Amount is money in one currency, as a decimal string in its major units.
type Amount struct {
	Currency string `json:"currency"`
	Amount   string `json:"amount"`
}

// Change compares a figure with the previous period's.
type Change struct {
	PrevCount int64    `json:"prev_count"`
	Count     int64    `json:"count"` // this period's count minus the previous one's
	Pct       *float64 `json:"pct"`   // null when the previous count is 0
	PrevValue []Amount `json:"prev_value"`
	Value     []Amount `json:"value"` // per currency, this period's value minus the previous one's
	// PrevPartial says the previous period was itself still running.
	PrevPartial bool `json:"prev_partial,omitempty"`
}

// Lost counts lost customers (defections) and their value.
type Lost struct {
	Count int64    `json:"count"`
	Value []Amount `json:"value"`
	// Stated is how many defections stated their value; NoValue how many
	// had neither a stated value nor revenue in the 365 days before.
	Stated  int64   `json:"stated_value"`
	NoValue int64   `json:"no_value"`
	Change  *Change `json:"change,omitempty"`
}

// LostGroup is Lost for one reason, segment or competitor.
type LostGroup struct {
	Reason     string `json:"reason,omitempty"`
	Segment    string `json:"segment,omitempty"`
	Competitor string `json:"competitor,omitempty"`
	Lost
}

// Complaint is one complaint a lost customer filed before leaving.
type Complaint struct {
	Time       time.Time  `json:"time"`
	Category   string     `json:"category"`
	Channel    string     `json:"channel,omitempty"`
	Severity   uint8      `json:"severity,omitempty"`
	Resolved   bool       `json:"resolved"`
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
}

// LostCustomer is one defection of the period.
type LostCustomer struct {
	CustomerID string `json:"customer_id"`
	Segment    string `json:"segment"`
	// Value and Currency are the value when it is in one currency (null
	// when there is none); Values lists it per currency always.
	Value    *string  `json:"value"`
	Currency *string  `json:"currency"`
	Values   []Amount `json:"values"`
	// ValueSource is "stated" (the defection's amount), "revenue_365d" (the
	// revenue of the 365 days before) or "none".
	ValueSource string     `json:"value_source"`
	Reason      string     `json:"reason"`
	Competitor  string     `json:"competitor"`
	DefectedAt  time.Time  `json:"defected_at"`
	CustomerAt  *time.Time `json:"customer_since,omitempty"` // the tenure's acquisition
	// Tenure counts the customer's tenures up to this defection: 2 or more
	// for a customer who came back.
	Tenure     int         `json:"tenure"`
	Complaints []Complaint `json:"complaints"`

	values []money
	key    uint32
}

// Callback is a lost account someone should phone.
type Callback struct {
	CustomerID string    `json:"customer_id"`
	Value      string    `json:"value"`
	Currency   string    `json:"currency"`
	Segment    string    `json:"segment"`
	Reason     string    `json:"reason"`
	Competitor string    `json:"competitor"`
	DefectedAt time.Time `json:"defected_at"`
	Complaints int       `json:"complaints"`
	PhoneHint  *string   `json:"phone_hint"` // plaint holds no phone numbers
}

// Review is the lost-customer review of one period.
type Review struct {
	Period   string `json:"period"`
	From     string `json:"from"`
	To       string `json:"to"`
	Partial  bool   `json:"partial"`
	Previous string `json:"previous_period"`
	AsOfSeq  uint64 `json:"as_of_seq,omitempty"`

	Defected     Lost        `json:"defected"`
	ByReason     []LostGroup `json:"by_reason"`
	BySegment    []LostGroup `json:"by_segment"`
	ByCompetitor []LostGroup `json:"by_competitor"`
	// CustomersTotal is how many lost customers the period had; Customers
	// lists them (the first Limit, by defection time) when Limit was set.
	CustomersTotal int            `json:"customers_total"`
	Customers      []LostCustomer `json:"customers"`
	Callbacks      []Callback     `json:"callbacks"`
	Top            int            `json:"top"`
}

// noneLabel stands for an absent reason, segment or competitor.
const noneLabel = "(none)"

func (s *State) label(id uint32) string {
	if id == 0 {
		return noneLabel
	}
	return s.Strs.Str(id)
}

// lostTotals sums the lost-customer cells of months lo..hi by group.
type lostTotals struct {
	all      lostAcc
	byReason map[uint32]*lostAcc
	bySeg    map[uint32]*lostAcc
	byComp   map[uint32]*lostAcc
}

type lostAcc struct {
	n, stated, none int64
	val             []money
}

func (a *lostAcc) add(k aggKey, c *cell) {
	if k.cur == 0 {
		a.n += c.n
		a.stated += c.a
		a.none += c.b
		return
	}
	a.val = addMoney(a.val, k.cur, c.amount)
}

func (s *State) lostIn(lo, hi int32) lostTotals {
	t := lostTotals{byReason: map[uint32]*lostAcc{}, bySeg: map[uint32]*lostAcc{}, byComp: map[uint32]*lostAcc{}}
	get := func(m map[uint32]*lostAcc, id uint32) *lostAcc {
		a := m[id]
		if a == nil {
			a = &lostAcc{}
			m[id] = a
		}
		return a
	}
	for _, sh := range s.shards {
		for k, c := range sh.agg {
			if k.metric != mLost || k.month < lo || k.month > hi {
				continue
			}
			t.all.add(k, c)
			get(t.byReason, k.reason).add(k, c)
			get(t.bySeg, k.seg).add(k, c)
			get(t.byComp, k.comp).add(k, c)
		}
	}
	return t
}

// amounts renders money per currency, sorted by currency code.
func (s *State) amounts(ms []money) []Amount {
	out := make([]Amount, 0, len(ms))
	for _, m := range ms {
		cur := s.Strs.Str(m.cur)
		out = append(out, Amount{Currency: cur, Amount: m.sum.Format(cur)})
	}
	slices.SortFunc(out, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
	return out
}

func (s *State) lost(a, prev *lostAcc, prevPartial bool) Lost {
	if a == nil {
		a = &lostAcc{}
	}
	if prev == nil {
		prev = &lostAcc{}
	}
	l := Lost{Count: a.n, Value: s.amounts(a.val), Stated: a.stated, NoValue: a.none}
	ch := &Change{PrevCount: prev.n, Count: a.n - prev.n, PrevValue: s.amounts(prev.val), PrevPartial: prevPartial}
	ch.Pct = pct(a.n, prev.n)
	diff := append([]money(nil), a.val...)
	for _, m := range prev.val {
		diff = addMoney(diff, m.cur, m.sum.Neg())
	}
	ch.Value = s.amounts(diff)
	l.Change = ch
	return l
}

// pct returns the percentage change from prev to cur, nil from zero.
func pct(cur, prev int64) *float64 {
	if prev == 0 {
		return nil
	}
	v := float64(cur-prev) * 100 / float64(prev)
	v = float64(int64(v*10+copysign(0.5, v))) / 10
	return &v
}

func copysign(x, sign float64) float64 {
	if sign < 0 {
		return -x
	}
	return x
}

// Review answers q. names gives customer ids to show.
func (s *State) Review(q ReviewQuery, names Names) (*Review, error) {
	p, err := ParsePeriod("period", q.Period)
	if err != nil {
		return nil, err
	}
	if q.Top < 0 || q.Limit < 0 {
		return nil, domain.FieldErrorf("top", "top and limit must not be negative")
	}
	top := q.Top
	if top == 0 {
		top = DefaultTop
	}
	now := q.Now
	if now.IsZero() {
		now = time.Now()
	}
	prevP := p.Prev()
	r := &Review{Period: p.String(), From: p.Start.Format("2006-01-02"), To: p.End().Format("2006-01-02"),
		Partial: partial(p.End(), now), Previous: prevP.String(), Top: top}
	lo, hi := months(p)
	plo, phi := months(prevP)
	cur, prev := s.lostIn(lo, hi), s.lostIn(plo, phi)
	prevPartial := partial(prevP.End(), now)
	r.Defected = s.lost(&cur.all, &prev.all, prevPartial)
	for _, g := range []struct {
		cur, prev map[uint32]*lostAcc
		out       *[]LostGroup
		set       func(*LostGroup, string)
	}{
		{cur.byReason, prev.byReason, &r.ByReason, func(g *LostGroup, v string) { g.Reason = v }},
		{cur.bySeg, prev.bySeg, &r.BySegment, func(g *LostGroup, v string) { g.Segment = v }},
	} {
		*g.out = []LostGroup{}
		for id := range idUnion(g.cur, g.prev) {
			lg := LostGroup{Lost: s.lost(g.cur[id], g.prev[id], prevPartial)}
			g.set(&lg, s.label(id))
			*g.out = append(*g.out, lg)
		}
		sortGroups(*g.out)
	}
	r.ByCompetitor = []LostGroup{}
	for id, a := range cur.byComp {
		r.ByCompetitor = append(r.ByCompetitor, LostGroup{Competitor: s.label(id),
			Lost: Lost{Count: a.n, Value: s.amounts(a.val), Stated: a.stated, NoValue: a.none}})
	}
	sortGroups(r.ByCompetitor)
	// The lost customers themselves, from the defection index: only those
	// listed and those called back are read from their histories.
	type entry struct {
		ref defRef
		e   *defEntry
	}
	var refs []entry
	for _, sh := range s.shards {
		for m := lo; m <= hi; m++ {
			for ref, e := range sh.defs[m] {
				refs = append(refs, entry{ref, e})
				r.CustomersTotal += int(e.n)
			}
		}
	}
	details := map[defRef][]LostCustomer{}
	detail := func(ref defRef) ([]LostCustomer, error) {
		if d, ok := details[ref]; ok {
			return d, nil
		}
		d, err := s.lostAt(ref, names)
		details[ref] = d
		return d, err
	}
	nameOf := map[uint32]string{}
	name := func(k uint32) string {
		n, ok := nameOf[k]
		if !ok {
			n = names(k)
			nameOf[k] = n
		}
		return n
	}
	slices.SortFunc(refs, func(a, b entry) int {
		if c := cmp.Compare(a.ref.t, b.ref.t); c != 0 {
			return c
		}
		return cmp.Compare(name(a.ref.key), name(b.ref.key))
	})
	r.Customers = []LostCustomer{}
	for _, x := range refs {
		if q.Limit > 0 && len(r.Customers) >= q.Limit {
			break
		}
		d, err := detail(x.ref)
		if err != nil {
			return nil, err
		}
		r.Customers = append(r.Customers, d...)
	}
	if q.Limit > 0 && len(r.Customers) > q.Limit {
		r.Customers = r.Customers[:q.Limit]
	}
	// Callbacks: per currency, the top by value (ties: the most recent
	// defection, then customer id).
	type cand struct {
		ref defRef
		v   Sum
		i   int // which defection of the ref (when it holds several)
	}
	byCur := map[uint32][]cand{}
	for _, x := range refs {
		if x.e.n == 1 {
			for _, v := range x.e.vals {
				byCur[v.cur] = append(byCur[v.cur], cand{x.ref, v.sum, 0})
			}
			continue
		}
		d, err := detail(x.ref)
		if err != nil {
			return nil, err
		}
		for i := range d {
			for _, v := range d[i].values {
				byCur[v.cur] = append(byCur[v.cur], cand{x.ref, v.sum, i})
			}
		}
	}
	curs := make([]uint32, 0, len(byCur))
	for c := range byCur {
		curs = append(curs, c)
	}
	slices.SortFunc(curs, func(a, b uint32) int { return cmp.Compare(s.Strs.Str(a), s.Strs.Str(b)) })
	r.Callbacks = []Callback{}
	for _, cur := range curs {
		cs := byCur[cur]
		slices.SortFunc(cs, func(a, b cand) int {
			if c := b.v.Cmp(a.v); c != 0 {
				return c
			}
			if c := cmp.Compare(b.ref.t, a.ref.t); c != 0 {
				return c
			}
			return cmp.Compare(name(a.ref.key), name(b.ref.key))
		})
		code := s.Strs.Str(cur)
		for _, x := range cs[:min(top, len(cs))] {
			d, err := detail(x.ref)
			if err != nil {
				return nil, err
			}
			c := &d[x.i]
			r.Callbacks = append(r.Callbacks, Callback{CustomerID: c.CustomerID, Value: x.v.Format(code), Currency: code,
				Segment: c.Segment, Reason: c.Reason, Competitor: c.Competitor, DefectedAt: c.DefectedAt,
				Complaints: len(c.Complaints)})
		}
	}
	return r, nil
}

// sortGroups orders groups by count, largest first, then label.
func sortGroups(gs []LostGroup) {
	slices.SortFunc(gs, func(a, b LostGroup) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Reason+a.Segment+a.Competitor, b.Reason+b.Segment+b.Competitor)
	})
}

// lostAt returns the defections of ref's customer at ref's time, with
// what the review shows of each.
func (s *State) lostAt(ref defRef, names Names) ([]LostCustomer, error) {
	c := &s.custs[ref.key]
	items, err := decodeHistory(nil, c.hist)
	if err != nil {
		return nil, fmt.Errorf("customer %d: %w", ref.key, err)
	}
	var out []LostCustomer
	var acqSeg uint32
	var acqAt int64
	tenure := 1
	for i := range items {
		it := &items[i]
		if it.typ == domain.TypeCustomerAcquired {
			acqAt = it.t
		}
		if it.typ == domain.TypeCustomerDefected && it.t == ref.t {
			seg := it.seg
			if seg == 0 {
				seg = acqSeg
			}
			vals, stated := lostValue(items, i, nil)
			lc := LostCustomer{CustomerID: names(ref.key), Segment: s.label(seg), Reason: s.label(it.reason),
				Competitor: s.label(it.competitor), DefectedAt: time.Unix(0, it.t).UTC(), Tenure: tenure,
				values: vals, key: ref.key, Complaints: []Complaint{}}
			if acqAt != 0 {
				at := time.Unix(0, acqAt).UTC()
				lc.CustomerAt = &at
			}
			lc.Values = s.amounts(vals)
			switch {
			case stated:
				lc.ValueSource = "stated"
			case len(vals) > 0:
				lc.ValueSource = "revenue_365d"
			default:
				lc.ValueSource = "none"
			}
			if len(lc.Values) == 1 {
				lc.Value, lc.Currency = &lc.Values[0].Amount, &lc.Values[0].Currency
			}
			lc.Complaints = s.complaintsBefore(items, i)
			out = append(out, lc)
		}
		if it.typ == domain.TypeCustomerAcquired && it.seg != 0 {
			acqSeg = it.seg
		}
		if it.typ == domain.TypeCustomerDefected {
			tenure++
			acqAt = 0
		}
	}
	return out, nil
}

// complaintsBefore returns the complaints filed in the 90 days up to the
// defection items[i], oldest first, with whether each was resolved (at any
// time the log knows of).
func (s *State) complaintsBefore(items []item, i int) []Complaint {
	d := items[i].t
	out := []Complaint{}
	for j := range items {
		it := &items[j]
		if it.typ != domain.TypeComplaintFiled || it.t <= d-reviewWindow || it.t > d {
			continue
		}
		c := Complaint{Time: time.Unix(0, it.t).UTC(), Category: s.Strs.Str(it.cat), Channel: s.Strs.Str(it.ch), Severity: it.sev}
		if it.complaint != 0 {
			var first int64
			found := false
			for k := range items {
				x := &items[k]
				if x.typ == domain.TypeComplaintResolved && x.complaint == it.complaint && (!found || x.t < first) {
					first, found = x.t, true
				}
			}
			if found {
				at := time.Unix(0, first).UTC()
				c.Resolved, c.ResolvedAt = true, &at
			}
		}
		out = append(out, c)
	}
	return out
}

package customers

import (
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// nShards is how many parts the customers are split into by key, so that a
// batch of facts is folded on every core at once. Each shard owns whole
// blocks of 64 keys (one word of the dirty bitmap).
const nShards = 16

// day and the windows of the definitions, in nanoseconds.
const (
	day           = int64(24 * 60 * 60 * 1e9)
	valueWindow   = 365 * day // a lost customer's fallback value: revenue in the 365 days before
	reviewWindow  = 90 * day  // complaints before leaving: the 90 days up to the defection
	atRiskRevenue = 365 * day // an active customer's value: revenue in the last 365 days
)

// cust is one customer: its history and what the in-order fold needs of it.
type cust struct {
	hist  []byte
	lastT int64  // time of the last item (history is sorted by time)
	seg   uint32 // segment of the latest acquisition, as of lastT
	n     int32  // items
}

// State is the per-customer state of the lost-customer review, the
// scorecard and the complaint → defection linkage, folded from events in
// log order (see the package documentation for the definitions). It is not
// safe for concurrent use: the owner serialises Apply and the queries.
type State struct {
	Strs   *Table
	custs  []cust // by key
	shards [nShards]*shard
	dirty  []uint64 // bitmap of keys changed since the last TakeDirty
	maxT   int64    // latest event time folded
	events int64    // facts folded
	gen    uint64   // changes with every fold; answers cached at one gen stay valid
	minMo  int32    // month range of the aggregates (for empty queries)
	maxMo  int32
	hasMo  bool
}

// shard holds the aggregates of the customers whose keys it owns.
type shard struct {
	agg     map[aggKey]*cell
	defs    map[int32]map[defRef]*defEntry // month → defections in it
	scratch []item
	before  []item
	buf     []byte
	slab    []byte // where histories grow (see grow)
	lo, hi  int32  // month range touched
	touched bool
}

// defRef names a defection: the customer and its time.
type defRef struct {
	key uint32
	t   int64
}

// defEntry is what the index keeps of the defections at a defRef (almost
// always one): how many, and their value per currency, so that a review
// ranks callbacks without reading the histories.
type defEntry struct {
	n    int32
	vals []money
}

// New returns an empty state.
func New() *State {
	s := &State{Strs: NewTable()}
	for i := range s.shards {
		s.shards[i] = newShard()
	}
	return s
}

func newShard() *shard {
	return &shard{agg: map[aggKey]*cell{}, defs: map[int32]map[defRef]*defEntry{}}
}

func shardOf(key uint32) int { return int(key>>6) % nShards }

// Customers returns how many customer keys have a history.
func (s *State) Customers() int {
	n := 0
	for i := range s.custs {
		if s.custs[i].n > 0 {
			n++
		}
	}
	return n
}

// Events returns how many facts were folded.
func (s *State) Events() int64 { return s.events }

// Latest returns the latest event time folded (Unix ns), 0 when empty.
func (s *State) Latest() int64 { return s.maxT }

// Gen changes whenever the state changes.
func (s *State) Gen() uint64 { return s.gen }

// grow makes room for key.
func (s *State) grow(key uint32) {
	if int(key) < len(s.custs) {
		return
	}
	n := max(int(key)+1, len(s.custs)*5/4+1024)
	s.custs = slices.Grow(s.custs, n-len(s.custs))[:n]
	if w := n/64 + 1; w > len(s.dirty) {
		s.dirty = slices.Grow(s.dirty, w-len(s.dirty))[:w]
	}
}

// Apply folds one fact, which comes after every fact already folded in the
// log (never a duplicate: the log drops those).
func (s *State) Apply(f Fact) error {
	return s.ApplyAll([]Fact{f})
}

// ApplyAll folds facts, in log order, spreading the customers over the
// cores.
func (s *State) ApplyAll(facts []Fact) error {
	if len(facts) == 0 {
		return nil
	}
	var top uint32
	for i := range facts {
		f := &facts[i]
		if f.Customer == 0 || !Folded(f.Type) {
			return fmt.Errorf("fact %d: %s for customer key %d cannot be folded", i, f.Type, f.Customer)
		}
		top = max(top, f.Customer)
		s.maxT = max(s.maxT, f.Time)
	}
	s.grow(top)
	s.events += int64(len(facts))
	s.gen++
	workers := min(runtime.GOMAXPROCS(0), nShards)
	if len(facts) < 4096 {
		workers = 1
	}
	if err := inWorkers(workers, func(w int) error { return s.applyWorker(w, workers, facts) }); err != nil {
		return err
	}
	s.noteMonths()
	return nil
}

func (s *State) noteMonths() {
	for _, sh := range s.shards {
		if !sh.touched {
			continue
		}
		if !s.hasMo {
			s.minMo, s.maxMo, s.hasMo = sh.lo, sh.hi, true
		}
		s.minMo, s.maxMo = min(s.minMo, sh.lo), max(s.maxMo, sh.hi)
	}
}

// applyWorker folds, in one pass, the facts of the customers of the shards
// worker w of workers owns (those whose number is w modulo workers).
func (s *State) applyWorker(w, workers int, facts []Fact) error {
	for i := range facts {
		f := &facts[i]
		sh := shardOf(f.Customer)
		if sh%workers != w {
			continue
		}
		it := itemOf(f)
		if err := s.applyOne(s.shards[sh], f.Customer, &it); err != nil {
			return err
		}
	}
	return nil
}

// applyOne folds it, of the customer key, whose shard is d.
func (s *State) applyOne(d *shard, key uint32, it *item) error {
	c := &s.custs[key]
	s.dirty[key>>6] |= 1 << (key & 63)
	if c.n == 0 || it.t >= c.lastT {
		// In order: nothing folded before changes.
		seg := it.seg
		if seg == 0 {
			seg = c.seg
		}
		if it.typ == domain.TypeCustomerDefected && it.cur == 0 {
			var err error
			if d.scratch, err = decodeHistory(d.scratch[:0], c.hist); err != nil {
				return fmt.Errorf("customer %d: %w", key, err)
			}
			d.scratch = append(d.scratch, *it)
			d.contribute(key, d.scratch, len(d.scratch)-1, seg, +1)
		} else {
			one := [1]item{*it}
			d.contribute(key, one[:], 0, seg, +1)
		}
		prev := int64(0)
		if c.n > 0 {
			prev = c.lastT
		}
		var enc [64]byte
		e := appendItem(enc[:0], it, prev)
		if cap(c.hist)-len(c.hist) < len(e) {
			c.hist = d.grow(c.hist, len(e))
		}
		c.hist = append(c.hist, e...)
		c.lastT, c.n = it.t, c.n+1
		if it.typ == domain.TypeCustomerAcquired && it.seg != 0 {
			c.seg = it.seg
		}
		return nil
	}
	// Late: take back everything the customer contributed, put the item in
	// its place, and contribute again. The log is the only order there is
	// between items of the same time, so it goes after them.
	var err error
	if d.before, err = decodeHistory(d.before[:0], c.hist); err != nil {
		return fmt.Errorf("customer %d: %w", key, err)
	}
	d.walk(key, d.before, -1)
	at, _ := slices.BinarySearchFunc(d.before, it.t+1, func(x item, t int64) int {
		if x.t < t {
			return -1
		}
		return 1
	})
	d.scratch = append(append(append(d.scratch[:0], d.before[:at]...), *it), d.before[at:]...)
	d.walk(key, d.scratch, +1)
	d.buf = encodeHistory(d.buf[:0], d.scratch)
	c.hist = append(c.hist[:0], d.buf...)
	c.n++
	c.seg = segAfter(d.scratch)
	return nil
}

// slabSize is the size of the blocks histories are carved from.
const slabSize = 1 << 20

// grow returns hist with room for n more bytes: a piece of the shard's slab
// twice as large (at least 32 bytes), so that a million small histories
// are not a million allocations that each grow several times.
func (d *shard) grow(hist []byte, n int) []byte {
	want := max(2*cap(hist), len(hist)+n, 32)
	if want > slabSize/4 {
		return slices.Grow(hist, n)
	}
	if len(d.slab)+want > cap(d.slab) {
		d.slab = make([]byte, 0, slabSize)
	}
	at := len(d.slab)
	d.slab = d.slab[:at+want]
	return append(d.slab[at:at:at+want], hist...)
}

// segAfter returns the segment of the latest acquisition in items.
func segAfter(items []item) uint32 {
	for i := len(items) - 1; i >= 0; i-- {
		if items[i].typ == domain.TypeCustomerAcquired && items[i].seg != 0 {
			return items[i].seg
		}
	}
	return 0
}

// walk contributes (sign +1) or takes back (-1) every item of a customer's
// history.
func (d *shard) walk(key uint32, items []item, sign int64) {
	var acqSeg uint32
	for i := range items {
		it := &items[i]
		seg := it.seg
		if seg == 0 {
			seg = acqSeg
		}
		d.contribute(key, items, i, seg, sign)
		if it.typ == domain.TypeCustomerAcquired && it.seg != 0 {
			acqSeg = it.seg
		}
	}
}

// lostValue returns the value of the defection items[i] per currency: its
// amount when stated, else the revenue recorded in the 365 days before it
// and after the customer's previous defection (see the definitions).
func lostValue(items []item, i int, out []money) (vals []money, stated bool) {
	it := &items[i]
	if it.cur != 0 {
		return append(out, money{cur: it.cur, sum: SumOf(it.amount)}), true
	}
	from := it.t - valueWindow
	for j := i - 1; j >= 0; j-- {
		x := &items[j]
		if x.typ == domain.TypeCustomerDefected || x.t <= from {
			break
		}
		if x.typ == domain.TypeRevenueRecorded {
			out = addMoney(out, x.cur, SumOf(x.amount))
		}
	}
	return out, false
}

// money is an amount in one currency (a Table id).
type money struct {
	cur uint32
	sum Sum
}

func addMoney(ms []money, cur uint32, v Sum) []money {
	for i := range ms {
		if ms[i].cur == cur {
			ms[i].sum = ms[i].sum.Add(v)
			return ms
		}
	}
	return append(ms, money{cur: cur, sum: v})
}

// contribute adds the aggregates of items[i] (whose segment per the
// definition is seg) with sign.
func (d *shard) contribute(key uint32, items []item, i int, seg uint32, sign int64) {
	it := &items[i]
	mo := monthIndex(it.t)
	k := aggKey{month: mo, seg: seg}
	switch it.typ {
	case domain.TypeCustomerAcquired:
		k.metric = mNew
	case domain.TypeCustomerRenewed:
		k.metric, k.reason = mRenew, it.reason
	case domain.TypeReferralMade:
		k.metric = mReferral
	case domain.TypeRevenueRecorded:
		k.metric = mRevenue
		k.cur = it.cur
		c := d.cell(k)
		c.n += sign
		c.amount = c.amount.AddMoney(it.amount, sign)
		if it.hasCost {
			c.cost = c.cost.AddMoney(it.cost, sign)
		} else {
			c.a += sign
			c.uncosted = c.uncosted.AddMoney(it.amount, sign)
		}
		d.tidy(k, c)
		return
	case domain.TypeCustomerDefected:
		k.metric, k.reason, k.comp = mLost, it.reason, it.competitor
		var buf [2]money
		vals, stated := lostValue(items, i, buf[:0])
		c := d.cell(k)
		c.n += sign
		switch {
		case stated:
			c.a += sign
		case len(vals) == 0:
			c.b += sign
		}
		d.tidy(k, c)
		for _, v := range vals {
			mk := k
			mk.cur = v.cur
			mc := d.cell(mk)
			mc.n += sign
			if sign > 0 {
				mc.amount = mc.amount.Add(v.sum)
			} else {
				mc.amount = mc.amount.Sub(v.sum)
			}
			d.tidy(mk, mc)
		}
		m := d.defs[mo]
		if m == nil {
			m = map[defRef]*defEntry{}
			d.defs[mo] = m
		}
		r := defRef{key: key, t: it.t}
		e := m[r]
		if e == nil {
			e = &defEntry{}
			m[r] = e
		}
		e.n += int32(sign)
		for _, v := range vals {
			if sign < 0 {
				v.sum = v.sum.Neg()
			}
			e.vals = addMoney(e.vals, v.cur, v.sum)
		}
		if e.n == 0 {
			delete(m, r)
		}
		return
	default:
		return // complaints live in the histories only
	}
	c := d.cell(k)
	c.n += sign
	d.tidy(k, c)
	if it.cur != 0 {
		mk := k
		mk.cur = it.cur
		mc := d.cell(mk)
		mc.n += sign
		mc.amount = mc.amount.AddMoney(it.amount, sign)
		d.tidy(mk, mc)
	}
}

func (d *shard) cell(k aggKey) *cell {
	c := d.agg[k]
	if c == nil {
		c = &cell{}
		d.agg[k] = c
		if !d.touched {
			d.lo, d.hi, d.touched = k.month, k.month, true
		}
		d.lo, d.hi = min(d.lo, k.month), max(d.hi, k.month)
	}
	return c
}

// tidy drops a cell everything was taken back from.
func (d *shard) tidy(k aggKey, c *cell) {
	if c.n == 0 && c.a == 0 && c.b == 0 && c.amount.IsZero() && c.cost.IsZero() && c.uncosted.IsZero() {
		delete(d.agg, k)
	}
}

// monthIndex returns year*12 + month-1 of the UTC month holding ns.
func monthIndex(ns int64) int32 {
	y, m, _ := time.Unix(0, ns).UTC().Date()
	return int32(y*12 + int(m) - 1)
}

package projections

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
	"sort"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/strtab"
)

// baseVersion is the version of the active-customer fold's code.
const baseVersion = 1

// baseName is the name of the built-in projection of active customers.
const baseName = "builtin/active-customers"

// customer is what the active-base fold knows of one customer: when it was
// first acquired (event time, and the sequence breaking ties), in which
// segment, and when it last defected. It is active from acquisition until a
// defection at or after it.
type customer struct {
	acq    int64 // Unix ns; 0 = never acquired
	acqSeq uint64
	seg    uint32
	def    int64 // Unix ns; 0 = never defected
}

// combine returns what a and b (about the same customer) say together.
func combine(a, b customer) customer {
	out := a
	if b.acq != 0 && (a.acq == 0 || b.acq < a.acq || b.acq == a.acq && b.acqSeq < a.acqSeq) {
		out.acq, out.acqSeq, out.seg = b.acq, b.acqSeq, b.seg
	}
	out.def = max(a.def, b.def)
	return out
}

// baseFold keeps the active customer base: for each segment, how many
// customers were acquired and how many defected on each day.
type baseFold struct {
	cached map[string]*activeBase // bases(), until the next change
	tab    *strtab.Table
	cust   map[uint32]customer
	acq    map[uint32]map[int64]int64 // segment → day → acquisitions
	def    map[uint32]map[int64]int64 // segment → day → defections of acquired customers
	saved  keyedState[uint32]         // customers changed since the last save
}

func init() {
	MustRegisterKind(Kind{Name: kindBase, Version: baseVersion, Persist: PersistEntries,
		New: func(*Definition, Env) (Fold, error) { return newBaseFold(), nil }})
}

func newBaseFold() *baseFold {
	return &baseFold{tab: strtab.New(), cust: map[uint32]customer{},
		acq: map[uint32]map[int64]int64{}, def: map[uint32]map[int64]int64{}}
}

// contribute adds (sign +1) or removes (-1) c's days to the day counts.
func (f *baseFold) contribute(c customer, sign int64) {
	if c.acq == 0 {
		return
	}
	add := func(m map[uint32]map[int64]int64, day int64) {
		d := m[c.seg]
		if d == nil {
			d = map[int64]int64{}
			m[c.seg] = d
		}
		d[day] += sign
		if d[day] == 0 {
			delete(d, day)
		}
	}
	add(f.acq, dayOf(c.acq))
	if c.def != 0 && c.def >= c.acq {
		add(f.def, dayOf(c.def))
	}
}

type basePart struct {
	f    *baseFold
	cust map[uint32]customer
}

func (f *baseFold) NewPart() Part { return &basePart{f: f, cust: map[uint32]customer{}} }

func (p *basePart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	res := newResolver(p.f.tab, s)
	see := func(seq uint64, t domain.Type, et int64, id, seg uint32) {
		var c customer
		if t == domain.TypeCustomerAcquired {
			c = customer{acq: et, acqSeq: seq, seg: seg}
		} else {
			c = customer{def: et}
		}
		p.cust[id] = combine(p.cust[id], c)
	}
	// ids returns the customer and segment of a record of an older schema,
	// from its event.
	ids := func(seq uint64, r eventstore.Record) (id, seg uint32, err error) {
		ev, err := decodeCurrent(s, r)
		if err != nil {
			return 0, 0, fmt.Errorf("record %d: %w", seq, err)
		}
		return p.f.tab.Intern(ev.Data.CustomerID), p.f.tab.Intern(ev.Data.Segment), nil
	}
	isBase := func(t domain.Type) bool { return t == domain.TypeCustomerAcquired || t == domain.TypeCustomerDefected }
	// In a log of blocks: the type, schema, event time, customer and
	// segment columns only, and nothing of a block without acquisitions or
	// defections.
	return scanColumnsCounted(s, from, to, seen, []eventstore.Field{eventstore.FieldCustomer, eventstore.FieldSegment}, false, func(c *eventstore.Columns) error {
		if !c.AnyType(isBase) {
			return nil
		}
		cust, segs := c.Dim(eventstore.FieldCustomer), c.Dim(eventstore.FieldSegment)
		for j, t := range c.Types {
			if !isBase(domain.Type(t)) {
				continue
			}
			seq := c.First + uint64(j)
			var id, seg uint32
			if c.Schemas[j] == uint32(domain.CurrentSchema) {
				id, seg = res.local(cust[j]), res.local(segs[j])
			} else {
				r, err := c.Record(j)
				if err != nil {
					return err
				}
				if id, seg, err = ids(seq, r); err != nil {
					return err
				}
			}
			see(seq, domain.Type(t), c.EventTimes[j], id, seg)
		}
		return nil
	}, func(seq uint64, r eventstore.Record) error {
		t := r.Type()
		if !isBase(t) {
			return nil
		}
		var id, seg uint32
		if r.Schema() == domain.CurrentSchema {
			id, seg = res.local(r.Dim(eventstore.FieldCustomer)), res.local(r.Dim(eventstore.FieldSegment))
		} else {
			var err error
			if id, seg, err = ids(seq, r); err != nil {
				return err
			}
		}
		see(seq, t, r.EventTime(), id, seg)
		return nil
	})
}

func (f *baseFold) Merge(pp Part) error {
	p := pp.(*basePart)
	if len(p.cust) > 0 {
		f.cached = nil
	}
	for id, c := range p.cust {
		old := f.cust[id]
		nw := combine(old, c)
		if nw == old {
			continue
		}
		f.contribute(old, -1)
		f.contribute(nw, +1)
		f.cust[id] = nw
		f.saved.dirty.mark(id)
	}
	return nil
}

// baseCodec saves one customer an entry: its 4-byte id, and its
// acquisition time, sequence and segment and defection time as varints.
var baseCodec = keyedCodec[uint32, customer]{
	key: binary.BigEndian.AppendUint32,
	value: func(dst []byte, c customer) []byte {
		dst = binary.AppendVarint(dst, c.acq)
		dst = binary.AppendUvarint(dst, c.acqSeq)
		dst = binary.AppendUvarint(dst, uint64(c.seg))
		return binary.AppendVarint(dst, c.def)
	},
}

// SaveEntries writes the customers that changed since the last save (all
// of them with all) and the strings the base gained.
func (f *baseFold) SaveEntries(b Entries, all bool) error {
	if err := saveKeyed(b, all, &f.saved, f.cust, baseCodec, f.tab, nil); err != nil {
		return fmt.Errorf("save customer base: %w", err)
	}
	return nil
}

// LoadEntries replaces the base by the one SaveEntries saved.
func (f *baseFold) LoadEntries(b Entries) error {
	nf := newBaseFold()
	_, strs, err := loadKeyed(b, func(k, v []byte) error {
		if len(k) != 4 {
			return fmt.Errorf("customer entry %x", k)
		}
		r := entryReader{b: v}
		c := customer{acq: r.varint(), acqSeq: r.uvarint(), seg: uint32(r.uvarint()), def: r.varint()}
		if err := r.done(); err != nil {
			return err
		}
		nf.cust[binary.BigEndian.Uint32(k)] = c
		nf.contribute(c, +1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("load customer base: %w", err)
	}
	nf.tab, nf.saved.savedStrs = strtab.FromList(strs), len(strs)
	*f = *nf
	return nil
}

// baseState is the form versions before entries saved the base in, whole.
type baseState struct {
	Strs []string
	Cust []baseCustState
}

type baseCustState struct {
	ID       uint32
	Acq, Def int64
	AcqSeq   uint64
	Seg      uint32
}

// UnmarshalState loads a base saved whole by an earlier version; the
// engine saves it again entry by entry.
func (f *baseFold) UnmarshalState(b []byte) error {
	var st baseState
	if err := gobDecode("customer base", b, &st); err != nil {
		return err
	}
	*f = *newBaseFold()
	f.tab = strtab.FromList(st.Strs)
	for _, c := range st.Cust {
		cc := customer{acq: c.Acq, def: c.Def, acqSeq: c.AcqSeq, seg: c.Seg}
		f.cust[c.ID] = cc
		f.contribute(cc, +1)
	}
	return nil
}

// activeBase answers "how many customers were active at some time during a
// period" for one segment or all of them.
type activeBase struct {
	acqDays, acqCum []int64 // sorted days and cumulative acquisitions
	defDays, defCum []int64
}

func cumulative(ms ...map[int64]int64) (days, cum []int64) {
	sum := map[int64]int64{}
	for _, m := range ms {
		for d, n := range m {
			sum[d] += n
		}
	}
	days = slices.Sorted(maps.Keys(sum))
	cum = make([]int64, len(days))
	var t int64
	for i, d := range days {
		t += sum[d]
		cum[i] = t
	}
	return days, cum
}

// before returns the cumulative count of days strictly before day.
func before(days, cum []int64, day int64) int64 {
	i := sort.Search(len(days), func(i int) bool { return days[i] >= day })
	if i == 0 {
		return 0
	}
	return cum[i-1]
}

// at returns the customers active during [startDay, endDay); ok is false when
// no customer had been acquired before endDay, so the base is unknown.
func (a *activeBase) at(startDay, endDay int64) (n int64, ok bool) {
	acq := before(a.acqDays, a.acqCum, endDay)
	if acq == 0 {
		return 0, false
	}
	return acq - before(a.defDays, a.defCum, startDay), true
}

// bases returns the active base of each segment (by its string) and of all
// customers together (key "").
func (f *baseFold) bases() map[string]*activeBase {
	if f.cached != nil {
		return f.cached
	}
	out := map[string]*activeBase{}
	var allA, allD []map[int64]int64
	for seg, m := range f.acq {
		b := &activeBase{}
		b.acqDays, b.acqCum = cumulative(m)
		b.defDays, b.defCum = cumulative(f.def[seg])
		out[f.tab.Str(seg)] = b
		allA = append(allA, m)
		allD = append(allD, f.def[seg])
	}
	all := &activeBase{}
	all.acqDays, all.acqCum = cumulative(allA...)
	all.defDays, all.defCum = cumulative(allD...)
	out[""] = all
	f.cached = out
	return out
}

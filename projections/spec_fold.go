package projections

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/strtab"
)

// specVersion is the version of the spec fold's code. Version 2: custom
// fields, exact decimal sums, money in decimal, "(none)" groups.
const specVersion = 2

// measure is one compiled measure of a spec.
type measure struct {
	kind  string // count, sum, avg, distinct
	field string
	known bool // a field plaint knows (else custom)
	money bool // amount or cost: minor units of the event's currency
}

// column returns the measure's column name: count, sum_amount, avg_severity,
// distinct_customer_id.
func (m measure) column() string {
	if m.kind == "count" {
		return "count"
	}
	return m.kind + "_" + m.field
}

// groupField is one compiled group_by field.
type groupField struct {
	name  string
	known bool
}

// whereField is one compiled where clause.
type whereField struct {
	name  string
	known bool
	set   *whereSet
}

// compiledSpec is a spec ready to test and group events quickly.
type compiledSpec struct {
	spec     *Spec
	bucket   domain.Bucket
	types    [256]bool
	allTypes bool
	from, to int64 // event time bounds, Unix ns; to == 0 is open
	where    []whereField
	groupBy  []groupField
	measures []measure
	// curColumn is set when a money measure is present and currency is not
	// a group_by field: the output gets a currency column.
	curColumn bool
}

func compileSpec(sp *Spec) (*compiledSpec, error) {
	c := &compiledSpec{spec: sp, allTypes: len(sp.Filter.Types) == 0}
	var err error
	if c.bucket, err = domain.ParseBucket(sp.Bucket); err != nil {
		return nil, err
	}
	for _, t := range sp.Filter.Types {
		c.types[domain.ParseType(t)] = true
	}
	if sp.Filter.From != "" {
		t, err := parseTimeBound(sp.Filter.From)
		if err != nil {
			return nil, domain.FieldErrorf("filter.from", "%v", err)
		}
		c.from = t.UnixNano()
	}
	if sp.Filter.To != "" {
		t, err := parseTimeBound(sp.Filter.To)
		if err != nil {
			return nil, domain.FieldErrorf("filter.to", "%v", err)
		}
		c.to = t.UnixNano()
	}
	for _, f := range slices.Sorted(maps.Keys(sp.Filter.Where)) {
		c.where = append(c.where, whereField{name: f, known: isKnownField(f), set: newWhereSet(sp.Filter.Where[f])})
	}
	for _, g := range sp.GroupBy {
		c.groupBy = append(c.groupBy, groupField{name: g, known: isKnownField(g)})
	}
	for _, m := range sp.Measures {
		if err := checkMeasure(m); err != nil {
			return nil, domain.FieldErrorf("measures", "%v", err)
		}
		k, f, _ := strings.Cut(m, ":")
		ms := measure{kind: k, field: f, known: isKnownField(f)}
		ms.money = (k == "sum" || k == "avg") && contains(moneyFields, f)
		c.curColumn = c.curColumn || ms.money && !contains(sp.GroupBy, "currency")
		c.measures = append(c.measures, ms)
	}
	return c, nil
}

// wantsRecord is the cheap test done before decoding.
func (c *compiledSpec) wantsRecord(r eventstore.Record) bool {
	if c.allTypes && isErasure(r.Type()) || !c.allTypes && !c.types[r.Type()] {
		return false
	}
	et := r.EventTime()
	return et >= c.from && (c.to == 0 || et < c.to)
}

// wantsEvent tests the where clause on a decoded event.
func (c *compiledSpec) wantsEvent(ev *domain.Event) bool {
	for _, w := range c.where {
		if w.known {
			if !w.set.matchKnown(fieldValue(ev, w.name)) {
				return false
			}
		} else if !w.set.matchCustom(customRaw(ev, w.name)) {
			return false
		}
	}
	return true
}

// groupValue returns the group value of field g: the value of a known
// field, customKey of a custom one, "" when the event lacks it.
func groupValue(ev *domain.Event, g groupField) string {
	if g.known {
		return fieldValue(ev, g.name)
	}
	return customKey(customRaw(ev, g.name))
}

// groupLabel renders a group value.
func groupLabel(g groupField, v string) string {
	if g.known {
		if v == "" {
			return NoneLabel
		}
		return v
	}
	return customLabel(v)
}

// specCell holds the measures of one group.
type specCell struct {
	count    int64
	sums     []decSum // per measure (sum and avg)
	n        []int64  // per measure: events with the field present (avg)
	distinct []map[uint32]struct{}
	cur      uint32 // local id of the currency of the cell's money values
}

func (c *compiledSpec) newCell() *specCell {
	nm := len(c.measures)
	cell := &specCell{sums: make([]decSum, nm), n: make([]int64, nm), distinct: make([]map[uint32]struct{}, nm)}
	for i, m := range c.measures {
		if m.kind == "distinct" {
			cell.distinct[i] = map[uint32]struct{}{}
		}
	}
	return cell
}

func (a *specCell) add(b *specCell) {
	a.count += b.count
	if a.cur == 0 {
		a.cur = b.cur
	}
	for i := range a.sums {
		a.sums[i].add(b.sums[i])
		a.n[i] += b.n[i]
		for v := range b.distinct[i] {
			a.distinct[i][v] = struct{}{}
		}
	}
}

// valueProblem is the first event whose value a measure cannot take (a
// string in a sum, a number beyond the range of exact sums). It makes the
// answer an error: never a sum that silently left values out.
type valueProblem struct {
	Seq     uint64
	Message string
}

// specFold is an analyst's projection.
type specFold struct {
	c     *compiledSpec
	tab   *strtab.Table
	cells map[string]*specCell // key: period index and group value ids
	bad   []valueProblem       // per measure; Seq 0: none
	limit int                  // most groups; 0: no bound (groups.go)
	saved keyedState[string]   // groups changed since the last save
}

func init() {
	MustRegisterKind(Kind{Name: kindSpec, Version: specVersion, Persist: PersistEntries,
		New: func(d *Definition, env Env) (Fold, error) {
			if d.Spec == nil {
				return nil, fmt.Errorf("spec projection without a spec")
			}
			c, err := compileSpec(d.Spec)
			if err != nil {
				return nil, err
			}
			f := newSpecFold(c)
			f.limit = env.MaxGroups
			return f, nil
		}})
}

func newSpecFold(c *compiledSpec) *specFold {
	return &specFold{c: c, tab: strtab.New(), cells: map[string]*specCell{}, bad: make([]valueProblem, len(c.measures))}
}

type specPart struct {
	f     *specFold
	cells map[string]*specCell
	bad   []valueProblem
}

func (f *specFold) NewPart() Part {
	return &specPart{f: f, cells: map[string]*specCell{}, bad: make([]valueProblem, len(f.c.measures))}
}

// problem records the first value problem of measure i in the part.
func (p *specPart) problem(i int, seq uint64, format string, args ...any) {
	if p.bad[i].Seq == 0 {
		p.bad[i] = valueProblem{Seq: seq, Message: fmt.Sprintf(format, args...)}
	}
}

func (p *specPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	c, tab := p.f.c, p.f.tab
	key := make([]byte, 4+4*len(c.groupBy))
	err := scanCounted(s, from, to, seen, func(seq uint64, r eventstore.Record) error {
		if !c.wantsRecord(r) {
			return nil
		}
		ev, err := decodeCurrent(s, r)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		if !c.wantsEvent(&ev) {
			return nil
		}
		binary.BigEndian.PutUint32(key, uint32(periodIndex(c.bucket, r.EventTime())))
		for i, g := range c.groupBy {
			binary.BigEndian.PutUint32(key[4+4*i:], tab.Intern(groupValue(&ev, g)))
		}
		cell := p.cells[string(key)]
		if cell == nil {
			cell = c.newCell()
			p.cells[string(key)] = cell
			if err := p.f.checkGroups(len(p.cells)); err != nil {
				return err
			}
		}
		cell.count++
		for i, m := range c.measures {
			switch m.kind {
			case "sum", "avg":
				p.addValue(cell, i, m, seq, &ev)
			case "distinct":
				v := ""
				if m.known {
					v = fieldValue(&ev, m.field)
				} else {
					v = customKey(customRaw(&ev, m.field))
				}
				if v != "" {
					cell.distinct[i][tab.Intern(v)] = struct{}{}
				}
			}
		}
		return nil
	})
	return err
}

// addValue adds the value of measure i's field, when the event has one, to
// the cell's sum and count.
func (p *specPart) addValue(cell *specCell, i int, m measure, seq uint64, ev *domain.Event) {
	d := &ev.Data
	switch {
	case m.field == "severity":
		if d.Severity == 0 {
			return
		}
		cell.sums[i].addInt(int64(d.Severity))
	case m.money:
		var v domain.Money
		switch {
		case m.field == "amount" && d.Currency != "":
			v = d.Amount
		case m.field == "cost" && d.HasCost:
			v = d.Cost
		default:
			return
		}
		cur := p.f.tab.Intern(d.Currency)
		if cell.cur == 0 {
			cell.cur = cur
		} else if cell.cur != cur {
			p.problem(i, seq, "the event at sequence %d is in %s, another currency than the group's %s", seq, d.Currency, p.f.tab.Str(cell.cur))
			return
		}
		cell.sums[i].addInt(int64(v))
	default:
		raw := customRaw(ev, m.field)
		num, ok := numberText(raw)
		if !ok {
			p.problem(i, seq, "the event at sequence %d has %s = %s (%s); %s needs numbers (or strings holding numbers): "+
				"leave such events out with where, or measure distinct:%s", seq, m.field, truncate(raw, 80), jsonKind(raw), m.kind, m.field)
			return
		}
		if num == "" {
			return
		}
		if err := cell.sums[i].addNumber(num); err != nil {
			p.problem(i, seq, "the event at sequence %d has %s = %s: %v", seq, m.field, truncate(raw, 80), err)
			return
		}
	}
	cell.n[i]++
}

// truncate shortens s to at most n bytes for a message.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func (f *specFold) Merge(pp Part) error {
	p := pp.(*specPart)
	for k, pc := range p.cells {
		f.saved.dirty.mark(k)
		c := f.cells[k]
		if c == nil {
			f.cells[k] = pc
			continue
		}
		c.add(pc)
	}
	// Parts come in log order: the first problem is the earliest.
	for i, b := range p.bad {
		if f.bad[i].Seq == 0 {
			f.bad[i] = b
		}
	}
	return f.checkGroups(len(f.cells))
}

// specCodec saves one group an entry: its key, and its count, currency
// and, per measure, sum, count of values and distinct ids.
var specCodec = keyedCodec[string, *specCell]{
	key: func(dst []byte, k string) []byte { return append(dst, k...) },
	value: func(dst []byte, c *specCell) []byte {
		dst = binary.AppendVarint(dst, c.count)
		dst = binary.AppendUvarint(dst, uint64(c.cur))
		for i := range c.sums {
			dst = appendEntryString(dst, c.sums[i].state())
			dst = binary.AppendVarint(dst, c.n[i])
			dst = binary.AppendUvarint(dst, uint64(len(c.distinct[i])))
			for v := range c.distinct[i] {
				dst = binary.AppendUvarint(dst, uint64(v))
			}
		}
		return dst
	},
}

// SaveEntries writes the groups that changed since the last save (all of
// them with all), the strings the spec gained and, in the header, the
// measures' value problems.
func (f *specFold) SaveEntries(b Entries, all bool) error {
	var h []byte
	for _, p := range f.bad {
		h = binary.AppendUvarint(h, p.Seq)
		h = appendEntryString(h, p.Message)
	}
	if err := saveKeyed(b, all, &f.saved, f.cells, specCodec, f.tab, h); err != nil {
		return fmt.Errorf("save projection state: %w", err)
	}
	return nil
}

// LoadEntries replaces the state by the one SaveEntries saved.
func (f *specFold) LoadEntries(b Entries) error {
	nf := newSpecFold(f.c)
	nf.limit = f.limit
	h, strs, err := loadKeyed(b, func(k, v []byte) error {
		r := entryReader{b: v}
		c := f.c.newCell()
		c.count, c.cur = r.varint(), uint32(r.uvarint())
		for i := range c.sums {
			if err := c.sums[i].fromState(r.string()); err != nil {
				return err
			}
			c.n[i] = r.varint()
			n := r.uvarint()
			if n > 0 && c.distinct[i] == nil {
				return fmt.Errorf("group %x: distinct values of measure %d, which is no distinct measure", k, i)
			}
			for j := uint64(0); j < n && r.err == nil; j++ {
				c.distinct[i][uint32(r.uvarint())] = struct{}{}
			}
		}
		if err := r.done(); err != nil {
			return fmt.Errorf("group %x: %w", k, err)
		}
		nf.cells[string(k)] = c
		return nil
	})
	if err != nil {
		return fmt.Errorf("load projection state: %w", err)
	}
	r := entryReader{b: h}
	for i := range nf.bad {
		nf.bad[i] = valueProblem{Seq: r.uvarint(), Message: r.string()}
	}
	if err := r.done(); err != nil {
		return fmt.Errorf("load projection state: header: %w", err)
	}
	nf.tab, nf.saved.savedStrs = strtab.FromList(strs), len(strs)
	*f = *nf
	return nil
}

// specState is the form versions before entries saved a spec in, whole.
type specState struct {
	Strs  []string
	Cells []specCellState
	Bad   []valueProblem
}

type specCellState struct {
	Key      string
	Count    int64
	Sums     []string
	N        []int64
	Distinct [][]uint32
	Cur      uint32
}

// UnmarshalState loads a state saved whole by an earlier version; the
// engine saves it again entry by entry.
func (f *specFold) UnmarshalState(b []byte) error {
	var st specState
	if err := gobDecode("projection state", b, &st); err != nil {
		return err
	}
	f.tab = strtab.FromList(st.Strs)
	f.cells = make(map[string]*specCell, len(st.Cells))
	f.bad = make([]valueProblem, len(f.c.measures))
	copy(f.bad, st.Bad)
	for _, cs := range st.Cells {
		c := f.c.newCell()
		c.count, c.cur = cs.Count, cs.Cur
		for i := range c.sums {
			if i < len(cs.Sums) {
				if err := c.sums[i].fromState(cs.Sums[i]); err != nil {
					return fmt.Errorf("decode projection state: %w", err)
				}
			}
		}
		copy(c.n, cs.N)
		for i, d := range cs.Distinct {
			if i < len(c.distinct) && c.distinct[i] != nil {
				for _, v := range d {
					c.distinct[i][v] = struct{}{}
				}
			}
		}
		f.cells[cs.Key] = c
	}
	return nil
}

// Table is the result of a projection: one row per period and group, sorted
// by period then group values. Sums and averages are exact decimals
// (json.Number), money in its currency's major units.
type Table struct {
	Name    string   `json:"name"`
	AsOfSeq uint64   `json:"as_of_seq"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// table renders the state, or returns the error a measure's values made.
func (f *specFold) table() (*Table, error) {
	c := f.c
	for i, b := range f.bad {
		if b.Seq != 0 {
			return nil, domain.FieldErrorf("measures", "%q: %s", c.spec.Measures[i], b.Message)
		}
	}
	t := &Table{Name: c.spec.Name, Columns: []string{"bucket"}}
	for _, g := range c.groupBy {
		t.Columns = append(t.Columns, g.name)
	}
	if c.curColumn {
		t.Columns = append(t.Columns, "currency")
	}
	for _, m := range c.measures {
		t.Columns = append(t.Columns, m.column())
	}
	rows := make([]tableRow[*specCell], 0, len(f.cells))
	for k, cell := range f.cells {
		r := tableRow[*specCell]{b: int32(binary.BigEndian.Uint32([]byte(k))), cell: cell}
		for i, g := range c.groupBy {
			r.keys = append(r.keys, groupLabel(g, f.tab.Str(binary.BigEndian.Uint32([]byte(k[4+4*i:])))))
		}
		rows = append(rows, r)
	}
	sortTableRows(rows)
	for _, r := range rows {
		out := []any{periodAt(c.bucket, r.b).String()}
		for _, k := range r.keys {
			out = append(out, k)
		}
		cur := f.tab.Str(r.cell.cur)
		if c.curColumn {
			out = append(out, cur)
		}
		for i, m := range c.measures {
			scale := 0
			if m.money && cur != "" {
				scale = domain.CurrencyExponent(cur)
			}
			switch m.kind {
			case "count":
				out = append(out, r.cell.count)
			case "sum":
				if r.cell.n[i] == 0 {
					out = append(out, nil) // no value to sum: no sum, not a zero
				} else {
					out = append(out, json.Number(r.cell.sums[i].text(scale)))
				}
			case "avg":
				if r.cell.n[i] == 0 {
					out = append(out, nil)
				} else {
					out = append(out, json.Number(avgText(&r.cell.sums[i], r.cell.n[i], scale)))
				}
			case "distinct":
				out = append(out, int64(len(r.cell.distinct[i])))
			}
		}
		t.Rows = append(t.Rows, out)
	}
	return t, nil
}

package projections

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// specVersion is the version of the spec fold's code.
const specVersion = 1

// measure is one compiled measure of a spec.
type measure struct {
	kind  string // count, sum, avg, distinct
	field string
}

// column returns the measure's column name: count, sum_amount, avg_severity,
// distinct_customer_id.
func (m measure) column() string {
	if m.kind == "count" {
		return "count"
	}
	return m.kind + "_" + m.field
}

// compiledSpec is a spec ready to test and group events quickly.
type compiledSpec struct {
	spec     *Spec
	bucket   domain.Bucket
	types    [256]bool
	allTypes bool
	from, to int64 // event time bounds, Unix ns; to == 0 is open
	where    map[string]map[string]bool
	groupBy  []string
	measures []measure
}

func compileSpec(sp *Spec) (*compiledSpec, error) {
	c := &compiledSpec{spec: sp, where: map[string]map[string]bool{}, groupBy: sp.GroupBy, allTypes: len(sp.Filter.Types) == 0}
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
	for f, vals := range sp.Filter.Where {
		set := map[string]bool{}
		for _, v := range vals {
			set[v] = true
		}
		c.where[f] = set
	}
	for _, m := range sp.Measures {
		if err := checkMeasure(m); err != nil {
			return nil, domain.FieldErrorf("measures", "%v", err)
		}
		k, f, _ := strings.Cut(m, ":")
		c.measures = append(c.measures, measure{kind: k, field: f})
	}
	return c, nil
}

// wantsRecord is the cheap test done before decoding.
func (c *compiledSpec) wantsRecord(r eventstore.Record) bool {
	if !c.allTypes && !c.types[r.Type()] {
		return false
	}
	et := r.EventTime()
	return et >= c.from && (c.to == 0 || et < c.to)
}

// wantsEvent tests the where clause on a decoded event.
func (c *compiledSpec) wantsEvent(ev *domain.Event) bool {
	for f, set := range c.where {
		if !set[fieldValue(ev, f)] {
			return false
		}
	}
	return true
}

// specCell holds the measures of one group.
type specCell struct {
	count    int64
	sums     []int64 // per measure (sum and avg)
	n        []int64 // per measure: events with the field present (avg)
	distinct []map[uint32]struct{}
}

func (c *compiledSpec) newCell() *specCell {
	nm := len(c.measures)
	cell := &specCell{sums: make([]int64, nm), n: make([]int64, nm), distinct: make([]map[uint32]struct{}, nm)}
	for i, m := range c.measures {
		if m.kind == "distinct" {
			cell.distinct[i] = map[uint32]struct{}{}
		}
	}
	return cell
}

func (a *specCell) add(b *specCell) {
	a.count += b.count
	for i := range a.sums {
		a.sums[i] += b.sums[i]
		a.n[i] += b.n[i]
		for v := range b.distinct[i] {
			a.distinct[i][v] = struct{}{}
		}
	}
}

// specFold is an analyst's projection.
type specFold struct {
	c     *compiledSpec
	tab   *strtab
	cells map[string]*specCell // key: period index and group value ids
}

func newSpecFold(c *compiledSpec) *specFold {
	return &specFold{c: c, tab: newStrtab(), cells: map[string]*specCell{}}
}

type specPart struct {
	f     *specFold
	cells map[string]*specCell
}

func (f *specFold) newPart() part { return &specPart{f: f, cells: map[string]*specCell{}} }

func (p *specPart) scan(s *eventstore.Snapshot, from, to uint64, seen *atomic.Uint64) error {
	c, tab := p.f.c, p.f.tab
	key := make([]byte, 4+4*len(c.groupBy))
	var n uint64
	err := s.Scan(from, to, func(seq uint64, r eventstore.Record) error {
		n++
		if n&(progressEvery-1) == 0 {
			seen.Add(progressEvery)
		}
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
			binary.BigEndian.PutUint32(key[4+4*i:], tab.intern(fieldValue(&ev, g)))
		}
		cell := p.cells[string(key)]
		if cell == nil {
			cell = c.newCell()
			p.cells[string(key)] = cell
		}
		cell.count++
		for i, m := range c.measures {
			switch m.kind {
			case "sum", "avg":
				if m.field == "amount" && ev.Data.Currency == "" || m.field == "severity" && ev.Data.Severity == 0 {
					continue
				}
				cell.sums[i] += numericValue(&ev, m.field)
				cell.n[i]++
			case "distinct":
				if v := fieldValue(&ev, m.field); v != "" {
					cell.distinct[i][tab.intern(v)] = struct{}{}
				}
			}
		}
		return nil
	})
	seen.Add(n & (progressEvery - 1))
	return err
}

func (f *specFold) merge(pp part) {
	p := pp.(*specPart)
	for k, pc := range p.cells {
		c := f.cells[k]
		if c == nil {
			f.cells[k] = pc
			continue
		}
		c.add(pc)
	}
}

type specState struct {
	Strs  []string
	Cells []specCellState
}

type specCellState struct {
	Key      string
	Count    int64
	Sums, N  []int64
	Distinct [][]uint32
}

func (f *specFold) marshal() ([]byte, error) {
	st := specState{Strs: f.tab.list()}
	for k, c := range f.cells {
		cs := specCellState{Key: k, Count: c.count, Sums: c.sums, N: c.n, Distinct: make([][]uint32, len(c.distinct))}
		for i, d := range c.distinct {
			for v := range d {
				cs.Distinct[i] = append(cs.Distinct[i], v)
			}
		}
		st.Cells = append(st.Cells, cs)
	}
	var buf bytes.Buffer
	if err := gob.NewEncoder(&buf).Encode(&st); err != nil {
		return nil, fmt.Errorf("encode projection state: %w", err)
	}
	return buf.Bytes(), nil
}

func (f *specFold) unmarshal(b []byte) error {
	var st specState
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return fmt.Errorf("decode projection state: %w", err)
	}
	f.tab = strtabFrom(st.Strs)
	f.cells = make(map[string]*specCell, len(st.Cells))
	for _, cs := range st.Cells {
		c := f.c.newCell()
		c.count = cs.Count
		copy(c.sums, cs.Sums)
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
// by period then group values.
type Table struct {
	Name    string   `json:"name"`
	AsOfSeq uint64   `json:"as_of_seq"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// table renders the state.
func (f *specFold) table() *Table {
	c := f.c
	t := &Table{Name: c.spec.Name, Columns: append([]string{"bucket"}, c.groupBy...)}
	for _, m := range c.measures {
		t.Columns = append(t.Columns, m.column())
	}
	type row struct {
		b    int32
		keys []string
		cell *specCell
	}
	rows := make([]row, 0, len(f.cells))
	for k, cell := range f.cells {
		r := row{b: int32(binary.BigEndian.Uint32([]byte(k))), cell: cell}
		for i := range c.groupBy {
			r.keys = append(r.keys, f.tab.str(binary.BigEndian.Uint32([]byte(k[4+4*i:]))))
		}
		rows = append(rows, r)
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].b != rows[j].b {
			return rows[i].b < rows[j].b
		}
		for k := range rows[i].keys {
			if rows[i].keys[k] != rows[j].keys[k] {
				return rows[i].keys[k] < rows[j].keys[k]
			}
		}
		return false
	})
	for _, r := range rows {
		out := []any{periodAt(c.bucket, r.b).String()}
		for _, k := range r.keys {
			out = append(out, k)
		}
		for i, m := range c.measures {
			switch m.kind {
			case "count":
				out = append(out, r.cell.count)
			case "sum":
				out = append(out, r.cell.sums[i])
			case "avg":
				if r.cell.n[i] == 0 {
					out = append(out, nil)
				} else {
					out = append(out, math.Round(float64(r.cell.sums[i])/float64(r.cell.n[i])*1e4)/1e4)
				}
			case "distinct":
				out = append(out, int64(len(r.cell.distinct[i])))
			}
		}
		t.Rows = append(t.Rows, out)
	}
	return t
}

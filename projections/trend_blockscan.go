package projections

import (
	"math"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// This file is the trend fold's scan of a block when its key is at most one
// dimension (the common trend, by category say): the hot loop of a build.
// It finds a complaint's cell by two comparisons and an index instead of a
// division and a hash: the period by the event-time bounds of the last one
// met, the cell by the value stored in the block's column (a dictionary id,
// or a severity) in that period's row of cells.

// rowMax bounds the stored values a period's row of cells is indexed by;
// a complaint of a greater value (a dimension of many values, such as a
// customer) takes the part's map.
const rowMax = 1 << 12

// periodSlots is how many periods a block scan keeps at hand besides the
// current one: a late complaint's period is most often among them.
const periodSlots = 8

// trendPeriod is a period a part's block scan has met: its event-time
// bounds, index, restatement threshold, and its row of cells by stored value.
type trendPeriod struct {
	lo, hi int64 // event times [lo, hi), Unix ns
	idx    int32
	thr    int64 // record time after which a complaint is late
	cells  []*trendPartCell
}

// trendBlockScan is the state of a part's block scan of a key of at most one
// dimension, from block to block of one Scan.
type trendBlockScan struct {
	p      *trendPart
	sev    bool // the dimension is severity
	nd     int  // 0 or 1
	res    *resolver
	sevIDs *[256]uint32
	cur    *trendPeriod
	slots  [periodSlots]*trendPeriod
	next   int // the slot to replace next
	byIdx  map[int32]*trendPeriod
}

// period returns the period of event time et, making it the current one.
func (s *trendBlockScan) period(et int64) *trendPeriod {
	for i, e := range s.slots {
		if e != nil && et >= e.lo && et < e.hi {
			s.slots[i] = s.cur
			s.cur = e
			return e
		}
	}
	f := s.p.f
	idx := periodIndex(f.bucket, et)
	e := s.byIdx[idx]
	if e == nil {
		e = &trendPeriod{idx: idx, thr: math.MaxInt64}
		if t, ok := f.thr[idx]; ok {
			e.thr = t
		}
		e.lo, e.hi = periodBounds(f.bucket, idx, et)
		s.byIdx[idx] = e
	}
	if s.cur != nil {
		s.slots[s.next] = s.cur
		s.next = (s.next + 1) % periodSlots
	}
	s.cur = e
	return e
}

// periodBounds returns the event times [lo, hi) of the period of index idx
// of width b, which holds et; when they cannot be trusted (times near the
// ends of int64), [et, et+1) or an empty range, so that every other time
// is looked up again.
func periodBounds(b domain.Bucket, idx int32, et int64) (lo, hi int64) {
	lo, hi = periodAt(b, idx).Start.UnixNano(), periodAt(b, idx+1).Start.UnixNano()
	if lo <= et && et < hi && periodIndex(b, lo) == idx && periodIndex(b, hi-1) == idx {
		return lo, hi
	}
	if et < math.MaxInt64 {
		return et, et + 1
	}
	return 0, 0
}

// cell returns the cell of stored value v in period e, adding it (and
// checking the part's bound on cells) when new.
func (s *trendBlockScan) cell(e *trendPeriod, v uint32) (*trendPartCell, error) {
	var k trendKey
	k.b = e.idx
	if s.nd == 1 {
		if s.sev {
			k.v[0] = s.sevIDs[byte(v)]
		} else {
			k.v[0] = s.res.local(v)
		}
	}
	p := s.p
	c := p.cell(k, s.nd)
	if c.count == 0 {
		if err := p.f.checkGroups(len(p.cells) + len(p.packed)); err != nil {
			return nil, err
		}
	}
	if v < rowMax {
		if int(v) >= len(e.cells) {
			e.cells = append(e.cells, make([]*trendPartCell, int(v)+1-len(e.cells))...)
		}
		e.cells[v] = c
	}
	return c, nil
}

// block counts the complaints of the current schema of the block c (its
// record times decoded only when a period's threshold needs them), whose
// dimension's stored values are vals (nil with no dimension); other
// calls the part's general count for record j, a complaint of an older
// schema.
func (s *trendBlockScan) block(c *eventstore.Columns, vals []uint32, other func(j int) error) error {
	// Record times never go backwards in a log: a complaint of the block is
	// late only in a period whose threshold is before the last of them.
	_, lastRT := c.RecordTimeRange()
	e := s.cur
	if e == nil {
		e = &trendPeriod{lo: 1, hi: 0} // no time falls in it
	}
	for j, t := range c.Types {
		if domain.Type(t) != domain.TypeComplaintFiled {
			continue
		}
		if c.Schemas[j] != uint32(domain.CurrentSchema) {
			if err := other(j); err != nil {
				return err
			}
			continue
		}
		et := c.EventTimes[j]
		if et < e.lo || et >= e.hi {
			e = s.period(et)
		}
		var v uint32
		if vals != nil {
			v = vals[j]
		}
		var cell *trendPartCell
		if v < uint32(len(e.cells)) {
			cell = e.cells[v]
		}
		if cell == nil {
			var err error
			if cell, err = s.cell(e, v); err != nil {
				return err
			}
		}
		cell.count++
		if e.thr < lastRT {
			rts, err := c.LoadRecordTimes()
			if err != nil {
				return err
			}
			if rt := rts[j]; rt > e.thr {
				cell.late++
				cell.lateRT = max(cell.lateRT, rt)
			}
		}
	}
	return nil
}

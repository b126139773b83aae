package alerts

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"hash/fnv"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/detect"
)

// fold is the detector's projection state (see the package doc).
type fold struct {
	p   Params
	d   *detect.Detector
	cfg detect.Config
	st  state

	// Indexes of st.Series, rebuilt after a load.
	cats  []*series            // category series, by key
	byKey map[string]*series   // every series, by category, dim and value
	drill map[string][]*series // drill-down series of a category, by key

	// monthEnd is the first day after the last month of st.Starts[1] (0:
	// unknown).
	monthEnd int64

	// tipped reports a complaint that took its category above the bound
	// of its last judgement: everything is judged again at once.
	tipped bool

	// scratch holds what evaluate and judge reuse from one evaluation to
	// the next (the categories' judgements in [0], their drill-downs' in
	// [1]); nothing in it outlives an evaluation.
	scratch evalScratch
}

// state is what is saved of the fold.
type state struct {
	// Started reports that an event was folded: Day0 is the first day of
	// the series' daily counts, Watermark the latest event time (Unix ns).
	Started   bool
	Day0      int64
	Watermark int64
	Seq       uint64 // last sequence folded
	// Starts holds the first days of the ISO weeks (0) and months (1)
	// from those holding Day0 up to the watermark's.
	Starts [2][]int64
	Series []*series
	Events []Event
}

func newFold(p Params) (*fold, error) {
	p.setDefaults()
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d, err := detect.New(p.detectConfig())
	if err != nil {
		return nil, err
	}
	return &fold{p: p, d: d, cfg: d.Config(), byKey: map[string]*series{}, drill: map[string][]*series{}}, nil
}

// rec is one event of a part that matters to the detector: a complaint, or
// an event that moves the part's watermark.
type rec struct {
	seq       uint64
	et        int64
	complaint bool
	cat       int32 // part-local string index (-1: none)
	seg, chn  int32
	cust      uint32
	id        string
}

type part struct {
	recs []rec
	strs []string
	idx  map[string]int32
}

func (f *fold) NewPart() projections.Part { return &part{idx: map[string]int32{}} }

// ScansBesideMerge reports that a part's Scan reads nothing of the fold
// (projections.Pipeliner): a build scans the next parts while it judges.
func (f *fold) ScansBesideMerge() bool { return true }

func (p *part) str(s string) int32 {
	if s == "" {
		return -1
	}
	if i, ok := p.idx[s]; ok {
		return i
	}
	i := int32(len(p.strs))
	p.strs = append(p.strs, s)
	p.idx[s] = i
	return i
}

// blockScanner is a view that hands out the records it keeps in blocks a
// block at a time, column by column (eventstore.Snapshot does).
type blockScanner interface {
	ScanBlocks(from, to uint64, fields []eventstore.Field, severity bool,
		block func(*eventstore.Columns) error, record func(seq uint64, r eventstore.Record) error) error
}

// scanFields are the fixed fields of a complaint the detector reads.
var scanFields = []eventstore.Field{eventstore.FieldCategory, eventstore.FieldSegment, eventstore.FieldChannel, eventstore.FieldCustomer}

// Scan keeps the complaints of from..to and the other events that move the
// watermark to a later day, in order. In a log of blocks it reads the
// columns of the fields it keeps and each complaint's id, no record
// assembled.
func (p *part) Scan(s projections.Snapshot, from, to uint64, seen *atomic.Uint64) error {
	byDict := map[uint32]int32{}
	dict := func(id uint32) int32 {
		if id == 0 {
			return -1
		}
		if i, ok := byDict[id]; ok {
			return i
		}
		i := p.str(s.String(id))
		byDict[id] = i
		return i
	}
	if p.recs == nil {
		want := int((to - from + 1) / 2)
		if b, ok := recBufs.Get().(*[]rec); ok && cap(*b) >= want {
			p.recs = (*b)[:0]
		} else {
			p.recs = make([]rec, 0, want)
		}
	}
	var n uint64
	count := func(k uint64) {
		before := n
		n += k
		if crossed := n/projections.ProgressEvery - before/projections.ProgressEvery; crossed > 0 {
			seen.Add(crossed * projections.ProgressEvery)
		}
	}
	maxDay := int64(-1 << 63)
	// other keeps an event other than a complaint, of event time et, that
	// moves the watermark to a later day: other events move it to the
	// start of their day (so that a quiet category's periods still end),
	// and only those of a later day than any before them in the part
	// matter.
	other := func(seq uint64, et int64) {
		if d := dayOf(et) * nsPerDay; d > maxDay {
			maxDay = d
			p.recs = append(p.recs, rec{seq: seq, et: d})
		}
	}
	// current keeps a complaint of the current schema from its dictionary
	// ids (cust: the customer's; a complaint without a known category is
	// dropped, as the detector judges categories).
	current := func(seq uint64, et int64, cat, seg, chn, cust uint32, id string) {
		maxDay = max(maxDay, dayOf(et)*nsPerDay)
		if c := dict(cat); c >= 0 {
			p.recs = append(p.recs, rec{seq: seq, et: et, complaint: true, cat: c, seg: dict(seg), chn: dict(chn), cust: cust & (1<<31 - 1), id: id})
		}
	}
	// keep keeps record r if it matters.
	keep := func(seq uint64, r eventstore.Record) error {
		t := r.Type()
		if t.IsReserved() {
			return nil
		}
		et := r.EventTime()
		if t != domain.TypeComplaintFiled {
			other(seq, et)
			return nil
		}
		if r.Schema() == domain.CurrentSchema {
			id, err := r.ID()
			if err != nil {
				return fmt.Errorf("record %d: %w", seq, err)
			}
			current(seq, et, r.Dim(eventstore.FieldCategory), r.Dim(eventstore.FieldSegment), r.Dim(eventstore.FieldChannel), r.Dim(eventstore.FieldCustomer), id)
			return nil
		}
		// An older schema: decoded and upcast, its customer id hashed (the
		// high bit says so).
		maxDay = max(maxDay, dayOf(et)*nsPerDay)
		ev, err := s.Decode(r)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		domain.Upcast(&ev)
		rc := rec{seq: seq, et: et, complaint: true, id: ev.ID,
			cat: p.str(ev.Data.Category), seg: p.str(ev.Data.Segment), chn: p.str(ev.Data.Channel)}
		h := fnv.New32a()
		h.Write([]byte(ev.Data.CustomerID))
		rc.cust = h.Sum32() | 1<<31
		if rc.cat >= 0 {
			p.recs = append(p.recs, rc)
		}
		return nil
	}
	record := func(seq uint64, r eventstore.Record) error {
		count(1)
		return keep(seq, r)
	}
	bs, ok := s.(blockScanner)
	if !ok {
		err := s.Scan(from, to, record)
		seen.Add(n & (projections.ProgressEvery - 1))
		return err
	}
	// The ids of a block's complaints are made one string, which each
	// complaint's id is a part of (one allocation a block, not one a
	// complaint): ids holds their text, idAt the record each belongs to
	// and where it ends.
	var ids []byte
	type idEnd struct{ rec, end int }
	var idAt []idEnd
	err := bs.ScanBlocks(from, to, scanFields, false, func(c *eventstore.Columns) error {
		cats, segs, chans := c.Dim(eventstore.FieldCategory), c.Dim(eventstore.FieldSegment), c.Dim(eventstore.FieldChannel)
		custs := c.Dim(eventstore.FieldCustomer)
		ids, idAt = ids[:0], idAt[:0]
		for j, typ := range c.Types {
			t, seq, et := domain.Type(typ), c.First+uint64(j), c.EventTimes[j]
			switch {
			case t.IsReserved():
				continue
			case t != domain.TypeComplaintFiled:
				other(seq, et)
				continue
			case c.Schemas[j] != uint32(domain.CurrentSchema):
				r, err := c.Record(j)
				if err != nil {
					return err
				}
				if err := keep(seq, r); err != nil {
					return err
				}
				continue
			}
			if cats[j] == 0 { // no category: no id needed
				maxDay = max(maxDay, dayOf(et)*nsPerDay)
				continue
			}
			n := len(p.recs)
			current(seq, et, cats[j], segs[j], chans[j], custs[j], "")
			if len(p.recs) == n {
				continue // dropped
			}
			var err error
			if ids, err = c.AppendID(ids, j); err != nil {
				return err
			}
			idAt = append(idAt, idEnd{n, len(ids)})
		}
		all, start := string(ids), 0
		for _, x := range idAt {
			p.recs[x.rec].id = all[start:x.end]
			start = x.end
		}
		count(uint64(c.Len()))
		return nil
	}, record)
	seen.Add(n & (projections.ProgressEvery - 1))
	return err
}

// Merge folds the part's events in log order.
func (f *fold) Merge(pp projections.Part) error {
	p := pp.(*part)
	cats := make([]*series, len(p.strs))
	// drills holds the drill-down series of each category met, by
	// dimension and value (part-local string indexes).
	drills := make([]*[2][]*series, len(p.strs))
	for i := range p.recs {
		r := &p.recs[i]
		f.advanceTo(r.et, r.seq)
		if !r.complaint {
			continue
		}
		c := cats[r.cat]
		if c == nil {
			c = f.series(p.strs[r.cat], dimNone, "")
			cats[r.cat] = c
		}
		d := dayOf(r.et)
		if d < f.st.Day0 {
			f.rebase(d)
		}
		pw, pm := f.period(0, d), f.period(1, d)
		f.count(c, d, pw, pm, r)
		for dim, v := range [2]int32{r.seg, r.chn} {
			if v < 0 {
				continue
			}
			dc := drills[r.cat]
			if dc == nil {
				dc = &[2][]*series{}
				drills[r.cat] = dc
			}
			if dc[dim] == nil {
				dc[dim] = make([]*series, len(p.strs))
			}
			s := dc[dim][v]
			if s == nil {
				s = f.series(p.strs[r.cat], uint8(dim+1), p.strs[v])
				dc[dim][v] = s
			}
			f.count(s, d, pw, pm, r)
		}
		f.st.Seq = r.seq
		if f.tipped {
			f.tipped = false
			f.evaluate(f.st.Watermark, r.seq)
		}
	}
	if n := len(p.recs); n > 0 {
		f.st.Seq = max(f.st.Seq, p.recs[n-1].seq)
	}
	clear(p.recs)
	recs := p.recs[:0]
	p.recs = nil
	recBufs.Put(&recs)
	return nil
}

// recBufs recycles the parts' record buffers from one chunk of a build to
// the next.
var recBufs sync.Pool

// series returns the series of cat (and dim, val), adding it when new.
func (f *fold) series(cat string, dim uint8, val string) *series {
	k := cat + "\x00" + string(rune('0'+dim)) + "\x00" + val
	if s := f.byKey[k]; s != nil {
		return s
	}
	s := newSeries(cat, dim, val)
	f.st.Series = append(f.st.Series, s)
	f.index(k, s)
	return s
}

func (f *fold) index(k string, s *series) {
	f.byKey[k] = s
	if s.Dim == dimNone {
		i, _ := slices.BinarySearchFunc(f.cats, s, seriesLess)
		f.cats = slices.Insert(f.cats, i, s)
		return
	}
	l := f.drill[s.Cat]
	i, _ := slices.BinarySearchFunc(l, s, seriesLess)
	f.drill[s.Cat] = slices.Insert(l, i, s)
}

// count adds complaint r, of day d (in ISO week pw and month pm), to s.
func (f *fold) count(s *series, d int64, pw, pm int, r *rec) {
	s.add(d, f.st.Day0, pw, pm)
	recent := false
	for i := range s.K {
		ks := &s.K[i]
		switch {
		case !ks.Started:
		case d >= ks.Cur:
			ks.CurN++
			recent = true
			f.tipped = f.tipped || s.Dim == dimNone && ks.CurN > ks.TrigCur
		case ks.HasPrev && d >= ks.Prev:
			ks.LastN++
			ks.LastDirty = true
			recent = true
			f.tipped = f.tipped || s.Dim == dimNone && ks.LastN > ks.TrigLast
		}
	}
	if recent {
		s.Recent = append(s.Recent, complaintRef{Day: d, Cust: r.cust, ID: r.id})
	}
}

// rebase moves Day0 back to day d (a complaint older than every other):
// the periods are counted again from the new first ones.
func (f *fold) rebase(d int64) {
	shift := int(f.st.Day0 - d)
	f.st.Day0 = d
	f.st.Starts = [2][]int64{}
	f.monthEnd = 0
	for _, s := range f.st.Series {
		s.Daily = append(make([]int32, shift, shift+len(s.Daily)), s.Daily...)
		s.P = [2][]float64{}
		for i, n := range s.Daily {
			if n == 0 {
				continue
			}
			day := d + int64(i)
			for k := range s.P {
				p := f.period(k, day)
				s.grow(k, p)
				s.P[k][p] += float64(n)
			}
		}
	}
}

// period is the index of the period of kind k holding day d, counted from
// the one holding Day0 (d >= Day0).
func (f *fold) period(k int, d int64) int {
	st := &f.st.Starts[k]
	if len(*st) == 0 {
		*st = append(*st, periodStartDay(kinds[k], f.st.Day0))
	}
	if kinds[k] == detect.Week {
		return int((d - (*st)[0]) / 7)
	}
	if n := len(*st); d >= (*st)[n-1] && d < f.monthEnd {
		return n - 1
	}
	for last := (*st)[len(*st)-1]; d >= periodEndDay(kinds[k], last); last = (*st)[len(*st)-1] {
		*st = append(*st, periodEndDay(kinds[k], last))
	}
	f.monthEnd = periodEndDay(kinds[k], (*st)[len(*st)-1])
	i, _ := slices.BinarySearch(*st, d+1)
	return i - 1
}

// advanceTo moves the watermark to et: crossing midnight, everything is
// judged at the first midnight after the old watermark... up to et's day.
func (f *fold) advanceTo(et int64, seq uint64) {
	if !f.st.Started {
		f.st.Started, f.st.Day0, f.st.Watermark = true, dayOf(et), et
		return
	}
	if et <= f.st.Watermark {
		return
	}
	if d := dayOf(et); d > dayOf(f.st.Watermark) {
		f.st.Watermark = d * nsPerDay
		f.evaluate(f.st.Watermark, seq-1)
	}
	f.st.Watermark = et
}

// MarshalState saves the fold.
func (f *fold) MarshalState() ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(&f.st); err != nil {
		return nil, fmt.Errorf("alerts state: %w", err)
	}
	return b.Bytes(), nil
}

// UnmarshalState loads a saved fold.
func (f *fold) UnmarshalState(b []byte) error {
	var st state
	if err := gob.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return fmt.Errorf("alerts state: %w", err)
	}
	f.st = st
	f.monthEnd = 0
	f.cats, f.byKey, f.drill = nil, map[string]*series{}, map[string][]*series{}
	for _, s := range st.Series {
		f.index(s.Cat+"\x00"+string(rune('0'+s.Dim))+"\x00"+s.Val, s)
	}
	return nil
}

// Answer is what advance hooks see: every alert event so far.
type Answer struct {
	Events []Event
}

// Answer returns the events so far (a prefix that later folds only extend).
func (f *fold) Answer() any {
	n := len(f.st.Events)
	return Answer{Events: f.st.Events[:n:n]}
}

// Events returns the alert events so far, oldest first; the caller must
// not keep them past the engine's Read.
func (f *fold) Events() []Event { return f.st.Events }

// MemoryBytes estimates the state's memory.
func (f *fold) MemoryBytes() int64 {
	n := int64(0)
	for _, s := range f.st.Series {
		n += int64(cap(s.Daily))*4 + int64(cap(s.Recent))*48 + 512
	}
	return n + int64(len(f.st.Events))*1024
}

// Table lists the alert events.
func (f *fold) Table(name string) (*projections.Table, error) {
	t := &projections.Table{Name: name, Columns: []string{"seq", "id", "type", "time", "series", "period", "period_start", "observed", "upper", "rule"}}
	for _, e := range f.st.Events {
		t.Rows = append(t.Rows, []any{e.Seq, e.ID, e.Type, e.Time.Format("2006-01-02T15:04:05Z07:00"), e.Data.AlertID, e.Data.Period, e.Data.PeriodStart,
			e.Data.Observed, float64(e.Data.Upper), e.Data.Rule})
	}
	return t, nil
}

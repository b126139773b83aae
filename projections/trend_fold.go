package projections

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/strtab"
)

// trendVersion is the version of the trend fold's code. Raising it rebuilds
// every stored trend projection.
const trendVersion = 2

// trendKey identifies one cell of a trend projection: a period index and the
// local ids of the key dimensions' values.
type trendKey struct {
	b int32
	v [maxKeyDims]uint32
}

// trendCell counts the complaints of one period and key. Late complaints
// were stored more than the grace period after their period was reported:
// they restated it (see DefaultRestateGrace).
type trendCell struct {
	count      int64
	late       int64
	restatedAt int64 // record time of the last late complaint, Unix ns
}

// trendFold counts complaint.filed events by event-time period and the
// values of up to maxKeyDims dimensions.
type trendFold struct {
	dims   []Dimension
	bucket domain.Bucket
	tab    *strtab.Table
	cells  map[trendKey]*trendCell
	// minET and maxET are the earliest and latest event times (Unix ns) of
	// the events folded (of any type but those plaint writes itself, anyET
	// once there is one): the span of time the data cover.
	anyET        bool
	minET, maxET int64

	// restate returns the restatement thresholds of the fold's buckets
	// (see firstsFold.thresholds) for folding up to a sequence; nil counts
	// nothing as late. thr holds those of the fold in progress.
	restate func(ctx context.Context, to uint64) (map[int32]int64, error)
	thr     map[int32]int64
	limit   int // most cells; 0: no bound (groups.go)
}

func newTrendFold(dims []Dimension, b domain.Bucket) *trendFold {
	return &trendFold{dims: dims, bucket: b, tab: strtab.New(), cells: map[trendKey]*trendCell{}}
}

// Trend folds are caches (trend_cache.go): kept in memory, evicted when
// idle or over the memory bound, rebuilt when asked for again.
func init() {
	MustRegisterKind(Kind{Name: kindTrend, Version: trendVersion, Persist: PersistNone,
		New: func(d *Definition, env Env) (Fold, error) {
			b, err := domain.ParseBucket(d.Bucket)
			if err != nil {
				return nil, err
			}
			tf := newTrendFold(d.Dims, b)
			tf.limit = env.MaxGroups
			if env.e != nil {
				env.e.wireTrend(tf)
			}
			return tf, nil
		}})
}

// prepare fetches the restatement thresholds for a fold up to seq to.
func (f *trendFold) Prepare(ctx context.Context, to uint64) error {
	if f.restate == nil {
		return nil
	}
	thr, err := f.restate(ctx, to)
	if err != nil {
		return fmt.Errorf("restatement thresholds: %w", err)
	}
	f.thr = thr
	return nil
}

// trendPartCell is a trendCell of a part.
type trendPartCell struct {
	count, late, lateRT int64
}

type trendPart struct {
	f     *trendFold
	cells map[trendKey]*trendPartCell
	// packed holds the cells of keys that fit in 64 bits (one dimension, or
	// two with small ids): the common case, hashed much faster.
	packed map[uint64]*trendPartCell
	// recent caches cells of packed, direct-mapped by their key: a fold
	// meets few cells, so most lookups end here instead of in the map.
	recent *[1024]recentCell
	anyET  bool
	minET  int64
	maxET  int64
	// snap is the log's snapshot the part last scanned, and res and one the
	// state of that scan a later Scan of the same snapshot goes on with
	// (a fold in any order scans several pieces into a part).
	snap *eventstore.Snapshot
	res  *resolver
	one  *trendBlockScan
}

// recentCell is a slot of trendPart.recent.
type recentCell struct {
	pk uint64
	c  *trendPartCell
}

// pack returns k in 64 bits when it fits.
func pack(k trendKey, nd int) (uint64, bool) {
	switch {
	case nd <= 1:
		return uint64(uint32(k.b))<<32 | uint64(k.v[0]), true
	case nd == 2 && k.v[0] < 1<<16 && k.v[1] < 1<<16:
		return uint64(uint32(k.b))<<32 | uint64(k.v[0])<<16 | uint64(k.v[1]), true
	}
	return 0, false
}

func unpack(p uint64, nd int) trendKey {
	k := trendKey{b: int32(uint32(p >> 32))}
	if nd <= 1 {
		k.v[0] = uint32(p)
	} else {
		k.v[0], k.v[1] = uint32(p>>16)&0xffff, uint32(p)&0xffff
	}
	return k
}

// cell returns the part's cell of k, adding it when new.
func (p *trendPart) cell(k trendKey, nd int) *trendPartCell {
	if pk, ok := pack(k, nd); ok {
		if p.recent == nil {
			p.recent = new([1024]recentCell)
		}
		slot := &p.recent[(pk*0x9e3779b97f4a7c15)>>54]
		if slot.c != nil && slot.pk == pk {
			return slot.c
		}
		c := p.packed[pk]
		if c == nil {
			c = &trendPartCell{}
			p.packed[pk] = c
		}
		*slot = recentCell{pk, c}
		return c
	}
	c := p.cells[k]
	if c == nil {
		c = &trendPartCell{}
		p.cells[k] = c
	}
	return c
}

func (f *trendFold) NewPart() Part {
	return &trendPart{f: f, cells: map[trendKey]*trendPartCell{}, packed: map[uint64]*trendPartCell{}}
}

// PartsInAnyOrder reports that the fold's Merge adds counts, and takes the
// least and greatest event times, so that parts may come in any order
// (AnyOrder).
func (f *trendFold) PartsInAnyOrder() bool { return true }

func (p *trendPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	f := p.f
	if es, ok := s.(*eventstore.Snapshot); !ok || es != p.snap || p.res == nil {
		p.snap, p.res, p.one = es, newResolver(f.tab, s), nil
	}
	res := p.res
	nd := len(f.dims)
	var fields [maxKeyDims]eventstore.Field
	var isSev [maxKeyDims]bool
	for i, d := range f.dims {
		fld, ok := d.field()
		fields[i], isSev[i] = fld, !ok
	}
	var sevIDs [256]uint32
	for i := 1; i <= 5; i++ {
		sevIDs[i] = f.tab.Intern(severityString(uint8(i)))
	}
	var n uint64
	lastDay, lastIdx, lastThr := int64(math.MinInt64), int32(0), int64(math.MaxInt64)
	// seeTime notes the event time of a record that is data (plaint's own
	// events are not); count counts a complaint of key k (without its
	// period) at event time et, appended at record time rt.
	seeET := func(et int64) {
		if !p.anyET || et < p.minET {
			p.minET = et
		}
		if !p.anyET || et > p.maxET {
			p.maxET = et
		}
		p.anyET = true
	}
	seeTime := func(t domain.Type, et int64) {
		n++
		if n&(progressEvery-1) == 0 {
			seen.Add(progressEvery)
		}
		if !t.IsReserved() {
			seeET(et)
		}
	}
	count := func(k trendKey, et, rt int64) error {
		if d := dayOf(et); d != lastDay {
			lastDay, lastIdx = d, periodIndex(f.bucket, et)
			lastThr = int64(math.MaxInt64)
			if t, ok := f.thr[lastIdx]; ok {
				lastThr = t
			}
		}
		k.b = lastIdx
		c := p.cell(k, nd)
		if c.count == 0 {
			if err := f.checkGroups(len(p.cells) + len(p.packed)); err != nil {
				return err
			}
		}
		c.count++
		if rt > lastThr {
			c.late++
			c.lateRT = max(c.lateRT, rt)
		}
		return nil
	}
	// keyOf is the key of a complaint of an older schema, from its event.
	keyOf := func(seq uint64, r eventstore.Record) (trendKey, error) {
		var k trendKey
		ev, err := decodeCurrent(s, r)
		if err != nil {
			return k, fmt.Errorf("record %d: %w", seq, err)
		}
		for i, d := range f.dims {
			k.v[i] = f.tab.Intern(d.value(&ev))
		}
		return k, nil
	}
	record := func(seq uint64, r eventstore.Record) error {
		et := r.EventTime()
		seeTime(r.Type(), et)
		if r.Type() != domain.TypeComplaintFiled {
			return nil
		}
		var k trendKey
		if r.Schema() == domain.CurrentSchema {
			for i := 0; i < nd; i++ {
				if isSev[i] {
					k.v[i] = sevIDs[r.Severity()]
				} else {
					k.v[i] = res.local(r.Dim(fields[i]))
				}
			}
		} else {
			var err error
			if k, err = keyOf(seq, r); err != nil {
				return err
			}
		}
		return count(k, et, r.RecordTime())
	}
	var err error
	if bs, ok := s.(blockScanner); ok {
		// A log of blocks: a block at a time, its columns only.
		var dimFields []eventstore.Field
		anySev := false
		for i := 0; i < nd; i++ {
			if isSev[i] {
				anySev = true
			} else {
				dimFields = append(dimFields, fields[i])
			}
		}
		var dims [maxKeyDims][]uint32
		one := p.one
		if one == nil && nd <= 1 {
			one = &trendBlockScan{p: p, sev: nd == 1 && isSev[0], nd: nd, res: res, byIdx: map[int32]*trendPeriod{}}
			p.one = one
		}
		if one != nil {
			one.sevIDs = &sevIDs
		}
		scan := bs.ScanBlocks
		if ls, ok := bs.(lazyBlockScanner); ok && one != nil {
			// Record times only for blocks that may hold a late complaint.
			scan = ls.ScanBlocksLazy
		}
		err = scan(from, to, dimFields, anySev, func(c *eventstore.Columns) error {
			for i := 0; i < nd; i++ {
				if !isSev[i] {
					dims[i] = c.Dim(fields[i])
				}
			}
			// A whole block of data only: its header gives the time range.
			fast := c.Whole() && !c.AnyType(domain.Type.IsReserved)
			if fast {
				least, greatest := c.EventTimeRange()
				seeET(least)
				seeET(greatest)
				before := n
				n += uint64(c.Len())
				if crossed := n/progressEvery - before/progressEvery; crossed > 0 {
					seen.Add(crossed * progressEvery)
				}
			}
			if one != nil {
				if !fast {
					for j, t := range c.Types {
						seeTime(domain.Type(t), c.EventTimes[j])
					}
				}
				var vals []uint32
				switch {
				case nd == 1 && isSev[0]:
					vals = c.Severities
				case nd == 1:
					vals = dims[0]
				}
				return one.block(c, vals, func(j int) error {
					r, err := c.Record(j)
					if err != nil {
						return err
					}
					k, err := keyOf(c.First+uint64(j), r)
					if err != nil {
						return err
					}
					return count(k, c.EventTimes[j], r.RecordTime())
				})
			}
			for j, t := range c.Types {
				et := c.EventTimes[j]
				if !fast {
					seeTime(domain.Type(t), et)
				}
				if domain.Type(t) != domain.TypeComplaintFiled {
					continue
				}
				var k trendKey
				if c.Schemas[j] == uint32(domain.CurrentSchema) {
					for i := 0; i < nd; i++ {
						if isSev[i] {
							k.v[i] = sevIDs[c.Severities[j]]
						} else {
							k.v[i] = res.local(dims[i][j])
						}
					}
				} else {
					r, err := c.Record(j)
					if err != nil {
						return err
					}
					if k, err = keyOf(c.First+uint64(j), r); err != nil {
						return err
					}
				}
				if err := count(k, et, c.RecordTimes[j]); err != nil {
					return err
				}
			}
			return nil
		}, record)
	} else {
		err = s.Scan(from, to, record)
	}
	seen.Add(n & (progressEvery - 1))
	return err
}

func (f *trendFold) Merge(pp Part) error {
	p := pp.(*trendPart)
	for pk, pc := range p.packed {
		p.cells[unpack(pk, len(f.dims))] = pc
	}
	for k, pc := range p.cells {
		c := f.cells[k]
		if c == nil {
			c = &trendCell{}
			f.cells[k] = c
		}
		c.count += pc.count
		if pc.late > 0 {
			c.late += pc.late
			c.restatedAt = max(c.restatedAt, pc.lateRT)
		}
	}
	if p.anyET {
		if !f.anyET || p.minET < f.minET {
			f.minET = p.minET
		}
		if !f.anyET || p.maxET > f.maxET {
			f.maxET = p.maxET
		}
		f.anyET = true
	}
	return f.checkGroups(len(f.cells))
}

package projections

import (
	"maps"
	"math"
	"slices"
	"sync/atomic"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Restatement. A trend bucket's figure counts as reported once the log holds
// events in the bucket and events after it (the bucket is over, and the
// data reached it); a complaint stored more than the grace period after
// that restates its bucket: it changed a figure that had been reported.
// Within the grace period late complaints are the normal lag of a period
// that just ended. A bulk historical import raises nothing, whatever its
// order: oldest first, each bucket is reported when the import reaches the
// next one and its stragglers follow at once; newest first, a bucket is
// reported when the import reaches it, and its events come together. A
// correction stored days after its bucket was reported is flagged.
//
// The first-seen projection keeps, for every bucket width, the sequence and
// record time of the first event stored in each bucket: a tiny state, built
// once per log and kept live, from which every trend fold classifies each
// complaint as it scans it, in parallel parts, with no second pass.

// DefaultRestateGrace is how long after a bucket was reported late
// complaints still count as its normal lag rather than a restatement.
const DefaultRestateGrace = 24 * time.Hour

// firstsVersion is the version of the first-seen fold's code.
const firstsVersion = 2

// firstsName is the name of the built-in first-seen projection.
const firstsName = "builtin/first-seen"

// bucketWidths lists the bucket widths, indexed by domain.Bucket.
var bucketWidths = []domain.Bucket{domain.BucketMonth, domain.BucketDay, domain.BucketWeek, domain.BucketQuarter}

// firstSeen is the first event stored in a bucket.
type firstSeen struct {
	Seq uint64
	RT  int64 // record time, Unix ns
}

// firstsFold keeps the first event of every bucket of every width.
type firstsFold struct {
	first [4]map[int32]firstSeen
	ver   uint64            // counts the changes to first
	cache [4]thresholdCache // thresholds, by width, at ver
}

// The first-seen state is saved whole: it holds one entry per bucket of
// each width that has events (about 4,300 entries for ten years of
// events), whatever the log's size.
func init() {
	MustRegisterKind(Kind{Name: kindFirst, Version: firstsVersion, Persist: PersistWhole,
		New: func(*Definition, Env) (Fold, error) { return newFirstsFold(), nil }})
}

func newFirstsFold() *firstsFold {
	f := &firstsFold{}
	for i := range f.first {
		f.first[i] = map[int32]firstSeen{}
	}
	return f
}

type firstsPart struct {
	first [4]map[int32]firstSeen
}

func (f *firstsFold) NewPart() Part {
	p := &firstsPart{}
	for i := range p.first {
		p.first[i] = map[int32]firstSeen{}
	}
	return p
}

func (p *firstsPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	lastDay := int64(math.MinInt64)
	var idx [4]int32
	see := func(seq uint64, t domain.Type, et, rt int64) {
		if t.IsReserved() {
			return // plaint's own events (alerts, erasures) are not data
		}
		if d := dayOf(et); d != lastDay {
			lastDay = d
			for w, b := range bucketWidths {
				idx[w] = periodIndex(b, et)
			}
		}
		for w := range idx {
			if _, ok := p.first[w][idx[w]]; !ok {
				p.first[w][idx[w]] = firstSeen{Seq: seq, RT: rt}
			}
		}
	}
	// In a log of blocks: the type, event and record time columns only.
	return scanColumnsCounted(s, from, to, seen, nil, false, func(c *eventstore.Columns) error {
		for j, t := range c.Types {
			see(c.First+uint64(j), domain.Type(t), c.EventTimes[j], c.RecordTimes[j])
		}
		return nil
	}, func(seq uint64, r eventstore.Record) error {
		see(seq, r.Type(), r.EventTime(), r.RecordTime())
		return nil
	})
}

func (f *firstsFold) Merge(pp Part) error {
	p := pp.(*firstsPart)
	for w := range p.first {
		for b, fs := range p.first[w] {
			if _, ok := f.first[w][b]; !ok { // parts come in log order
				f.first[w][b] = fs
				f.ver++
			}
		}
	}
	return nil
}

type firstsState struct {
	First [4]map[int32]firstSeen
}

func (f *firstsFold) MarshalState() ([]byte, error) {
	return gobEncode("first-seen state", &firstsState{First: f.first})
}

func (f *firstsFold) UnmarshalState(b []byte) error {
	var st firstsState
	if err := gobDecode("first-seen state", b, &st); err != nil {
		return err
	}
	*f = *newFirstsFold()
	f.ver = 1
	for w := range st.First {
		for k, v := range st.First[w] {
			f.first[w][k] = v
		}
	}
	return nil
}

// thresholds returns, for every bucket of width b that has events, the
// record time after which a complaint stored in it restates it: when it was
// reported (the first event stored in it or in a later bucket, whichever
// came last in the log) plus grace. A bucket not reported yet has none
// (math.MaxInt64). The answer does not depend on events stored after a
// complaint: those came after it, so they cannot have reported its bucket
// before it was stored.
func (f *firstsFold) thresholds(b domain.Bucket, grace time.Duration) map[int32]int64 {
	m := f.first[b]
	idx := slices.Sorted(maps.Keys(m))
	out := make(map[int32]int64, len(idx))
	var after firstSeen // the first event of any later bucket
	has := false
	for i := len(idx) - 1; i >= 0; i-- {
		own := m[idx[i]]
		t := int64(math.MaxInt64)
		if has {
			rep := own.RT
			if after.Seq > own.Seq {
				rep = after.RT
			}
			if rep <= math.MaxInt64-int64(grace) {
				t = rep + int64(grace)
			}
		}
		out[idx[i]] = t
		if !has || own.Seq < after.Seq {
			after, has = own, true
		}
	}
	return out
}

// Table renders the first event of every bucket, all widths.
func (f *firstsFold) Table(name string) (*Table, error) {
	t := &Table{Name: name, Columns: []string{"bucket", "width", "first_seq", "first_record_time"}, Rows: [][]any{}}
	for w, b := range bucketWidths {
		for _, i := range slices.Sorted(maps.Keys(f.first[w])) {
			fs := f.first[w][i]
			t.Rows = append(t.Rows, []any{periodAt(b, i).String(), b.String(), int64(fs.Seq), formatNanos(fs.RT)})
		}
	}
	return t, nil
}

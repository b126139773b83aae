package projections

import (
	"github.com/plaint/plaint/domain"
)

// coverage is the span of time [from, to) (Unix ns) the events of the log
// (of any type) cover. A bucket that reaches outside it is partial: its counts are
// only those of its covered part, and comparing them with a whole bucket's
// would read a shorter time as a drop.
type coverage struct {
	known    bool
	from, to int64
}

// coverageOf returns the coverage of the events folded into tf: from the
// start of the UTC day of the earliest to the end of the UTC day of the
// latest (data carry whole days: an export ending on the 13th covers the
// 13th), but no later than heard, the record time of the last event stored,
// for a day that is still going on.
func coverageOf(tf *trendFold, heard int64) coverage {
	if !tf.anyET {
		return coverage{}
	}
	c := coverage{known: true, from: dayOf(tf.minET) * nsPerDay, to: (dayOf(tf.maxET) + 1) * nsPerDay}
	if heard > tf.maxET && heard < c.to {
		c.to = heard
	}
	return c
}

// days returns how many days of the bucket with index i the data cover, and
// that as a share of the bucket's length. Without data every bucket counts
// as covered.
func (c coverage) days(b domain.Bucket, i int32) (float64, float64) {
	p := periodAt(b, i)
	start, end := p.Start.UnixNano(), p.End().UnixNano()
	full := float64(end-start) / float64(nsPerDay)
	if !c.known {
		return full, 1
	}
	lo, hi := max(start, c.from), min(end, c.to)
	if hi <= lo {
		return 0, 0
	}
	if lo == start && hi == end {
		return full, 1
	}
	cov := float64(hi-lo) / float64(nsPerDay)
	return cov, round(cov/full, 4)
}

// recordTimeAt returns the record time of the event at seq (0 for none).
func (e *Engine) recordTimeAt(seq uint64) int64 {
	if seq == 0 {
		return 0
	}
	var rt int64
	_ = e.log.ViewRecords(func(s Snapshot) error {
		r, err := s.Get(seq)
		if err == nil && len(r) >= 24 {
			rt = r.RecordTime()
		}
		return nil
	})
	return rt
}

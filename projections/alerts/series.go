package alerts

import (
	"math"
	"slices"
	"strings"

	"github.com/plaint/plaint/projections/detect"
)

// The dimensions of a series under its category.
const (
	dimNone    = 0 // the category alone
	dimSegment = 1
	dimChannel = 2
)

// series is one count series: a category, or a category and one segment or
// channel, with its complaints by day and, per period kind, what the
// detector carries from one judgement to the next.
type series struct {
	Cat string
	Dim uint8  // dimNone, dimSegment, dimChannel
	Val string // the segment or channel
	// Key is the series as alerts name it: "category=billing",
	// "category=billing,segment=smb".
	Key string
	// Daily holds the complaints of each day from the fold's Day0, Wd
	// their totals by weekday, P their totals by ISO week (P[0]) and month
	// (P[1]) from the fold's first periods.
	Daily []int32
	Wd    [7]float64
	P     [2][]float64
	// Recent holds the complaints of the last complete and running periods
	// (of both kinds), in log order, for the alerts' customers and samples.
	Recent []complaintRef
	K      [2]kindSeries
}

// kindSeries is a series' state for one period kind.
type kindSeries struct {
	// Cur is the first day of the running period (Started: there is one);
	// Prev that of the last complete period (HasPrev).
	Started, HasPrev bool
	Cur, Prev        int64
	// Base and PrevBase are the baselines of those periods (computed once
	// a period, when it starts; lazily for drill-down series: HasBase,
	// HasPrevBase), BaseErr and PrevErr why there is none.
	HasBase, HasPrevBase bool
	Base, PrevBase       detect.Baseline
	BaseErr, PrevErr     string
	// Prev2Base is the baseline of the period before Prev (HasPrev2Base,
	// Prev2Err as above), which the window look of the last complete
	// period adds to PrevBase.
	HasPrev2Base bool
	Prev2Base    detect.Baseline
	Prev2Err     string
	// State is the detector's state after the last complete period,
	// PrevState the one before it (which judges it again).
	State, PrevState detect.State
	// Shape is the weekday shape of the series' history before Cur; Exp
	// the running period's exposure at ExpAt (Unix s).
	Shape detect.WeekdayShape
	Exp   float64
	ExpAt int64
	// CurN and LastN count the complaints of the running and last complete
	// periods; a complaint that takes one above TrigCur or TrigLast (the
	// bound at its last judgement) has the series judged again at once.
	CurN, LastN       float64
	TrigCur, TrigLast float64
	// Last is the last judgement of the last complete period (reused
	// until a complaint changes it: LastDirty).
	Last      detect.Evaluation
	HasLast   bool
	LastDirty bool
	// LastWin is the window look at the last complete period, reused with
	// Last.
	LastWin detect.Evaluation
	// Open is the series' open alert (nil: none), OpenN the number of its
	// events so far.
	Open  *Alert
	OpenN int
}

// complaintRef is what an alert says of one complaint of a recent period:
// its day, its customer (a dictionary id, never customer data) and its id.
type complaintRef struct {
	Day  int64
	Cust uint32
	ID   string
}

// recent returns the distinct customers of the complaints of days
// from..to-1 among s.Recent (their count, and the keys of those that are
// the log's dictionary ids, sorted), and the ids of the latest n of them,
// oldest first.
func (s *series) recent(from, to int64, n int) (customers int, keys []uint32, ids []string) {
	var custs []uint32
	for i := len(s.Recent) - 1; i >= 0; i-- {
		c := &s.Recent[i]
		if c.Day < from || c.Day >= to {
			continue
		}
		custs = append(custs, c.Cust)
		if len(ids) < n {
			ids = append(ids, c.ID)
		}
	}
	slices.Reverse(ids)
	slices.Sort(custs)
	custs = slices.Compact(custs)
	for _, c := range custs {
		if c&(1<<31) == 0 { // not the hash of an upcast event's customer id
			keys = append(keys, c)
		}
	}
	return len(custs), keys, ids
}

// trimRecent drops the complaints of days before from.
func (s *series) trimRecent(from int64) {
	i := 0
	for i < len(s.Recent) && s.Recent[i].Day < from {
		i++
	}
	if i > 0 {
		s.Recent = append(s.Recent[:0], s.Recent[i:]...)
	}
}

func newSeries(cat string, dim uint8, val string) *series {
	s := &series{Cat: cat, Dim: dim, Val: val, Key: "category=" + cat}
	switch dim {
	case dimSegment:
		s.Key += ",segment=" + val
	case dimChannel:
		s.Key += ",channel=" + val
	}
	for i := range s.K {
		s.K[i].TrigCur, s.K[i].TrigLast = math.Inf(1), math.Inf(1)
	}
	return s
}

// dims returns the series' dimensions, as an alert's series field.
func (s *series) dims() map[string]string {
	m := map[string]string{"category": s.Cat}
	switch s.Dim {
	case dimSegment:
		m["segment"] = s.Val
	case dimChannel:
		m["channel"] = s.Val
	}
	return m
}

// add counts one complaint on day d, whose periods are pw (its ISO week)
// and pm (its month), indexes from the fold's first periods.
func (s *series) add(d, day0 int64, pw, pm int) {
	i := int(d - day0)
	if i >= len(s.Daily) {
		s.Daily = append(s.Daily, make([]int32, i+1-len(s.Daily))...)
	}
	s.Daily[i]++
	s.Wd[weekday(d)]++
	for k, p := range [2]int{pw, pm} {
		s.grow(k, p)
		s.P[k][p]++
	}
}

// grow makes P[k] hold period p.
func (s *series) grow(k, p int) {
	if p >= len(s.P[k]) {
		s.P[k] = append(s.P[k], make([]float64, p+1-len(s.P[k]))...)
	}
}

// weekday is 0 for a Monday ... 6 for a Sunday (day 0, 1970-01-01, was a
// Thursday).
func weekday(d int64) int { return int(((d+3)%7 + 7) % 7) }

// seriesLess orders series by key.
func seriesLess(a, b *series) int { return strings.Compare(a.Key, b.Key) }

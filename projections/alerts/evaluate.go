package alerts

import (
	"errors"
	"math"
	"slices"
	"time"

	"github.com/plaint/plaint/projections/detect"
)

// judged is a series' judgement of one period kind at one point.
type judged struct {
	s         *series
	cur, last detect.Evaluation
	// tests counts the series decided together with cur and with last.
	testsCur, testsLast int
	// growth is how much the running period's expectation grows by the
	// next midnight, when judged at one (0 during a day).
	growth float64
	// win is the window look at the running period (Window 0: none).
	win detect.Evaluation
}

// evalScratch is the memory evaluate and judge reuse (fold.scratch).
type evalScratch struct {
	judge  [2]judgeScratch
	drills []*series
	// spans[i] is where the drill-downs of the i-th category judged lie in
	// drills (and so in their judgements): an empty span when none are.
	spans []drillSpan
	under map[string]bool
}

// drillSpan is a range of evalScratch.drills.
type drillSpan struct{ from, to int }

// judgeScratch is the memory of one judge call.
type judgeScratch struct {
	out             []judged
	curs, lasts     []detect.Evaluation
	curWin, lastWin []int
}

// evaluate judges every series at event time at (Unix ns), having read the
// log up to seq: both period kinds, the categories, then the drill-down of
// the categories that alarm or have an alert open.
func (f *fold) evaluate(at int64, seq uint64) {
	day := dayOf(at)
	sc := &f.scratch
	if sc.under == nil {
		sc.under = map[string]bool{}
	}
	for ki, kind := range kinds {
		cur := periodStartDay(kind, day)
		for _, s := range f.st.Series {
			f.roll(s, ki, cur)
		}
		cats := f.judge(f.cats, ki, at, &sc.judge[0])
		drills, spans, under := sc.drills[:0], sc.spans[:0], sc.under
		clear(under)
		for _, j := range cats {
			ks := &j.s.K[ki]
			from := len(drills)
			if j.cur.Alarm || j.last.Alarm || ks.Open != nil {
				under[j.s.Cat] = true
				drills = append(drills, f.drill[j.s.Cat]...)
			}
			spans = append(spans, drillSpan{from, len(drills)})
		}
		sc.drills, sc.spans = drills, spans
		// The drill-downs of a category lie together, in its order, as
		// its drill list does.
		dj := f.judge(drills, ki, at, &sc.judge[1])
		for i, j := range cats {
			f.step(j, ki, at, seq, dj[spans[i].from:spans[i].to])
			f.setTriggers(j, ki)
		}
		for _, j := range dj {
			f.step(j, ki, at, seq, nil)
		}
		// A drill-down alert whose category no longer alarms is cleared.
		for _, s := range f.st.Series {
			if ks := &s.K[ki]; s.Dim != dimNone && ks.Open != nil && !under[s.Cat] {
				f.clear(s, ki, at, seq, nil, "its category no longer alarms")
			}
		}
	}
	clear(sc.drills) // no series kept alive from here
}

// roll moves s's period of kind ki to the one starting on day cur: the
// periods that completed are judged for the state they carry forward (the
// categories'; drill-downs carry none), and the new period's baseline is
// computed (lazily, for drill-downs).
func (f *fold) roll(s *series, ki int, cur int64) {
	ks := &s.K[ki]
	kind := kinds[ki]
	if ks.Started && ks.Cur == cur {
		return
	}
	if !ks.Started {
		ks.Started, ks.Cur = true, cur
		ks.CurN = f.periodCount(s, kind, cur)
		f.startPeriod(s, ki)
		return
	}
	for ks.Cur < cur {
		p := ks.Cur
		if s.Dim == dimNone {
			if !ks.HasBase {
				f.baseline(s, ki)
			}
			v, t := f.view(s, ki, p)
			e := f.d.Judge(v, t, ks.Base, baseErr(ks.BaseErr), ks.State)
			ks.PrevState, ks.State = ks.State, ks.State.Next(e)
		}
		ks.HasPrev2Base, ks.Prev2Base, ks.Prev2Err = ks.HasPrev && ks.HasPrevBase, ks.PrevBase, ks.PrevErr
		ks.HasPrev, ks.Prev = true, p
		ks.HasPrevBase, ks.PrevBase, ks.PrevErr = ks.HasBase, ks.Base, ks.BaseErr
		ks.LastN, ks.CurN = ks.CurN, 0
		ks.HasLast, ks.LastDirty = false, false
		ks.Cur = periodEndDay(kind, p)
		ks.HasBase = false
		if ks.Cur < cur && s.Dim == dimNone {
			f.baseline(s, ki)
		}
	}
	ks.LastN = f.periodCount(s, kind, ks.Prev)
	ks.CurN = f.periodCount(s, kind, cur)
	f.startPeriod(s, ki)
	keep := cur
	for i := range s.K {
		if k := &s.K[i]; k.Started {
			keep = min(keep, k.Cur)
			if k.HasPrev {
				keep = min(keep, k.Prev)
			}
		}
	}
	s.trimRecent(keep)
}

// startPeriod computes what a new running period needs: the weekday shape
// of the history before it and (for a category) its baseline.
func (f *fold) startPeriod(s *series, ki int) {
	ks := &s.K[ki]
	totals := s.Wd
	for d := max(ks.Cur, f.st.Day0); int(d-f.st.Day0) < len(s.Daily); d++ {
		totals[weekday(d)] -= float64(s.Daily[d-f.st.Day0])
	}
	ks.Shape = detect.WeekdayShapeOf(totals, int(max(0, ks.Cur-f.st.Day0)))
	ks.ExpAt = -1
	ks.HasBase = false
	if s.Dim == dimNone {
		f.baseline(s, ki)
	}
}

// baseline computes the baseline of s's running period.
func (f *fold) baseline(s *series, ki int) {
	ks := &s.K[ki]
	ks.Base, ks.BaseErr = f.baselineOf(s, ki, ks.Cur)
	ks.HasBase = true
}

// prevBaseline computes the baseline of s's last complete period (for a
// drill-down series judged for the first time after it ended).
func (f *fold) prevBaseline(s *series, ki int) {
	ks := &s.K[ki]
	ks.PrevBase, ks.PrevErr = f.baselineOf(s, ki, ks.Prev)
	ks.HasPrevBase = true
}

// baselineOf computes the baseline of s's period that starts on day start,
// with the text of the error that kept it from one ("" when none).
func (f *fold) baselineOf(s *series, ki int, start int64) (detect.Baseline, string) {
	v, t := f.view(s, ki, start)
	b, err := f.d.Baseline(v, t)
	if err != nil {
		return b, err.Error()
	}
	return b, ""
}

// periodCount is s's count in the period of kind starting on day start.
func (f *fold) periodCount(s *series, kind detect.PeriodKind, start int64) float64 {
	k := kindIndex(kind)
	if p := f.period(k, start); p < len(s.P[k]) {
		return s.P[k][p]
	}
	return 0
}

func kindIndex(kind detect.PeriodKind) int {
	if kind == detect.Month {
		return 1
	}
	return 0
}

// view returns s as the detector reads it for kind ki: its counts by
// period from the first up to the one starting on day to (its index t).
func (f *fold) view(s *series, ki int, to int64) (detect.Series, int) {
	t := f.period(ki, to)
	s.grow(ki, t)
	return detect.Series{Key: s.Key, Kind: kinds[ki], Start: dayTime(f.st.Starts[ki][0]), Counts: s.P[ki][: t+1 : t+1]}, t
}

func baseErr(s string) error {
	if s == "" {
		return nil
	}
	return errors.New(s)
}

// notJudged is the evaluation of a period that is not judged.
func notJudged(s *series, kind detect.PeriodKind, reason string) detect.Evaluation {
	nan := math.NaN()
	return detect.Evaluation{Key: s.Key, Kind: kind, Period: -1, Expected: nan, Upper: nan, PValue: nan, QValue: nan, Reason: reason}
}

// judge judges the running and last complete periods of every series of
// list (one family each, decided together) at event time at, each with its
// window look when the kind has one (the period and the one before it,
// decided in the same family as the single periods). What it returns is in
// sc's memory, valid until the next judge with sc.
func (f *fold) judge(list []*series, ki int, at int64, sc *judgeScratch) []judged {
	kind := kinds[ki]
	window := f.window(ki)
	n := len(list)
	// Every element below n is written before it is read.
	out := slices.Grow(sc.out[:0], n)[:n]
	curs := slices.Grow(sc.curs[:0], 2*n)[:n]
	lasts := slices.Grow(sc.lasts[:0], 2*n)[:n]
	// The window looks follow the single-period looks in each family;
	// curWin and lastWin say whose they are.
	curWin, lastWin := sc.curWin[:0], sc.lastWin[:0]
	defer func() { sc.out, sc.curs, sc.lasts, sc.curWin, sc.lastWin = out, curs, lasts, curWin, lastWin }()
	endOfDay := dayTime(dayOf(at + nsPerDay - 1))
	for i, s := range list {
		ks := &s.K[ki]
		if !ks.HasBase {
			f.baseline(s, ki)
		}
		v, t := f.view(s, ki, ks.Cur)
		out[i] = judged{s: s}
		switch {
		case !ks.HasPrev || t < 1:
			lasts[i] = notJudged(s, kind, "no complete period yet")
		case ks.HasLast && !ks.LastDirty:
			lasts[i] = ks.Last
			if window > 1 && ks.LastWin.Window > 1 {
				lasts = append(lasts, ks.LastWin)
				lastWin = append(lastWin, i)
			}
		default:
			if !ks.HasPrevBase {
				f.prevBaseline(s, ki)
			}
			lv := v
			lv.Counts, lv.Exposure = v.Counts[:t], 0
			lasts[i] = f.d.Judge(lv, t-1, ks.PrevBase, baseErr(ks.PrevErr), ks.PrevState)
			ks.Last, ks.HasLast, ks.LastDirty = lasts[i], true, false
			ks.LastWin = detect.Evaluation{}
			if window > 1 && t >= 2 {
				if !ks.HasPrev2Base {
					f.prev2Baseline(s, ki)
				}
				ks.LastWin = f.d.JudgeWindow(lv, t-1, windowBases(ks.Prev2Base, ks.Prev2Err, ks.PrevBase, ks.PrevErr), ks.PrevState)
				lasts = append(lasts, ks.LastWin)
				lastWin = append(lastWin, i)
			}
			if s.Dim == dimNone {
				ks.State = ks.PrevState.Next(lasts[i])
			}
		}
		// The running period, judged after the last complete one so that it
		// starts from the state a restated last period left, with the
		// exposure at the end of the day: at midnight that of the day just
		// ended; during a day that of the day's end, a higher bound than
		// now's, so that a count already above it alarms as the end-of-day
		// look would, without adding looks (each look spends false alarms).
		exp := ks.exposure(kind, endOfDay)
		if at%nsPerDay == 0 && ks.HasBase && ks.BaseErr == "" {
			next := detect.Elapsed(kind, dayTime(ks.Cur), endOfDay.Add(24*time.Hour), ks.Shape)
			out[i].growth = ks.Base.Expected * (next - exp)
		}
		if exp > 0 {
			if exp < 1 {
				v.Exposure = exp
			}
			curs[i] = f.d.Judge(v, t, ks.Base, baseErr(ks.BaseErr), ks.State)
			if window > 1 && ks.HasPrev && t >= 1 {
				if !ks.HasPrevBase {
					f.prevBaseline(s, ki)
				}
				curs = append(curs, f.d.JudgeWindow(v, t, windowBases(ks.PrevBase, ks.PrevErr, ks.Base, ks.BaseErr), ks.State))
				curWin = append(curWin, i)
			}
		} else {
			curs[i] = notJudged(s, kind, "the period has just started")
		}
	}
	f.d.Decide(curs)
	f.d.Decide(lasts)
	nc, nl := tested(curs), tested(lasts)
	for i := range out {
		out[i].cur, out[i].last, out[i].testsCur, out[i].testsLast = curs[i], lasts[i], nc, nl
	}
	for k, i := range curWin {
		out[i].win = curs[n+k]
		out[i].cur = detect.Pick(curs[i], curs[n+k])
	}
	for k, i := range lastWin {
		out[i].last = detect.Pick(lasts[i], lasts[n+k])
	}
	return out
}

// window is the number of periods of kind ki's window look (1: none). The
// fold looks at windows of two periods, the running or last complete one
// and the one before it.
func (f *fold) window(ki int) int {
	w := f.cfg.Weekly.Window
	if kinds[ki] == detect.Month {
		w = f.cfg.Monthly.Window
	}
	return min(w, 2)
}

// windowBases is the two baselines of a window look, oldest first; one that
// could not be computed is left empty (the window is then not tested).
func windowBases(before detect.Baseline, beforeErr string, b detect.Baseline, bErr string) []detect.Baseline {
	if beforeErr != "" {
		before = detect.Baseline{}
	}
	if bErr != "" {
		b = detect.Baseline{}
	}
	return []detect.Baseline{before, b}
}

// prev2Baseline computes the baseline of the period before s's last
// complete period.
func (f *fold) prev2Baseline(s *series, ki int) {
	ks := &s.K[ki]
	ks.Prev2Base, ks.Prev2Err = f.baselineOf(s, ki, periodBeforeDay(kinds[ki], ks.Prev))
	ks.HasPrev2Base = true
}

// exposure is the running period's exposure at end (remembered for the
// day: every look of a day uses the same).
func (ks *kindSeries) exposure(kind detect.PeriodKind, end time.Time) float64 {
	if at := end.Unix(); at != ks.ExpAt {
		ks.Exp, ks.ExpAt = detect.Elapsed(kind, dayTime(ks.Cur), end, ks.Shape), at
	}
	return ks.Exp
}

// tested counts the evaluations with a p-value (those the FDR correction
// counts).
func tested(es []detect.Evaluation) int {
	n := 0
	for _, e := range es {
		if !math.IsNaN(e.PValue) {
			n++
		}
	}
	return n
}

// setTriggers sets the counts above which a category is judged again
// before the next midnight: the bounds of this judgement (the minimum
// count, when the period has not been judged), or, while it alarms, a
// fifth more than its count.
func (f *fold) setTriggers(j judged, ki int) {
	ks := &j.s.K[ki]
	ks.TrigCur = trigger(j.cur, f.cfg.MinCount) + j.growth
	// The window look's bound, in counts of the running period (the
	// window's less the complete period's).
	if w := j.win; w.Window > 1 && !j.cur.Alarm && !math.IsNaN(w.Upper) {
		ks.TrigCur = min(ks.TrigCur, trigger(w, f.cfg.MinCount)-(w.Observed-j.cur.Observed)+j.growth)
	}
	ks.TrigLast = trigger(j.last, f.cfg.MinCount)
	if j.last.Period < 0 {
		ks.TrigLast = math.Inf(1)
	}
}

func trigger(e detect.Evaluation, minCount float64) float64 {
	floor := minCount - 1
	switch {
	case e.Period < 0:
		return max(floor, 0)
	case e.Alarm:
		return max(e.Observed*1.2, e.Observed+3, floor)
	case math.IsNaN(e.Upper):
		return math.Inf(1)
	}
	// Above the bound without an alarm (the FDR correction held it back):
	// judged again once it grows.
	return max(e.Upper, e.Observed*1.05+1, floor)
}

// step takes the lifecycle of s's alert of kind ki one judgement on.
func (f *fold) step(j judged, ki int, at int64, seq uint64, drill []judged) {
	ks := &j.s.K[ki]
	alarm := j.cur.Alarm || j.last.Alarm
	rep, tests := &j.last, j.testsLast
	if j.cur.Alarm {
		rep, tests = &j.cur, j.testsCur
	}
	switch {
	case alarm && ks.Open == nil:
		a := f.alert(j.s, rep, drill, at, seq)
		a.Tests = tests
		a.AlertID = kinds[ki].String() + "/" + j.s.Key + "/" + a.PeriodStart
		a.RaisedAt = a.UpdatedAt
		ks.Open, ks.OpenN = a, 0
		f.emit(TypeRaised, ks, at)
	case alarm:
		// An update says the alert moved on to a later period, or, at a
		// midnight look, that it got worse or better while still above
		// (another severity level or rule) for a category's alert.
		o := ks.Open
		ps := rep.PeriodStart.Format(time.DateOnly)
		midnight := at%nsPerDay == 0
		switch {
		case ps < o.PeriodStart:
			return
		case ps > o.PeriodStart:
		case !midnight || j.s.Dim != dimNone || string(rep.Rule) == o.Rule && rep.Level == o.Level:
			return
		}
		a := f.alert(j.s, rep, drill, at, seq)
		a.Tests = tests
		a.AlertID, a.RaisedAt = o.AlertID, o.RaisedAt
		ks.Open = a
		f.emit(TypeUpdated, ks, at)
	case ks.Open != nil && j.last.Period >= 0 && j.last.PeriodStart.Format(time.DateOnly) >= ks.Open.PeriodStart:
		f.clear(j.s, ki, at, seq, &j.last, "")
	}
}

// clear clears s's open alert of kind ki, with the judgement e of the
// complete period that no longer alarms (nil: none, reason says why).
func (f *fold) clear(s *series, ki int, at int64, seq uint64, e *detect.Evaluation, reason string) {
	ks := &s.K[ki]
	o := ks.Open
	a := *o
	if e != nil {
		a = *f.alert(s, e, nil, at, seq)
		a.AlertID, a.RaisedAt, a.Rule, a.Level = o.AlertID, o.RaisedAt, o.Rule, o.Level
		reason = e.Reason
		if reason == "" {
			reason = "the period is within its bound"
		}
	}
	a.State, a.Reason = "cleared", reason
	a.UpdatedAt = time.Unix(0, at).UTC().Format(time.RFC3339)
	a.ClearedAt = a.UpdatedAt
	ks.Open = &a
	f.emit(TypeCleared, ks, at)
	ks.Open, ks.OpenN = nil, 0
}

// emit appends the event of ks's open alert.
func (f *fold) emit(typ string, ks *kindSeries, at int64) {
	id := ks.Open.AlertID + "#" + itoa(ks.OpenN)
	ks.OpenN++
	f.st.Events = append(f.st.Events, Event{Seq: uint64(len(f.st.Events) + 1), ID: id, Type: typ, Time: time.Unix(0, at).UTC(), Data: *ks.Open})
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// alert is the alert that judgement e of s says.
func (f *fold) alert(s *series, e *detect.Evaluation, drill []judged, at int64, seq uint64) *Alert {
	c := f.cfg
	alpha := c.Weekly.Alpha
	if e.Kind == detect.Month {
		alpha = c.Monthly.Alpha
	}
	if e.Baseline != detect.RuleFarrington {
		alpha = c.EARSAlpha
	}
	ts := time.Unix(0, at).UTC().Format(time.RFC3339)
	from := timeDay(e.PeriodStart)
	to := periodEndDay(e.Kind, from)
	if e.Window > 1 {
		from = timeDay(e.WindowStart)
	}
	customers, keys, ids := s.recent(from, to, f.p.Samples)
	a := &Alert{
		State: "open", Series: s.dims(), Period: e.Kind.String(), PeriodStart: e.PeriodStart.Format(time.DateOnly),
		Partial: e.Partial, Exposure: e.Exposure, Observed: e.Observed, Expected: Num(e.Expected), Upper: Num(e.Upper),
		PValue: Num(e.PValue), QValue: Num(e.QValue), Alpha: alpha, Q: c.Q, MinCount: c.MinCount,
		Severity: Num(e.Severity), Level: e.Level, Longevity: e.Longevity, Rule: string(e.Rule), Baseline: string(e.Baseline),
		Phi: Num(e.Phi), Trend: e.Trend, YearsBack: e.YearsBack, CUSUM: Num(e.CUSUM), CasesToAlarm: Num(e.CasesToAlarm),
		RecentUpper: Num(e.RecentUpper), CustomersAffected: customers, Affected: keys, SampleComplaintIDs: ids,
		LogFrom: 1, LogTo: seq, DetectorVersion: detect.Version, UpdatedAt: ts,
	}
	if e.Window > 1 {
		a.WindowStart = e.WindowStart.Format(time.DateOnly)
	}
	// The drill-down: the segments and channels of the same period, most
	// above their expectation first.
	var cs []Contribution
	for _, d := range drill {
		de := d.last
		if e.Partial || de.Period < 0 || !de.PeriodStart.Equal(e.PeriodStart) {
			de = d.cur
		}
		if de.Period < 0 || !de.PeriodStart.Equal(e.PeriodStart) {
			continue
		}
		cs = append(cs, Contribution{Series: d.s.dims(), Observed: de.Observed, Expected: Num(de.Expected), Upper: Num(de.Upper), QValue: Num(de.QValue), Alarm: de.Alarm})
	}
	slices.SortStableFunc(cs, func(x, y Contribution) int {
		ex, ey := x.Observed-nz(float64(x.Expected)), y.Observed-nz(float64(y.Expected))
		switch {
		case ex > ey:
			return -1
		case ex < ey:
			return 1
		}
		return 0
	})
	if len(cs) > f.p.Drilldown {
		cs = cs[:f.p.Drilldown]
	}
	a.Drilldown = cs
	return a
}

// nz is x, or 0 when x is NaN.
func nz(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}

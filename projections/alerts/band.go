package alerts

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/detect"
)

// BandQuery names one series of the detector and the periods wanted: a
// category, with at most one of segment and channel (the detector judges
// no finer series), weeks or months, and the first and last period starts
// (the periods holding From and To; zero: the series' first period, the
// running one).
type BandQuery struct {
	Category, Segment, Channel string
	Kind                       detect.PeriodKind
	From, To                   time.Time
}

// Band is the detector's expected count and upper bound of each period of
// one series, and the periods where it raised or updated an alert.
type Band struct {
	Series map[string]string `json:"series"`
	Period string            `json:"period"`
	// Points holds one period a point, oldest first; the last may be the
	// running period (Partial), judged with its Exposure.
	Points []BandPoint `json:"points"`
	// Alerts are the alert.raised and alert.updated events of the series in
	// the periods of Points, oldest first.
	Alerts []BandAlert `json:"alerts"`
}

// BandPoint is the detector's judgement of one period, as it judged it
// when the period completed (the running one: so far): Expected and Upper
// are null where the series has too little history (Reason says why).
type BandPoint struct {
	PeriodStart string  `json:"period_start"`
	Observed    float64 `json:"observed"`
	Expected    Num     `json:"expected"`
	Upper       Num     `json:"upper"`
	// Partial reports the running period; its Expected and Upper are
	// scaled by Exposure, its elapsed weekday-weighted share.
	Partial  bool    `json:"partial"`
	Exposure float64 `json:"exposure"`
	Baseline string  `json:"baseline,omitempty"`
	Reason   string  `json:"reason,omitempty"`
}

// BandAlert is one alert event on a band: its alert, type, period and level.
type BandAlert struct {
	AlertID     string  `json:"alert_id"`
	Type        string  `json:"type"`
	PeriodStart string  `json:"period_start"`
	Observed    float64 `json:"observed"`
	Level       int     `json:"level"`
	// Rule is the rule that fired; WindowStart, the first day of a window
	// look's window (rule farrington-window). Observed is then the
	// period's own count within the window (the window's count less the
	// periods before the period), so that the marker stands on the period.
	Rule        string `json:"rule"`
	WindowStart string `json:"window_start,omitempty"`
}

// ReadBand brings the detector's projection up to the end of the log and
// returns the band of the series q names. A series the detector does not
// judge is EINVALID; one without complaints has no points.
func ReadBand(ctx context.Context, e *projections.Engine, q BandQuery) (*Band, error) {
	if q.Category == "" {
		return nil, domain.FieldErrorf("category", "a category is required")
	}
	if q.Segment != "" && q.Channel != "" {
		return nil, domain.Errorf(domain.EINVALID, "the detector judges a category, or a category and one segment or channel, not both")
	}
	ki := kindIndex(q.Kind)
	dim, val := uint8(dimNone), ""
	switch {
	case q.Segment != "":
		dim, val = dimSegment, q.Segment
	case q.Channel != "":
		dim, val = dimChannel, q.Channel
	}
	want := newSeries(q.Category, dim, val)
	band := &Band{Series: want.dims(), Period: kinds[ki].String(), Points: []BandPoint{}, Alerts: []BandAlert{}}
	var (
		d        *detect.Detector
		view     detect.Series
		events   []Event
		starts   []int64 // first day of each period of view
		exposure float64 // the last period's elapsed share
	)
	err := e.Read(ctx, Name, func(pf projections.Fold, _ uint64) error {
		f, ok := pf.(*fold)
		if !ok {
			return fmt.Errorf("projection %s is a %T, not the detector", Name, pf)
		}
		d = f.d
		s := f.byKey[q.Category+"\x00"+string(rune('0'+dim))+"\x00"+val]
		if s == nil || !f.st.Started {
			return nil
		}
		last := f.period(ki, dayOf(f.st.Watermark))
		counts := make([]float64, last+1)
		copy(counts, s.P[ki])
		starts = make([]int64, last+1)
		for t := range starts {
			if kinds[ki] == detect.Week {
				starts[t] = f.st.Starts[ki][0] + 7*int64(t) // weeks are counted, not listed
			} else {
				starts[t] = f.st.Starts[ki][t]
			}
		}
		view = detect.Series{Key: s.Key, Kind: kinds[ki], Start: dayTime(starts[0]), Counts: counts}
		// The running period's exposure as the detector judges it: at the
		// end of the watermark's day, with the series' weekday shape.
		shape := detect.UniformShape()
		if ks := &s.K[ki]; ks.Started && ks.Cur == starts[last] {
			shape = ks.Shape
		}
		endOfDay := dayTime(dayOf(f.st.Watermark + nsPerDay - 1))
		exposure = detect.Elapsed(kinds[ki], dayTime(starts[last]), endOfDay, shape)
		events = append(events[:0], f.st.Events...)
		return nil
	})
	if err != nil || view.Counts == nil {
		return band, err
	}
	if exposure <= 0 { // the running period has just started: nothing to judge yet
		view.Counts, starts = view.Counts[:len(view.Counts)-1], starts[:len(starts)-1]
	}
	var from, to string
	for t := range view.Counts {
		start := dayTime(starts[t])
		if !detect.PeriodEnd(kinds[ki], start).After(q.From) {
			continue
		}
		if !q.To.IsZero() && start.After(q.To) {
			break
		}
		v := view
		v.Counts = view.Counts[: t+1 : t+1]
		if t == len(view.Counts)-1 && exposure < 1 {
			v.Exposure = exposure
		}
		ev := d.Evaluate(v, detect.State{})
		p := BandPoint{PeriodStart: start.Format(time.DateOnly), Observed: ev.Observed, Expected: Num(ev.Expected), Upper: Num(ev.Upper),
			Partial: ev.Partial, Exposure: ev.Exposure, Baseline: string(ev.Baseline)}
		if math.IsNaN(ev.Expected) {
			p.Reason = ev.Reason
		}
		band.Points = append(band.Points, p)
		if from == "" {
			from = p.PeriodStart
		}
		to = p.PeriodStart
	}
	for _, ev := range events {
		a := ev.Data
		if ev.Type == TypeCleared || a.Period != band.Period || !sameSeries(a.Series, band.Series) || a.PeriodStart < from || a.PeriodStart > to {
			continue
		}
		band.Alerts = append(band.Alerts, BandAlert{AlertID: a.AlertID, Type: ev.Type, PeriodStart: a.PeriodStart,
			Observed: a.Observed - windowBefore(&a, view, starts), Level: a.Level, Rule: a.Rule, WindowStart: a.WindowStart})
	}
	return band, nil
}

// windowBefore is the count of a window alert's periods before its own
// (the complete periods from its window's start up to its period), taken
// from the series' counts view (starts: each period's first day); 0 for an
// alert that is not a window look's.
func windowBefore(a *Alert, view detect.Series, starts []int64) float64 {
	if a.WindowStart == "" {
		return 0
	}
	var n float64
	for t, d := range starts {
		if t >= len(view.Counts) {
			break
		}
		if s := dayTime(d).Format(time.DateOnly); s >= a.WindowStart && s < a.PeriodStart {
			n += view.Counts[t]
		}
	}
	return n
}

// sameSeries reports whether two series' dimensions are the same.
func sameSeries(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

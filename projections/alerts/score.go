package alerts

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Truth is what a labelled history holds: its span, its categories and
// the rises injected into it (plaint emit --synthetic --inject ... --truth).
type Truth struct {
	From       time.Time `json:"from"`
	To         time.Time `json:"to"`
	Categories []string  `json:"categories"`
	Rises      []Rise    `json:"rises"`
}

// Rise is one injected rise.
type Rise struct {
	Category string    `json:"category"`
	Segment  string    `json:"segment,omitempty"`
	Channel  string    `json:"channel,omitempty"`
	From     time.Time `json:"from"`
	Weeks    int       `json:"weeks"`
	Factor   float64   `json:"factor"`
}

// End is the end (exclusive) of the rise.
func (r Rise) End() time.Time { return r.From.AddDate(0, 0, 7*r.Weeks) }

// Grace is how long after a rise ends an alert still counts as detecting
// it (the week whose count it completed).
const Grace = 7 * 24 * time.Hour

// Score is how the alerts raised over a labelled history fare against its
// truth.
type Score struct {
	// Alerts counts the alerts raised (alert.raised events) on category
	// series; TruePositive those that detect a rise, FalseAlarms the others.
	Alerts, TruePositive, FalseAlarms int
	Precision                         float64
	// Detected counts the rises an alert detected, of Rises; Recall is
	// their share, RecallByFactor the same by factor.
	Rises, Detected int
	Recall          float64
	RecallByFactor  map[string]Fraction
	// DelayDays are the days from each detected rise's onset to its first
	// alert; MedianDelay their median (NaN with none).
	DelayDays   []float64
	MedianDelay float64
	// SeriesMonths is the category series × months outside every rise and
	// its grace; FalseAlarmsPer100 the false alarms per 100 of them.
	SeriesMonths      float64
	FalseAlarmsPer100 float64
	Misses            []Rise
}

// Fraction is k of n.
type Fraction struct{ K, N int }

func (f Fraction) String() string {
	if f.N == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f (%d/%d)", float64(f.K)/float64(f.N), f.K, f.N)
}

// ScoreAlerts scores the alert.raised events of evs against truth: an
// alert of a category series (the category alone, in either period kind)
// detects a rise of that category when it is raised during the rise or in
// the Grace after it; any other alert of a category series is a false
// alarm. Drill-down alerts are left out (they come with their category's).
func ScoreAlerts(truth Truth, evs []Event) Score {
	sc := Score{Rises: len(truth.Rises), RecallByFactor: map[string]Fraction{}, MedianDelay: math.NaN()}
	first := make([]time.Time, len(truth.Rises))
	for _, ev := range evs {
		if ev.Type != TypeRaised || len(ev.Data.Series) != 1 {
			continue
		}
		sc.Alerts++
		hit := false
		for i, r := range truth.Rises {
			if ev.Category() == r.Category && !ev.Time.Before(r.From) && ev.Time.Before(r.End().Add(Grace)) {
				hit = true
				if first[i].IsZero() || ev.Time.Before(first[i]) {
					first[i] = ev.Time
				}
			}
		}
		if hit {
			sc.TruePositive++
		} else {
			sc.FalseAlarms++
		}
	}
	for i, r := range truth.Rises {
		k := fmt.Sprintf("×%g", r.Factor)
		f := sc.RecallByFactor[k]
		f.N++
		if !first[i].IsZero() {
			f.K++
			sc.Detected++
			sc.DelayDays = append(sc.DelayDays, first[i].Sub(r.From).Hours()/24)
		} else {
			sc.Misses = append(sc.Misses, r)
		}
		sc.RecallByFactor[k] = f
	}
	if sc.Alerts > 0 {
		sc.Precision = float64(sc.TruePositive) / float64(sc.Alerts)
	}
	if sc.Rises > 0 {
		sc.Recall = float64(sc.Detected) / float64(sc.Rises)
	}
	if n := len(sc.DelayDays); n > 0 {
		d := slices.Sorted(slices.Values(sc.DelayDays))
		sc.MedianDelay = (d[(n-1)/2] + d[n/2]) / 2
	}
	// Quiet series-months: each category's span less its rises and graces.
	days := truth.To.Sub(truth.From).Hours() / 24
	for _, c := range truth.Categories {
		quiet := days
		for _, r := range truth.Rises {
			if r.Category == c {
				quiet -= (r.End().Add(Grace).Sub(r.From)).Hours() / 24
			}
		}
		sc.SeriesMonths += math.Max(0, quiet) / (365.25 / 12)
	}
	if sc.SeriesMonths > 0 {
		sc.FalseAlarmsPer100 = float64(sc.FalseAlarms) / sc.SeriesMonths * 100
	}
	return sc
}

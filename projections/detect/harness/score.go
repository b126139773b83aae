package harness

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strings"
)

// ScoreConfig sets how alerts are matched to the truth.
type ScoreConfig struct {
	// From is the first day scored: alerts before it are ignored and quiet
	// days are counted from it. Default 0.
	From int
	// Grace is how many days after a rise ends an alert still counts as
	// detecting it (a weekly rule sees the last week of a rise only when
	// that week completes). Default 7.
	Grace int
	// Within is the detection deadline in days from onset for the
	// "detected within" recall. Default 14.
	Within int
}

func (c *ScoreConfig) setDefaults() {
	c.Grace = cmp.Or(c.Grace, 7)
	c.Within = cmp.Or(c.Within, 14)
}

// Band is the recall of the rises of one size.
type Band struct {
	Factor float64
	Rises  int
	// Detected is how many got an alert during the rise (or its grace),
	// DetectedWithin how many within the deadline.
	Detected       int
	DetectedWithin int
	// Delays are the detection delays in days (alert day - onset + 1), one
	// per detected rise.
	Delays []int
}

// Recall is Detected / Rises, RecallWithin DetectedWithin / Rises.
func (b Band) Recall() float64       { return ratio(b.Detected, b.Rises) }
func (b Band) RecallWithin() float64 { return ratio(b.DetectedWithin, b.Rises) }

// MedianDelay is the median detection delay in days (NaN if none detected).
func (b Band) MedianDelay() float64 { return median(b.Delays) }

// Score is a method's result on a corpus.
type Score struct {
	Method string
	Alerts int
	// TruePositives are alerts raised during a rise (or its grace) on the
	// rise's series.
	TruePositives int
	// FalseAlarms are the other alerts; QuietSeriesMonths the series-months
	// of scored days outside every rise and its grace.
	FalseAlarms       int
	QuietSeriesMonths float64
	Bands             []Band
	// Misses are the rises without an alert within the deadline.
	Misses []Rise
	// Level100 pools the rises of +100% or more on series whose level is at
	// least one complaint a day.
	Level100 Band
}

// Precision is TruePositives / Alerts.
func (s Score) Precision() float64 { return ratio(s.TruePositives, s.Alerts) }

// FalseAlarmRate is false alarms per 100 series-months of quiet stretches.
func (s Score) FalseAlarmRate() float64 { return 100 * float64(s.FalseAlarms) / s.QuietSeriesMonths }

// Band100 pools the bands of rises of +100% or more.
func (s Score) Band100() Band {
	var b Band
	b.Factor = 2
	for _, x := range s.Bands {
		if x.Factor >= 2 {
			b.Rises += x.Rises
			b.Detected += x.Detected
			b.DetectedWithin += x.DetectedWithin
			b.Delays = append(b.Delays, x.Delays...)
		}
	}
	return b
}

// All pools every band.
func (s Score) All() Band {
	var b Band
	for _, x := range s.Bands {
		b.Rises += x.Rises
		b.Detected += x.Detected
		b.DetectedWithin += x.DetectedWithin
		b.Delays = append(b.Delays, x.Delays...)
	}
	return b
}

// Truth is what a scorer needs to know about a labelled set of series: the
// evaluated days, the series and their levels, and the injected rises. It is
// all a later "score these alerts against this truth file" needs, without
// the counts.
type Truth struct {
	// Days is the number of days scored (day 0 is the first).
	Days int
	// Series are the series keys, by index; Levels their mean daily counts
	// (NaN when unknown: such a series is left out of Level100).
	Series []string
	Levels []float64
	Rises  []Rise
}

// Truth returns the corpus' truth.
func (c *Corpus) Truth() Truth {
	t := Truth{Days: c.Days, Rises: c.Rises}
	for _, s := range c.Series {
		t.Series = append(t.Series, s.Key)
		t.Levels = append(t.Levels, s.Level)
	}
	return t
}

// ScoreAlerts matches alerts to the corpus' truth.
func ScoreAlerts(c *Corpus, method string, alerts []Alert, cfg ScoreConfig) Score {
	return ScoreTruth(c.Truth(), method, alerts, cfg)
}

// ScoreTruth matches alerts to a truth: an alert on a rise's series during
// the rise or its grace is a true positive (the first one gives the delay),
// every other alert a false alarm.
func ScoreTruth(truth Truth, method string, alerts []Alert, cfg ScoreConfig) Score {
	cfg.setDefaults()
	sc := Score{Method: method}
	riseOf := map[int]Rise{}
	for _, r := range truth.Rises {
		riseOf[r.Series] = r
	}
	inWindow := func(s, day int) bool {
		r, ok := riseOf[s]
		return ok && day >= r.Onset && day < r.Onset+r.Days+cfg.Grace
	}
	first := map[int]int{}
	for _, a := range alerts {
		if a.Day < cfg.From {
			continue
		}
		sc.Alerts++
		if inWindow(a.Series, a.Day) {
			sc.TruePositives++
			if d, ok := first[a.Series]; !ok || a.Day < d {
				first[a.Series] = a.Day
			}
		} else {
			sc.FalseAlarms++
		}
	}
	quietDays := 0
	for s := range truth.Series {
		for d := cfg.From; d < truth.Days; d++ {
			if !inWindow(s, d) {
				quietDays++
			}
		}
	}
	sc.QuietSeriesMonths = float64(quietDays) / (365.25 / 12)
	bands := map[float64]*Band{}
	for _, r := range truth.Rises {
		b := bands[r.Factor]
		if b == nil {
			b = &Band{Factor: r.Factor}
			bands[r.Factor] = b
		}
		b.Rises++
		lv := &sc.Level100
		counted := r.Factor >= 2 && r.Series < len(truth.Levels) && truth.Levels[r.Series] >= 1
		if counted {
			lv.Rises++
		}
		d, ok := first[r.Series]
		if ok {
			delay := d - r.Onset + 1
			b.Detected++
			b.Delays = append(b.Delays, delay)
			if counted {
				lv.Detected++
				lv.Delays = append(lv.Delays, delay)
			}
			if delay <= cfg.Within {
				b.DetectedWithin++
				if counted {
					lv.DetectedWithin++
				}
				continue
			}
		}
		sc.Misses = append(sc.Misses, r)
	}
	for _, b := range bands {
		sc.Bands = append(sc.Bands, *b)
	}
	sort.Slice(sc.Bands, func(i, j int) bool { return sc.Bands[i].Factor < sc.Bands[j].Factor })
	return sc
}

// Table renders scores as a Markdown table: precision, recall (during the
// rise, and within the deadline) for all rises and for +100% or more,
// median delay, and false alarms per 100 series-months on quiet stretches.
func Table(scores []Score, within int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| method | alerts | precision | recall all | recall ≥+100%% | recall ≥+100%% within %dd | median delay ≥+100%% (days) | same, level ≥ 1/day | recall +50%% | false alarms /100 series-months |\n", within)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range scores {
		all, big := s.All(), s.Band100()
		var half Band
		for _, x := range s.Bands {
			if x.Factor < 2 {
				half = x
			}
		}
		lv := s.Level100
		fmt.Fprintf(&b, "| %s | %d | %.2f | %.2f (%d/%d) | %.2f (%d/%d) | %.2f (%d/%d) | %.1f | %.2f (%d/%d) | %.2f (%d/%d) | %.2f (%d in %.0f) |\n",
			s.Method, s.Alerts, s.Precision(), all.Recall(), all.Detected, all.Rises,
			big.Recall(), big.Detected, big.Rises, big.RecallWithin(), big.DetectedWithin, big.Rises,
			big.MedianDelay(), lv.RecallWithin(), lv.DetectedWithin, lv.Rises, half.Recall(), half.Detected, half.Rises,
			s.FalseAlarmRate(), s.FalseAlarms, s.QuietSeriesMonths)
	}
	return b.String()
}

// MissList describes the rises a method missed (no alert within the
// deadline), with their size and the series' level.
func MissList(c *Corpus, s Score) string {
	var b strings.Builder
	for _, r := range s.Misses {
		t := c.Series[r.Series]
		fmt.Fprintf(&b, "  %s: +%.0f%% for %d days from day %d (level %.2f/day, trend %+.0f%%/yr)\n",
			r.Key, 100*(r.Factor-1), r.Days, r.Onset, t.Level, 100*t.TrendPerYear)
	}
	return b.String()
}

func ratio(a, b int) float64 {
	if b == 0 {
		return math.NaN()
	}
	return float64(a) / float64(b)
}

func median(v []int) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	if len(s)%2 == 1 {
		return float64(s[len(s)/2])
	}
	return float64(s[len(s)/2-1]+s[len(s)/2]) / 2
}

package harness

import (
	"fmt"
	"strings"

	"github.com/plaint/plaint/projections/detect"
	"gonum.org/v1/gonum/stat/distuv"
)

// Oracle is the false-alarm budget of the oracle test: a budget of 1 false
// alarm per 100 series-months spent by a test made once per series and
// 14-day window (365.25/12/14 windows a month) allows it this level.
const Oracle = 14 / (100 * 365.25 / 12)

// OracleP is the p-value of the best test there can be of rise r within
// its first days: the rise's count over those days against a Poisson of
// the series' true mean without the rise (known, not estimated; the
// weekly wander and the NB overdispersion left out, so it flatters the
// test). A rise with OracleP above Oracle cannot be told from noise within
// those days by any method keeping false alarms at 1 per 100
// series-months.
func (c *Corpus) OracleP(r Rise, days int) float64 {
	t := c.Series[r.Series]
	mu, obs := 0.0, 0.0
	for d := r.Onset; d < r.Onset+days && d < c.Days; d++ {
		mu += t.mean(d)
		obs += c.Daily[r.Series][d]
	}
	if obs == 0 {
		return 1
	}
	return 1 - distuv.Poisson{Lambda: mu}.CDF(obs-1)
}

// RiseLine is what the per-rise report says about one injected rise.
type RiseLine struct {
	Rise
	Level   float64 // the series' level, complaints a day
	OracleP float64 // OracleP over the first Within days
	// Delay is the days from onset to the first alert (0: none during the
	// rise and its grace); MinP and MinQ the smallest p- and q-values of the
	// daily looks in the first Within days, with the rule behind the bound.
	Delay      int
	MinP, MinQ float64
	Baseline   detect.Rule
	// Reason is why the look with the smallest q-value did not alarm.
	Reason string
}

// RiseReport runs plaint's daily method with cfg on c and describes every
// rise of +100% or more: its size, level, the oracle p-value, the delay of
// the first alert and the smallest p- and q-values in the first within
// days (with why that look did not alarm).
func RiseReport(c *Corpus, cfg detect.Config, within int) ([]RiseLine, error) {
	idx := map[int]int{}
	var lines []RiseLine
	for _, r := range c.Rises {
		if r.Factor < 2 {
			continue
		}
		idx[r.Series] = len(lines)
		lines = append(lines, RiseLine{Rise: r, Level: c.Series[r.Series].Level, OracleP: c.OracleP(r, within), MinP: 1, MinQ: 1})
	}
	m := PlaintDailyTraced(cfg, func(s, day int, e detect.Evaluation) {
		i, ok := idx[s]
		if !ok {
			return
		}
		l := &lines[i]
		if day < l.Onset || day >= l.Onset+l.Days+7 {
			return
		}
		if e.Alarm && l.Delay == 0 {
			l.Delay = day - l.Onset + 1
		}
		if day >= l.Onset+within {
			return
		}
		if e.PValue < l.MinP {
			l.MinP = e.PValue
		}
		if e.QValue < l.MinQ {
			l.MinQ, l.Baseline, l.Reason = e.QValue, e.Baseline, e.Reason
		}
	})
	if _, err := m.Run(c); err != nil {
		return nil, err
	}
	return lines, nil
}

// RiseTable renders a per-rise report, and the recall within the deadline
// among the rises an oracle could detect (OracleP <= Oracle).
func RiseTable(lines []RiseLine, within int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "| series | rise | weeks | level/day | oracle p (%dd) | first alert (days) | min p (%dd) | min q | baseline | why not |\n", within, within)
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---|---|\n")
	det, detWithin := 0, 0
	for _, l := range lines {
		delay := "—"
		if l.Delay > 0 {
			delay = fmt.Sprint(l.Delay)
		}
		why := ""
		if l.Delay == 0 || l.Delay > within {
			why = l.Reason
		}
		fmt.Fprintf(&b, "| %s | +%.0f%% | %d | %.2f | %.2g | %s | %.2g | %.2g | %s | %s |\n",
			l.Key, 100*(l.Factor-1), l.Days/7, l.Level, l.OracleP, delay, l.MinP, l.MinQ, l.Baseline, why)
		if l.OracleP <= Oracle {
			det++
			if l.Delay > 0 && l.Delay <= within {
				detWithin++
			}
		}
	}
	fmt.Fprintf(&b, "\nrises of +100%% or more an oracle detects within %d days (p <= %.4f): %d of %d; plaint detects %d of them within %d days (%.2f)\n",
		within, Oracle, det, len(lines), detWithin, within, ratio(detWithin, det))
	return b.String()
}

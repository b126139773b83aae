package harness

import (
	"fmt"
	"time"

	"github.com/plaint/plaint/projections/detect"
)

// Alert is one raised alert: series s, raised at the end of day Day (after
// that day's counts are in), by Rule.
type Alert struct {
	Series int    `json:"series"`
	Day    int    `json:"day"`
	Rule   string `json:"rule"`
}

// Method is a detection method run over a whole corpus: it returns every
// alert it would have raised, one per episode (an alert stays open, without
// repeats, until a complete week no longer alarms).
type Method struct {
	Name string
	Run  func(c *Corpus) ([]Alert, error)
}

// episodes turns per-evaluation alarms into raised alerts: it keeps one
// open flag per series, raises when a series alarms while closed, and
// closes it when a complete week does not alarm.
type episodes struct {
	open   []bool
	alerts []Alert
}

func newEpisodes(n int) *episodes { return &episodes{open: make([]bool, n)} }

func (e *episodes) see(s, day int, alarm, complete bool, rule string) {
	switch {
	case alarm && !e.open[s]:
		e.open[s] = true
		e.alerts = append(e.alerts, Alert{Series: s, Day: day, Rule: rule})
	case !alarm && complete:
		e.open[s] = false
	}
}

// PlaintDaily is plaint's full method as it runs live: every day each
// series' running ISO week is judged with its weekday-weighted exposure (the
// weekday shape estimated from the series' own history), all series decided
// together (Benjamini–Hochberg), the NB CUSUM and longevity carried from
// one complete week to the next.
func PlaintDaily(cfg detect.Config) Method { return PlaintDailyTraced(cfg, nil) }

// PlaintDailyTraced is PlaintDaily that also hands every evaluation, after
// the day's decision, to trace (when not nil): series s at the end of day
// day. The per-rise report of the benchmark reads it.
func PlaintDailyTraced(cfg detect.Config, trace func(s, day int, e detect.Evaluation)) Method {
	return Method{Name: "plaint (daily, partial weeks)", Run: func(c *Corpus) ([]Alert, error) {
		d, err := detect.New(cfg)
		if err != nil {
			return nil, err
		}
		n := len(c.Daily)
		weeks := make([][]float64, n)
		for s := range weeks {
			weeks[s] = c.Weekly(s)
		}
		nWeeks := len(weeks[0])
		states := make([]detect.State, n)
		baselines := make([]detect.Baseline, n)
		baseErrs := make([]error, n)
		window := d.Config().Weekly.Window
		// bases[s] holds the baselines of series s's last window weeks,
		// oldest first (an empty Baseline where there was none), for its
		// window look.
		bases := make([][]detect.Baseline, n)
		shapes := make([]detect.WeekdayShape, n)
		ep := newEpisodes(n)
		buf := make([][]float64, n)
		evals := make([]detect.Evaluation, n, 2*n)
		owner := make([]int, 0, n) // the series of each window look
		for w := 0; w < nWeeks; w++ {
			weekStart := c.Start.AddDate(0, 0, 7*w)
			for s := 0; s < n; s++ {
				view := detect.Series{Key: c.Series[s].Key, Kind: detect.Week, Start: c.Start, Counts: weeks[s][:w+1]}
				baselines[s], baseErrs[s] = d.Baseline(view, w)
				if window > 1 {
					b := baselines[s]
					if baseErrs[s] != nil {
						b = detect.Baseline{}
					}
					bases[s] = append(bases[s], b)
					if len(bases[s]) > window {
						bases[s] = bases[s][1:]
					}
				}
				shapes[s] = detect.EstimateWeekdayShape(c.Daily[s][:7*w], c.Start)
				buf[s] = append(buf[s][:0], weeks[s][:w+1]...)
				buf[s][w] = 0
			}
			for dow := 0; dow < 7; dow++ {
				day := 7*w + dow
				endOfDay := weekStart.AddDate(0, 0, dow+1)
				for s := 0; s < n; s++ {
					buf[s][w] += c.Daily[s][day]
					exp := detect.Elapsed(detect.Week, weekStart, endOfDay, shapes[s])
					view := detect.Series{Key: c.Series[s].Key, Kind: detect.Week, Start: c.Start, Counts: buf[s], Exposure: exp}
					if dow == 6 {
						view.Exposure = 0
					}
					evals[s] = d.Judge(view, w, baselines[s], baseErrs[s], states[s])
				}
				evals, owner = evals[:n], owner[:0]
				for s := 0; s < n; s++ {
					if len(bases[s]) == window && window > 1 {
						view := detect.Series{Key: c.Series[s].Key, Kind: detect.Week, Start: c.Start, Counts: buf[s], Exposure: evals[s].Exposure}
						if !evals[s].Partial {
							view.Exposure = 0
						}
						evals = append(evals, d.JudgeWindow(view, w, bases[s], states[s]))
						owner = append(owner, s)
					}
				}
				d.Decide(evals)
				if dow == 6 {
					for s := 0; s < n; s++ {
						states[s] = states[s].Next(evals[s])
					}
				}
				picked := evals[:n]
				for k, s := range owner {
					if trace != nil {
						trace(s, day, evals[n+k])
					}
					picked[s] = detect.Pick(evals[s], evals[n+k])
				}
				for s := 0; s < n; s++ {
					ep.see(s, day, picked[s].Alarm, dow == 6, string(picked[s].Rule))
					if trace != nil {
						trace(s, day, picked[s])
					}
				}
			}
		}
		return ep.alerts, nil
	}}
}

// PlaintWeekly is plaint's full method judged once a week on complete ISO
// weeks only (as a weekly digest would), for comparison with the vendor
// rules on their own cadence.
func PlaintWeekly(cfg detect.Config) Method {
	return Method{Name: "plaint (weekly, complete weeks)", Run: func(c *Corpus) ([]Alert, error) {
		d, err := detect.New(cfg)
		if err != nil {
			return nil, err
		}
		series := make([]detect.Series, len(c.Daily))
		for s := range series {
			series[s] = detect.Series{Key: c.Series[s].Key, Kind: detect.Week, Start: c.Start, Counts: c.Weekly(s)}
		}
		res, err := d.Backtest(series)
		if err != nil {
			return nil, err
		}
		ep := newEpisodes(len(series))
		for w, evals := range res {
			for s, e := range evals {
				ep.see(s, 7*w+6, e.Alarm, true, string(e.Rule))
			}
		}
		return ep.alerts, nil
	}}
}

// MeanSD is a vendor-style rule judged on complete weeks: an alarm when the
// week's count is above the mean plus k sample standard deviations of the
// previous `weeks` weeks (and at least minCount, when minCount > 0).
//   - Thematic-style: MeanSD(8, 2, 0), "two standard deviations above the
//     recent average";
//   - Chattermill-style: MeanSD(26, 2, 0), "the last calendar week against
//     the previous six months".
func MeanSD(name string, weeks int, k, minCount float64) Method {
	return Method{Name: name, Run: func(c *Corpus) ([]Alert, error) {
		ep := newEpisodes(len(c.Daily))
		for s := range c.Daily {
			y := c.Weekly(s)
			for w := weeks; w < len(y); w++ {
				mean, sd := detect.MeanSD(y[w-weeks : w])
				alarm := y[w] > mean+k*sd && y[w] >= minCount
				ep.see(s, 7*w+6, alarm, true, name)
			}
		}
		return ep.alerts, nil
	}}
}

// Thematic is "2 standard deviations above the mean of the last 8 weeks".
func Thematic() Method { return MeanSD("Thematic-style: > mean + 2 sd of last 8 weeks", 8, 2, 0) }

// Chattermill is "last week against the previous 26 weeks", read as above
// the mean + 2 sd of the previous 26 weeks.
func Chattermill() Method {
	return MeanSD("Chattermill-style: > mean + 2 sd of previous 26 weeks", 26, 2, 0)
}

// Qualtrics is "daily against the last 7 days": an alarm when a day's
// count is above the mean + 2 sample standard deviations of the 7 days
// before it, judged every day (an episode ends with a day that does not
// alarm).
func Qualtrics() Method {
	const name, days, k = "Qualtrics-style: day > mean + 2 sd of previous 7 days", 7, 2.0
	return Method{Name: name, Run: func(c *Corpus) ([]Alert, error) {
		ep := newEpisodes(len(c.Daily))
		for s, y := range c.Daily {
			for d := days; d < len(y); d++ {
				mean, sd := detect.MeanSD(y[d-days : d])
				ep.see(s, d, y[d] > mean+k*sd, true, name)
			}
		}
		return ep.alerts, nil
	}}
}

// dayTime is the start of day d of the corpus.
func (c *Corpus) dayTime(d int) time.Time { return c.Start.AddDate(0, 0, d) }

// String describes the corpus in one line.
func (c *Corpus) String() string {
	return fmt.Sprintf("%d series, %d days (%s to %s), %d injected rises", len(c.Daily), c.Days,
		c.Start.Format(time.DateOnly), c.dayTime(c.Days-1).Format(time.DateOnly), len(c.Rises))
}

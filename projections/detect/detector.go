package detect

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Version is the detector version an alert carries, so that a replay made
// with other statistics can be told apart.
const Version = "detect/4"

// Series is one count series as the detector sees it: the counts of
// consecutive ISO weeks or months, the first starting at Start.
type Series struct {
	// Key identifies the series (e.g. "category=billing"); it is carried
	// through to the evaluation and orders ties deterministically.
	Key  string
	Kind PeriodKind
	// Start is the start of period 0: the Monday of an ISO week or the
	// first of a month, 00:00 UTC.
	Start time.Time
	// Counts holds one count per period, oldest first. The last one may be
	// a partial, still running period (see Exposure).
	Counts []float64
	// Exposure is the elapsed share of the last period when it is partial
	// (see Elapsed): in (0, 1). 0 or 1 means the last period is complete.
	Exposure float64
}

// periodStart is the start of period t of the series.
func (s Series) periodStart(t int) time.Time {
	if s.Kind == Month {
		return s.Start.AddDate(0, t, 0)
	}
	return s.Start.AddDate(0, 0, 7*t)
}

// State is what the detector carries from one complete period of a series
// to the next: the NB CUSUM statistic and the run of periods above the
// bound. The zero State is a fresh series.
type State struct {
	// CUSUM is the NB CUSUM statistic after the last complete period (0
	// after an alarm: the chart restarts).
	CUSUM float64
	// Longevity is the number of complete periods in a row, up to the last
	// one, whose count was above the upper bound.
	Longevity int
	// Periods is the number of complete periods folded into the state.
	Periods int
	// Method is the baseline rule of the last complete period; when the
	// series moves from the short-history rule to Farrington the CUSUM
	// starts again from 0.
	Method Rule
}

// Next is the state after e, a complete period's evaluation; a partial
// period leaves the state as it was (it is judged again when complete).
func (st State) Next(e Evaluation) State {
	if e.Partial {
		return st
	}
	n := State{CUSUM: e.CUSUM, Longevity: e.Longevity, Periods: st.Periods + 1, Method: e.Baseline}
	if e.CUSUMAlarm {
		n.CUSUM = 0
	}
	return n
}

// Evaluation is the detector's judgement of one period of one series: what
// an alert carries, or why there is none.
type Evaluation struct {
	Key         string
	Kind        PeriodKind
	Period      int       // index of the period in the series
	PeriodStart time.Time // start of the period (ISO-week Monday or first of month)
	// Partial reports a running period, judged with Exposure (its elapsed,
	// weekday-weighted share): Expected and Upper are scaled by it.
	Partial  bool
	Exposure float64
	// Observed is the period's count (so far, when partial).
	Observed float64
	// Expected is the baseline's predicted count for the period (times the
	// exposure), Upper the (1-alpha) bound above which the period alone is
	// unusual. Both are NaN when the series has too little history.
	Expected float64
	Upper    float64
	// PValue is P(count >= Observed) under the baseline (negative binomial
	// for Farrington, normal for EARS C1/C2; NaN for rules without one).
	// QValue is its Benjamini–Hochberg adjustment across the series
	// evaluated together (set by Decide).
	PValue float64
	QValue float64
	// Baseline is the rule that produced Expected and Upper: RuleFarrington
	// or the short-history rule.
	Baseline Rule
	// RecentUpper and RecentPValue are the recent-level check of a
	// period: the bound and p-value of the mean of the last RecentBaseline
	// periods before a two-period guard band, as a negative binomial with
	// the variance of an estimated mean (see recentNB, judgeRecent). Upper and PValue are the larger of the
	// two (an intersection–union test: the period must be unusual both for
	// its season and for its recent level).
	RecentUpper  float64
	RecentPValue float64
	// Phi is the overdispersion of the Farrington baseline; Trend and
	// TrendCoef whether a trend was kept and its log-change per period;
	// YearsBack the years of history used.
	Phi       float64
	Trend     bool
	TrendCoef float64
	YearsBack int
	// EnoughCases reports the limit54 rule: at least Limit54Cases counts in
	// the last Limit54Periods periods (Farrington only; true otherwise).
	EnoughCases bool
	// Exceeds reports Observed > Upper, the single-period test at its own
	// level, before the FDR correction.
	Exceeds bool
	// CUSUM is the NB CUSUM statistic after this period, CasesToAlarm the
	// count this period would have needed for the CUSUM to alarm, and
	// CUSUMAlarm whether it did.
	CUSUM        float64
	CasesToAlarm float64
	CUSUMAlarm   bool
	// Alarm is the decision (set by Decide); Rule the rule that fired:
	// the baseline rule for a single-period alarm, RuleNBCUSUM for a slow
	// rise. Reason says why a period that exceeded a bound did not alarm.
	Alarm  bool
	Rule   Rule
	Reason string
	// Severity is how far above the bound the period is, in predictive
	// standard deviations: (Observed - Upper) / sqrt(Phi·Expected) for
	// Farrington, (Observed - Upper) / sd for EARS. Level is the same on
	// Sprinklr's 1–10 scale: 1 + floor(Severity), at most 10 (0 when there
	// is no alarm).
	Severity float64
	Level    int
	// Longevity is the number of periods in a row, this one included, whose
	// count is above the upper bound.
	Longevity int
	// Window is the number of periods of a window look (JudgeWindow): its
	// Observed, Expected and Upper are those of periods WindowStart up to
	// PeriodStart's, this one included. 0 for a single-period look.
	Window      int
	WindowStart time.Time
}

// Detector evaluates count series with one configuration.
type Detector struct {
	cfg Config
	q   *quantileMemo
}

// New returns a detector with cfg's zero fields set to their defaults; it
// fails with every problem of the configuration.
func New(cfg Config) (*Detector, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("detector config: %w", err)
	}
	return &Detector{cfg: cfg, q: &quantileMemo{}}, nil
}

// Config returns the configuration in force, defaults filled.
func (d *Detector) Config() Config { return d.cfg }

// Baseline computes the baseline for period t of s: Farrington when the
// series has a year of history for it, else the short-history rule. Counts
// after t are not read, and for Farrington neither are the last
// PastExcluded periods: a baseline can be computed once per period and
// reused while the period runs.
func (d *Detector) Baseline(s Series, t int) (Baseline, error) {
	if t < 0 || t >= len(s.Counts) {
		return Baseline{}, fmt.Errorf("baseline: period %d of a series of %d", t, len(s.Counts))
	}
	b, err := farringtonFit(s.Kind, s.Start, s.Counts, t, d.cfg.farrington(s.Kind))
	if err == nil || !errors.Is(err, ErrShortHistory) {
		return b, err
	}
	rule := d.cfg.ShortHistory
	if rule == RulePoissonCUSUM {
		b, err = earsBaseline(RuleEARSC2, s.Counts, t, d.cfg.EARSBaseline, d.cfg.EARSMinSigma)
		b.Method = RulePoissonCUSUM
		return b, err
	}
	if rule == RuleEARSC3 {
		if t < d.cfg.EARSBaseline+4 {
			return Baseline{}, fmt.Errorf("%s: period %d: %w", rule, t, ErrShortHistory)
		}
		rule = RuleEARSC3
		b, err = earsBaseline(RuleEARSC2, s.Counts, t, d.cfg.EARSBaseline, d.cfg.EARSMinSigma)
		b.Method = RuleEARSC3
		return b, err
	}
	return earsBaseline(rule, s.Counts, t, d.cfg.EARSBaseline, d.cfg.EARSMinSigma)
}

// Evaluate judges the last period of s (partial when 0 < s.Exposure < 1)
// given the series' state after the previous complete period. The p-value
// is per series; call Decide on all the series evaluated together.
func (d *Detector) Evaluate(s Series, st State) Evaluation {
	t := len(s.Counts) - 1
	if t < 0 {
		return Evaluation{Key: s.Key, Kind: s.Kind, Period: -1, Expected: math.NaN(), Upper: math.NaN(),
			PValue: math.NaN(), QValue: math.NaN(), Reason: "no periods"}
	}
	b, err := d.Baseline(s, t)
	return d.Judge(s, t, b, err, st)
}

// Judge is Evaluate with the baseline (or the error computing it) given,
// for callers that cache baselines while a period runs.
func (d *Detector) Judge(s Series, t int, b Baseline, baselineErr error, st State) Evaluation {
	e := Evaluation{
		Key: s.Key, Kind: s.Kind, Period: t, PeriodStart: s.periodStart(t),
		Observed: s.Counts[t], Exposure: 1, Expected: math.NaN(), Upper: math.NaN(),
		PValue: math.NaN(), QValue: math.NaN(), EnoughCases: true,
	}
	if t == len(s.Counts)-1 && s.Exposure > 0 && s.Exposure < 1 {
		e.Partial, e.Exposure = true, s.Exposure
	}
	if baselineErr != nil {
		e.Reason = baselineErr.Error()
		return e
	}
	e.Baseline = b.Method
	if st.Method != b.Method {
		st.CUSUM = 0
	}
	e.YearsBack, e.Trend, e.TrendCoef = b.YearsBack, b.Trend, b.TrendCoef
	var sd, phi, recentAlpha float64
	switch b.Method {
	case RuleFarrington:
		c := d.cfg.farrington(s.Kind)
		if c.Threshold == ThresholdPredictive {
			e.Expected, e.Upper, e.PValue = d.q.judgePredictive(b, e.Observed, e.Exposure, c.Alpha)
		} else {
			e.Expected, e.Upper, e.PValue = judgeNB(b, e.Observed, e.Exposure, c.Alpha)
		}
		e.EnoughCases = limitCases(s.Counts, t, c.Limit54Periods) >= float64(c.Limit54Cases)
		phi = b.Phi
		sd = math.Sqrt(phi * e.Expected)
		recentAlpha = c.Alpha
	case RuleEARSC1, RuleEARSC2:
		e.Expected, e.Upper, e.PValue = judgeEARS(b, e.Observed, e.Exposure, d.cfg.EARSAlpha)
		sd = b.SD * math.Sqrt(e.Exposure)
		if d.cfg.recentBaseline(s.Kind) > d.cfg.EARSBaseline {
			recentAlpha = d.cfg.EARSAlpha
		}
	case RuleEARSC3:
		e.Expected = b.Expected * e.Exposure
		sd = b.SD * math.Sqrt(e.Exposure)
		// C3's bound over partial periods: scale the lagged history as is
		// and the current period's mean and sd by the exposure.
		_, upper, _, err := earsC3(s.Counts, t, d.cfg.EARSBaseline, d.cfg.EARSMinSigma, d.cfg.EARSAlpha)
		if err != nil {
			e.Reason = err.Error()
			return e
		}
		e.Upper = e.Expected + (upper-b.Expected)/b.SD*sd
	case RulePoissonCUSUM:
		e.Expected = b.Expected * e.Exposure
		m := math.Max(e.Expected, 0.5*e.Exposure)
		c, upper, alarm := d.cfg.PoissonCUSUM.Step(st.CUSUM, e.Observed, m)
		e.CUSUM, e.Upper = c, upper-1 // the smallest alarming count, as a bound to exceed
		e.Exceeds = alarm
		sd = math.Sqrt(m)
	}
	if phi == 0 {
		phi = 1
		if b.Expected > 0 && b.SD > 0 {
			phi = math.Max(1, b.SD*b.SD/b.Expected)
		}
	}
	e.Phi = phi
	e.RecentUpper, e.RecentPValue = math.NaN(), math.NaN()
	cusumMu0 := e.Expected
	if recentAlpha > 0 && !d.cfg.NoRecentCheck {
		if rb, err := earsBaseline(RuleEARSC2, s.Counts, t, d.cfg.recentBaseline(s.Kind), d.cfg.EARSMinSigma); err == nil {
			ru, rp := judgeRecent(recentNB(rb), e.Observed, e.Exposure, recentAlpha)
			e.RecentUpper, e.RecentPValue = ru, rp
			e.Upper = math.Max(e.Upper, ru)
			e.PValue = math.Max(e.PValue, rp)
			cusumMu0 = math.Max(cusumMu0, rb.Expected*e.Exposure)
		}
	}
	if b.Method != RulePoissonCUSUM {
		e.Exceeds = e.Observed > e.Upper && e.Observed > 0
		if !d.cfg.NoCUSUM {
			mu0 := math.Max(cusumMu0, 1e-9)
			e.CUSUM, e.CasesToAlarm, e.CUSUMAlarm = d.cfg.CUSUM.Step(st.CUSUM, e.Observed, mu0, NBDispersion(mu0, phi))
		}
	}
	if sd > 0 {
		e.Severity = (e.Observed - e.Upper) / sd
	}
	if e.Exceeds {
		e.Longevity = st.Longevity + 1
	}
	return e
}

// Decide takes the evaluations of all the series evaluated together (one
// period, say every category's current week), sets their Benjamini–Hochberg
// q-values and decides each alarm:
//
//   - a single-period alarm (Rule = the baseline rule) when the count is
//     above the upper bound, its q-value is at most Q, the limit54 rule holds
//     and the count is at least MinCount;
//   - otherwise a slow-rise alarm (Rule = RuleNBCUSUM) when the NB CUSUM
//     crossed its threshold, the count is above its expectation and at least
//     MinCount.
//
// The EARS C3 and Poisson CUSUM short-history rules have no p-value: they
// alarm on their own thresholds and MinCount, outside the FDR control (which
// is why EARS C2 is the default).
func (d *Detector) Decide(evals []Evaluation) {
	p := make([]float64, len(evals))
	for i, e := range evals {
		p[i] = e.PValue
	}
	q := BenjaminiHochberg(p)
	for i := range evals {
		e := &evals[i]
		e.QValue = q[i]
		e.Alarm, e.Rule, e.Level = false, "", 0
		big := e.Observed >= d.cfg.MinCount
		// A running period is looked at again and again as it fills: its
		// FDR level grows with its exposure (q <= Q·exposure) and reaches Q
		// when the period completes, so the daily looks do not multiply
		// the false alarms (a linear, Pocock-type spending of Q).
		level := d.cfg.Q
		if e.Partial {
			level = d.cfg.Spending.level(d.cfg.Q, e.Exposure)
		}
		switch {
		case e.Exceeds && math.IsNaN(e.PValue) && (e.Baseline == RulePoissonCUSUM || e.Baseline == RuleEARSC3) && big:
			e.Alarm, e.Rule = true, e.Baseline
		case e.Exceeds && e.QValue <= level && e.EnoughCases && big:
			e.Alarm, e.Rule = true, e.Baseline
			if e.Window > 1 {
				e.Rule = RuleFarringtonWindow
			}
		case e.CUSUMAlarm && !e.Partial && e.Observed > e.Expected && big:
			e.Alarm, e.Rule = true, RuleNBCUSUM
		case e.Exceeds && !big:
			e.Reason = fmt.Sprintf("count %v below the minimum %v", e.Observed, d.cfg.MinCount)
		case e.Exceeds && !e.EnoughCases:
			e.Reason = "fewer than limit54 cases in the last periods"
		case e.Exceeds:
			e.Reason = fmt.Sprintf("q-value %.3g above %.3g after the FDR correction over %d series", e.QValue, level, len(evals))
		}
		if e.Alarm {
			e.Reason = ""
			e.Level = severityLevel(e.Severity)
		}
	}
}

// severityLevel maps a severity in standard deviations above the bound to
// the 1–10 scale: 1 + floor(severity), clamped to [1, 10].
func severityLevel(s float64) int {
	if math.IsNaN(s) || s < 0 {
		return 1
	}
	return int(math.Min(10, 1+math.Floor(s)))
}

// Backtest evaluates every period of a set of series that share their
// period kind and start, as the live detector would have seen each one when
// it completed: at each period the series are evaluated together (and
// decided together, with each series' window look when Window > 1), their
// states carried forward. The result is indexed [period][series]: the
// single-period look, or the window look when only it alarmed (Pick).
func (d *Detector) Backtest(series []Series) ([][]Evaluation, error) {
	if len(series) == 0 {
		return nil, nil
	}
	n := len(series[0].Counts)
	for _, s := range series[1:] {
		if s.Kind != series[0].Kind || !s.Start.Equal(series[0].Start) || len(s.Counts) != n {
			return nil, fmt.Errorf("backtest: series %q does not share the kind, start and length of %q", s.Key, series[0].Key)
		}
	}
	w := d.cfg.farrington(series[0].Kind).Window
	states := make([]State, len(series))
	// bases[i] holds the baselines of series i's last w periods, oldest
	// first (for the window look).
	bases := make([][]Baseline, len(series))
	out := make([][]Evaluation, n)
	for t := 0; t < n; t++ {
		evals := make([]Evaluation, len(series), 2*len(series))
		owner := make([]int, 0, len(series)) // the series of each window look
		for i, s := range series {
			view := s
			view.Counts = s.Counts[:t+1]
			view.Exposure = 0
			b, err := d.Baseline(view, t)
			evals[i] = d.Judge(view, t, b, err, states[i])
			if w > 1 {
				if err != nil {
					b = Baseline{}
				}
				bases[i] = append(bases[i], b)
				if len(bases[i]) > w {
					bases[i] = bases[i][1:]
				}
				if len(bases[i]) == w {
					evals = append(evals, d.JudgeWindow(view, t, bases[i], states[i]))
					owner = append(owner, i)
				}
			}
		}
		d.Decide(evals)
		for i := range states {
			states[i] = states[i].Next(evals[i])
		}
		for k, i := range owner {
			evals[i] = Pick(evals[i], evals[len(series)+k])
		}
		out[t] = evals[:len(series)]
	}
	return out, nil
}

package detect

import (
	"fmt"
	"math"
)

// JudgeWindow judges the window look of period t of s: the count of the
// Config.Window periods up to t (t running when 0 < s.Exposure < 1, the
// ones before it complete) against the sum of their Farrington baselines,
// bases[i] being the baseline of period t-len(bases)+1+i. A rise a little
// too small for any one period to show, or that began late in the period
// before, shows in the sum: the window has up to twice a week's
// information. The evaluation is one more test of the series, decided in
// the same Benjamini–Hochberg family as the single-period looks (Decide),
// named RuleFarringtonWindow when it alarms; Observed, Expected and Upper
// are the window's, Window its length and WindowStart its first period's
// start. Upper is computed only for a window above its bound (NaN
// otherwise).
//
// The bound is the predictive negative binomial of the summed means (the
// periods' overdispersions and log-mean errors averaged, weighted by their
// means: the fits share most of their data, so their errors move
// together). The recent-level check judges the window against the sums of
// Window consecutive periods of the last RecentBaseline periods before a
// two-period guard band (windowBaseline, recentNB), their spread measured
// rather than assumed, so that a level that wanders from week to week
// widens the window's bound as it should; Upper and PValue are the larger
// of the two, as for a single period. The NB CUSUM is not run on windows: the state is the
// single-period look's. A window whose periods are not all judged by
// Farrington has no p-value and is not tested.
func (d *Detector) JudgeWindow(s Series, t int, bases []Baseline, st State) Evaluation {
	w := len(bases)
	e := Evaluation{
		Key: s.Key, Kind: s.Kind, Period: t, Exposure: 1, Expected: math.NaN(), Upper: math.NaN(),
		PValue: math.NaN(), QValue: math.NaN(), RecentUpper: math.NaN(), RecentPValue: math.NaN(),
		EnoughCases: true, Window: w,
	}
	if t < 0 || t >= len(s.Counts) {
		e.Period, e.Reason = -1, "no periods"
		return e
	}
	e.PeriodStart = s.periodStart(t)
	if t == len(s.Counts)-1 && s.Exposure > 0 && s.Exposure < 1 {
		e.Partial, e.Exposure = true, s.Exposure
	}
	if w < 2 || t-w+1 < 0 {
		e.Reason = fmt.Sprintf("window of %d periods: %d periods before it", w, t)
		return e
	}
	e.WindowStart = s.periodStart(t - w + 1)
	var mu, phi, se float64
	for i, b := range bases {
		if b.Method != RuleFarrington || !(b.Expected >= 0) {
			e.Reason = fmt.Sprintf("window of %d periods: period %d has no Farrington baseline", w, t-w+1+i)
			return e
		}
		m := b.Expected
		if i == w-1 {
			m *= e.Exposure
		}
		e.Observed += s.Counts[t-w+1+i]
		mu += m
		phi += b.Phi * m
		se += b.SELink * m
	}
	if mu > 0 {
		phi, se = phi/mu, se/mu
	} else {
		phi, se = bases[w-1].Phi, bases[w-1].SELink
	}
	last := bases[w-1]
	e.Baseline = RuleFarrington
	e.YearsBack, e.Trend, e.TrendCoef = last.YearsBack, last.Trend, last.TrendCoef
	c := d.cfg.farrington(s.Kind)
	// Whether the count is above the Farrington bound is read from its
	// p-value: the bound is the smallest count whose CDF reaches 1-Alpha
	// (less 64 ulps), so the count is above it when P(Y >= count) = 1 -
	// CDF(count-1) is at most what is left. The bound itself is searched
	// for only when the window is above both bounds: the search costs
	// several CDFs, and a window below its bound is never reported.
	pd := predictiveNB{mu: mu, phi: phi, se: se}
	if c.Threshold != ThresholdPredictive || !(se > 0) {
		pd.se = 0
	}
	target := (1 - c.Alpha) * (1 - 64*epsilon)
	e.Expected = mu
	e.PValue = pd.survivalAt(e.Observed)
	above := e.Observed > 0 && e.PValue <= 1-target
	e.EnoughCases = limitCases(s.Counts, t, c.Limit54Periods) >= float64(c.Limit54Cases)
	e.Phi = phi
	if !d.cfg.NoRecentCheck {
		// The share of the window elapsed, as a fraction of w full periods.
		frac := (float64(w-1) + e.Exposure) / float64(w)
		if rb, err := windowBaseline(s.Counts, t, w, d.cfg.recentBaseline(s.Kind), d.cfg.EARSMinSigma); err == nil {
			ru, rp := judgeRecent(recentNB(rb), e.Observed, frac, c.Alpha)
			e.RecentUpper, e.RecentPValue = ru, rp
			above = above && e.Observed > ru
			e.PValue = math.Max(e.PValue, rp)
		}
	}
	e.Exceeds = above
	if above {
		e.Upper = pd.quantileWith(d.q, 1-c.Alpha)
		if !math.IsNaN(e.RecentUpper) {
			e.Upper = math.Max(e.Upper, e.RecentUpper)
		}
		if sd := math.Sqrt(phi * e.Expected); sd > 0 {
			e.Severity = (e.Observed - e.Upper) / sd
		}
	}
	if e.Exceeds {
		e.Longevity = st.Longevity + 1
	}
	return e
}

// windowBaseline is the recent level of a window of w periods ending at
// t: the mean and standard deviation of the `baseline` sums of w
// consecutive periods that end before a two-period guard band ahead of the
// window's first period (for w = 2, the sums ending at t-baseline-3 ...
// t-4), the standard deviation floored at minSigma. The sums overlap: their
// spread includes what a level that wanders from period to period adds to
// a window, which independent periods would not show. Observations is the
// number of disjoint windows the span holds (recentNB reads the span's
// total count from it).
func windowBaseline(counts []float64, t, w, baseline int, minSigma float64) (Baseline, error) {
	to := t - w - 2 // the last sum ends before the two guard periods ahead of the window
	from := to - baseline + 1
	if from-w+1 < 0 {
		return Baseline{}, fmt.Errorf("window baseline: period %d: %w", t, ErrShortHistory)
	}
	sums := make([]float64, 0, baseline)
	for j := from; j <= to; j++ {
		sums = append(sums, limitCases(counts, j, w))
	}
	mean, sd := MeanSD(sums)
	sd = math.Max(sd, minSigma)
	return Baseline{Method: RuleEARSC2, Expected: mean, SD: sd, Observations: max(3, baseline/w)}, nil
}

// Pick returns the evaluation that speaks for a series when it had a
// single-period look and a window look decided together: the window's when
// only the window alarmed, else the single period's (which also carries
// the series' state forward).
func Pick(period, window Evaluation) Evaluation {
	if window.Alarm && !period.Alarm {
		return window
	}
	return period
}

// recentNB turns a recent-level baseline (the mean and standard deviation
// of the last periods, or of sums of a window's periods) into the
// distribution judgeRecent reads: that mean, the variance-to-mean ratio as
// the overdispersion (at least 1), and the standard error of the log of a
// mean estimated from the span's total count T, sqrt(phi/T). A span without
// a single count is read as half a count (a Jeffreys-like floor), so that
// a first burst after silence is judged rather than left without a bound.
// For the small counts of a small series this is the count's own
// distribution, where the normal approximation of EARS C2 (its standard
// deviation floored at 1) both misses rises and lets noise through.
func recentNB(rb Baseline) Baseline {
	n := float64(max(1, rb.Observations))
	mean, phi := rb.Expected, 1.0
	if mean > 0 {
		phi = math.Max(1, rb.SD*rb.SD/mean)
	}
	total := mean * n
	if !(total >= 0.5) {
		total, mean = 0.5, 0.5/n
	}
	return Baseline{Method: RuleFarrington, Expected: mean, Phi: phi, SELink: math.Sqrt(phi / total)}
}

// judgeRecent judges a count against a recent level b (from recentNB) at
// an exposure: the negative binomial with the level's mean m (times the
// exposure) and the variance of the count mixed over the estimation error
// of log m, phi·m + m²·se² (the first two moments of the predictive
// distribution, without integrating over it as the Farrington bound does:
// the recent level is read at every look of every series, and one
// incomplete beta function costs a twenty-fourth of the integral).
func judgeRecent(b Baseline, observed, exposure, alpha float64) (upper, p float64) {
	m := b.Expected * exposure
	d := NegBin{Mu: m, Phi: b.Phi + m*b.SELink*b.SELink}
	return d.Quantile(1 - alpha), d.Survival(observed)
}

// survivalAt is P(Y >= y): the predictive distribution's, or the plain
// negative binomial's when se is 0.
func (d predictiveNB) survivalAt(y float64) float64 {
	if !(d.se > 0) {
		return NegBin{Mu: d.mu, Phi: d.phi}.Survival(y)
	}
	return d.survival(y)
}

// quantileWith is the p quantile, as survivalAt, remembered in q.
func (d predictiveNB) quantileWith(q *quantileMemo, p float64) float64 {
	if !(d.se > 0) {
		return NegBin{Mu: d.mu, Phi: d.phi}.Quantile(p)
	}
	return q.quantile(d, p)
}

package detect

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// earsBaseline is the baseline of the EARS rules (surveillance::earsC) for
// period t: the mean and standard deviation of the `baseline` periods before
// t (C1) or before t-2 (C2 and C3, a two-period guard band), the standard
// deviation floored at minSigma so that a flat or empty history does not make
// any count an alarm.
func earsBaseline(rule Rule, counts []float64, t, baseline int, minSigma float64) (Baseline, error) {
	lag := 1
	if rule != RuleEARSC1 {
		lag = 3
	}
	from, to := t-lag-baseline+1, t-lag
	if from < 0 {
		return Baseline{}, fmt.Errorf("%s: period %d: %w (need %d periods before it)", rule, t, ErrShortHistory, lag+baseline-1)
	}
	mean, sd := MeanSD(counts[from : to+1])
	sd = math.Max(sd, minSigma)
	return Baseline{Method: rule, Expected: mean, SD: sd, Observations: baseline}, nil
}

// judgeEARS scores an observed count against an EARS C1/C2 baseline: the
// upper bound is mean + z(1-alpha)·sd and the p-value the normal upper tail
// of (observed - mean)/sd, as the rule's statistic is read. With a partial
// period (exposure e < 1) the mean is scaled by e and the standard deviation
// by sqrt(e), as for a sum of e of the period's independent days.
func judgeEARS(b Baseline, observed, exposure, alpha float64) (expected, upper, p float64) {
	mean := b.Expected * exposure
	sd := b.SD * math.Sqrt(exposure)
	upper = mean + normalQuantile(1-alpha)*sd
	if sd == 0 {
		p = 1
		if observed > mean {
			p = 0
		}
		return mean, upper, p
	}
	// The p-value is the predictive one: the baseline mean and sd are
	// estimated from only n periods, so (observed - mean)/(sd·sqrt(1+1/n))
	// is Student t with n-1 degrees of freedom under a normal baseline.
	n := float64(b.Observations)
	st := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: n - 1}
	return mean, upper, st.Survival((observed - mean) / (sd * math.Sqrt(1+1/n)))
}

// earsC2Stat is C2 = (observed - mean)/sd for period t, NaN without history.
func earsC2Stat(counts []float64, t, baseline int, minSigma float64) float64 {
	b, err := earsBaseline(RuleEARSC2, counts, t, baseline, minSigma)
	if err != nil || b.SD == 0 {
		return math.NaN()
	}
	return (counts[t] - b.Expected) / b.SD
}

// earsC3 is the EARS C3 rule for period t: C3 = sum over t-2..t of
// max(0, C2 - 1), an alarm when C3 > z(1-alpha) and the current period is
// itself more than one standard deviation above its baseline. The upper
// bound is the count at t above which that holds,
// mean + sd·(1 + max(0, z - L)) with L the two lagged terms.
//
// surveillance's earsC computes C3's upper bound as observed + sd·(z - L),
// which makes its alarm depend on the lagged terms only (an alarm whenever
// L > z, whatever the current count); plaint follows the rule as published
// (Hutwagner et al. 2003; Fricker et al. 2008) instead. The reference test
// checks the C2 inputs against R and this derivation on its own.
func earsC3(counts []float64, t, baseline int, minSigma, alpha float64) (stat, upper float64, alarm bool, err error) {
	b, err := earsBaseline(RuleEARSC2, counts, t, baseline, minSigma)
	if err != nil {
		return 0, 0, false, err
	}
	if t-2-3-baseline+1 < 0 {
		return 0, 0, false, fmt.Errorf("%s: period %d: %w (need %d periods before it)", RuleEARSC3, t, ErrShortHistory, baseline+4)
	}
	lagged := 0.0
	for i := t - 2; i < t; i++ {
		lagged += math.Max(0, earsC2Stat(counts, i, baseline, minSigma)-1)
	}
	z := normalQuantile(1 - alpha)
	c2 := (counts[t] - b.Expected) / b.SD
	stat = lagged + math.Max(0, c2-1)
	upper = b.Expected + b.SD*(1+math.Max(0, z-lagged))
	return stat, upper, counts[t] > upper, nil
}

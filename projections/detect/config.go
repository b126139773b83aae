package detect

import (
	"cmp"
	"errors"
	"fmt"
	"math"
)

// Config holds every threshold and minimum of the detector. The zero value
// is completed by setDefaults (New calls it); Validate reports every problem
// at once.
type Config struct {
	// Weekly and Monthly are the improved Farrington settings for ISO-week
	// and month series (see FarringtonConfig for each default).
	Weekly  FarringtonConfig
	Monthly FarringtonConfig
	// ShortHistory is the rule for a series with too little history for
	// Farrington (under a year plus the reference half window): RuleEARSC2
	// (default), RuleEARSC1, RuleEARSC3 or RulePoissonCUSUM.
	ShortHistory Rule
	// EARSBaseline is the number of past periods of the EARS baseline.
	// Default 7.
	EARSBaseline int
	// EARSMinSigma floors the EARS baseline standard deviation. Default 1
	// (Burkom's advice for sparse counts; 0 would let a flat history make
	// any count an alarm). Must be positive.
	EARSMinSigma float64
	// EARSAlpha is the one-sided level of the EARS bound. Default 0.001 for
	// C1 and C2 and 0.025 for C3 (earsC's defaults).
	EARSAlpha float64
	// PoissonCUSUM is the short-history Poisson CUSUM (K 1.04, H 2.26).
	PoissonCUSUM PoissonCUSUM
	// CUSUM is the NB likelihood-ratio CUSUM for slow rises, run on the
	// same baseline as the single-period test. Defaults: Kappa log 2,
	// Threshold 5.
	CUSUM NBCUSUM
	// NoCUSUM turns the NB CUSUM off.
	NoCUSUM bool
	// RecentBaseline is the number of periods (before a two-period guard
	// band) of the recent-level check that confirms an alarm. 0 means the
	// kind's Farrington PastExcluded (26 weeks, 6 months): the check reads
	// the very periods the Farrington baseline leaves out.
	RecentBaseline int
	// NoRecentCheck turns the recent-level check off.
	NoRecentCheck bool
	// Q is the false discovery rate controlled across the series evaluated
	// together (Benjamini–Hochberg). Default 0.05.
	Q float64
	// Spending is how much of Q a running period may use at its elapsed
	// share (its exposure): SpendingLinear (Q·exposure) or
	// SpendingOBrienFleming (the Lan–DeMets O'Brien–Fleming-type function,
	// which keeps early looks strict). Default SpendingOBrienFleming.
	Spending Spending
	// MinCount is the smallest count in the period that can raise an alert
	// ("three complaints don't make an alert"). Default 5.
	MinCount float64
}

// setDefaults fills zero fields with the documented defaults.
func (c *Config) setDefaults() {
	c.Weekly.setDefaults(Week)
	c.Monthly.setDefaults(Month)
	c.ShortHistory = cmp.Or(c.ShortHistory, RuleEARSC2)
	c.EARSBaseline = cmp.Or(c.EARSBaseline, 7)
	c.EARSMinSigma = cmp.Or(c.EARSMinSigma, 1)
	earsAlpha := 0.001
	if c.ShortHistory == RuleEARSC3 {
		earsAlpha = 0.025
	}
	c.EARSAlpha = cmp.Or(c.EARSAlpha, earsAlpha)
	c.PoissonCUSUM.setDefaults()
	c.CUSUM.setDefaults()
	c.Q = cmp.Or(c.Q, 0.05)
	c.MinCount = cmp.Or(c.MinCount, 5)
	c.Spending = cmp.Or(c.Spending, SpendingOBrienFleming)
}

// Validate returns every problem of the configuration, joined (nil when it
// is usable). It judges the configuration as given: call it after the
// defaults are filled, as New does.
func (c Config) Validate() error {
	var errs []error
	if err := c.Weekly.validate(Week); err != nil {
		errs = append(errs, err)
	}
	if err := c.Monthly.validate(Month); err != nil {
		errs = append(errs, err)
	}
	switch c.ShortHistory {
	case RuleEARSC1, RuleEARSC2, RuleEARSC3, RulePoissonCUSUM:
	default:
		errs = append(errs, fmt.Errorf("short-history rule %q: want %s, %s, %s or %s", c.ShortHistory,
			RuleEARSC1, RuleEARSC2, RuleEARSC3, RulePoissonCUSUM))
	}
	if c.EARSBaseline < 3 {
		errs = append(errs, fmt.Errorf("EARS baseline %d: need at least 3 periods", c.EARSBaseline))
	}
	if !(c.EARSMinSigma > 0) {
		errs = append(errs, fmt.Errorf("EARS minimum sigma %v: need > 0", c.EARSMinSigma))
	}
	if !(c.EARSAlpha > 0 && c.EARSAlpha < 0.5) {
		errs = append(errs, fmt.Errorf("EARS alpha %v: need 0 < alpha < 0.5", c.EARSAlpha))
	}
	if !(c.PoissonCUSUM.K >= 0) || !(c.PoissonCUSUM.H > 0) {
		errs = append(errs, fmt.Errorf("short-history Poisson CUSUM k %v, h %v: need k >= 0 and h > 0", c.PoissonCUSUM.K, c.PoissonCUSUM.H))
	}
	if !(c.CUSUM.Kappa > 0) || math.IsInf(c.CUSUM.Kappa, 0) {
		errs = append(errs, fmt.Errorf("CUSUM kappa %v: need a finite log-rise > 0", c.CUSUM.Kappa))
	}
	if !(c.CUSUM.Threshold > 0) {
		errs = append(errs, fmt.Errorf("CUSUM threshold %v: need > 0", c.CUSUM.Threshold))
	}
	if c.RecentBaseline != 0 && c.RecentBaseline < 3 {
		errs = append(errs, fmt.Errorf("recent baseline %d: need at least 3 periods", c.RecentBaseline))
	}
	if !(c.Q > 0 && c.Q < 1) {
		errs = append(errs, fmt.Errorf("FDR q %v: need 0 < q < 1", c.Q))
	}
	if c.Spending != SpendingLinear && c.Spending != SpendingOBrienFleming {
		errs = append(errs, fmt.Errorf("spending %q: want %s or %s", c.Spending, SpendingLinear, SpendingOBrienFleming))
	}
	if !(c.MinCount >= 0) {
		errs = append(errs, fmt.Errorf("minimum count %v: need >= 0", c.MinCount))
	}
	return errors.Join(errs...)
}

// recentBaseline is the length of the recent-level check for a kind.
func (c Config) recentBaseline(kind PeriodKind) int {
	if c.RecentBaseline > 0 {
		return c.RecentBaseline
	}
	return c.farrington(kind).PastExcluded
}

// farrington returns the Farrington settings for a period kind.
func (c Config) farrington(kind PeriodKind) FarringtonConfig {
	if kind == Month {
		return c.Monthly
	}
	return c.Weekly
}

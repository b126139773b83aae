package detect

// Rule names the test that judged a period, as an alert's "rule" field
// carries it.
type Rule string

// The rules of plaint's detector.
const (
	// RuleFarrington is the improved Farrington method (one period against
	// its seasonal, trend-adjusted baseline).
	RuleFarrington Rule = "farrington"
	// RuleEARSC1, RuleEARSC2 and RuleEARSC3 are the CDC's EARS rules, used
	// while a series has under about a year of history.
	RuleEARSC1 Rule = "ears-c1"
	RuleEARSC2 Rule = "ears-c2"
	RuleEARSC3 Rule = "ears-c3"
	// RulePoissonCUSUM is the standardised Poisson CUSUM of algo.cusum, an
	// alternative short-history rule.
	RulePoissonCUSUM Rule = "poisson-cusum"
	// RuleNBCUSUM is the negative binomial likelihood-ratio CUSUM of
	// surveillance's glrnb, which accumulates evidence of a slow rise over
	// several periods.
	RuleNBCUSUM Rule = "nb-cusum"
	// RuleFarringtonWindow is the window look: the count of a period and
	// the one before it against the sum of their Farrington baselines
	// (Detector.JudgeWindow), for rises that no single period shows yet.
	RuleFarringtonWindow Rule = "farrington-window"
)

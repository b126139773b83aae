package detect

import (
	"cmp"
	"math"
)

// NBCUSUM is the one-sided negative binomial likelihood-ratio CUSUM of
// surveillance's glrnb with a known shift (theta given: the recursive LR
// CUSUM of Höhle & Paul 2008, change = "intercept", dir = "inc"). Against
// in-control means mu0_t it looks for a multiplicative rise exp(Kappa):
//
//	z_t = Kappa·x_t + (x_t + 1/a_t)·log((1 + a_t·mu0_t) / (1 + a_t·mu0_t·exp(Kappa)))
//	S_t = max(0, S_{t-1} + z_t), an alarm when S_t > Threshold (c.ARL),
//
// where a_t is the NB dispersion (variance mu + a·mu²; a = 0 is the Poisson
// chart, z_t = Kappa·x_t + (1 - exp(Kappa))·mu0_t). After an alarm the chart
// starts again from 0, as glrnb does.
type NBCUSUM struct {
	// Kappa is the log of the rise to detect. Default log(2), a doubling.
	Kappa float64
	// Threshold is glrnb's c.ARL. Default 5.
	Threshold float64
}

// setDefaults fills zero fields with the defaults.
func (c *NBCUSUM) setDefaults() {
	c.Kappa = cmp.Or(c.Kappa, math.Ln2)
	c.Threshold = cmp.Or(c.Threshold, 7)
}

// Step advances the chart by one period: prev is S_{t-1} (0 after an
// alarm), x the count, mu0 the in-control mean and a the NB dispersion. It
// returns S_t, the number of cases that would make S_t reach the threshold
// (glrnb's ret = "cases", at least 0) and whether the chart alarmed.
func (c NBCUSUM) Step(prev, x, mu0, a float64) (stat, cases float64, alarm bool) {
	k := c.Kappa
	var z float64
	if a <= 0 {
		z = k*x + (1-math.Exp(k))*mu0
		cases = (c.Threshold - prev + mu0*(math.Exp(k)-1)) / k
	} else {
		l := math.Log((1 + a*mu0) / (1 + a*mu0*math.Exp(k)))
		z = k*x + (x+1/a)*l
		cases = -(prev*a + l - c.Threshold*a) / a / (k + l)
	}
	if math.IsNaN(cases) || cases < 0 {
		cases = 0
	}
	stat = math.Max(0, prev+z)
	return stat, cases, stat > c.Threshold
}

// NBDispersion converts the quasi-Poisson overdispersion phi of a baseline
// with mean mu into the NB dispersion a of glrnb (variance mu + a·mu² =
// phi·mu, so a = (phi-1)/mu; 0 when phi <= 1).
func NBDispersion(mu, phi float64) float64 {
	if !(phi > 1) || !(mu > 0) {
		return 0
	}
	return (phi - 1) / mu
}

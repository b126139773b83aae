package detect

import (
	"cmp"
	"math"
)

// PoissonCUSUM is the standardised Poisson CUSUM of surveillance's
// algo.cusum (trans = "standard"): S_t = max(0, S_{t-1} + (x_t - m_t)/sqrt(m_t) - K),
// an alarm when S_t >= H. Defaults K = 1.04, H = 2.26 (algo.cusum's).
type PoissonCUSUM struct {
	K, H float64
	// Reset restarts the statistic from 0 after an alarm (surveillance
	// >= 1.25's reset option; off by default there and here).
	Reset bool
}

// setDefaults fills zero fields with algo.cusum's defaults.
func (c *PoissonCUSUM) setDefaults() {
	c.K = cmp.Or(c.K, 1.04)
	c.H = cmp.Or(c.H, 2.26)
}

// Step advances the CUSUM by one period with observed x and in-control mean
// m. It returns the new statistic, the smallest count that would have
// alarmed this period (algo.cusum's upperbound, ceiling(sqrt(m)(H+K-S_{t-1}) + m),
// at least 0) and whether it alarmed.
func (c PoissonCUSUM) Step(prev, x, m float64) (stat, upper float64, alarm bool) {
	stat = math.Max(0, prev+(x-m)/math.Sqrt(m)-c.K)
	upper = math.Max(0, math.Ceil(math.Sqrt(m)*(c.H+c.K-prev)+m))
	alarm = stat >= c.H
	if alarm && c.Reset {
		stat = 0
	}
	return stat, upper, alarm
}

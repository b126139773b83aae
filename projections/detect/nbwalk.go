package detect

import (
	"math"
)

// nbCursor walks the distribution function of one negative binomial (or
// Poisson) count from one count to the next by the pmf recurrence,
// P(k+1) = P(k)·(k+r)/(k+1)·(1-prob) (P(k+1) = P(k)·mu/(k+1) for the
// Poisson limit), instead of an incomplete beta (gamma) function at each
// count. Its start (the anchor) is P(Y <= k) summed from P(0) = prob^r
// for a small count, and otherwise the incomplete beta function at the
// count with the pmf there from Loader's saddle-point form (R's dnbinom),
// so that a walk of a few counts costs a few multiplications.
type nbCursor struct {
	k        float64 // the count
	cdf, pmf float64 // P(Y <= k), P(Y = k)
	mu       float64
	r, q     float64 // the NB size and 1-prob = (phi-1)/phi (unused for Poisson)
	poisson  bool
	// lost reports that the pmf at the anchor underflowed (a count far in
	// a tail): a walk from it cannot be trusted.
	lost bool
}

// walkSumMax is the largest anchor count summed from 0 rather than read
// from the incomplete beta function.
const walkSumMax = 64

// walkMaxSize is the largest NB size a walk is trusted with.
const walkMaxSize = 1e6

// minPMF is the smallest pmf a walk trusts at its anchor (well above the
// subnormal numbers, so that the recurrence keeps its relative precision).
const minPMF = 1e-290

// anchor sets c at count k >= 0 of d (d.Mu > 0).
func (c *nbCursor) anchor(d NegBin, k float64) {
	*c = nbCursor{k: k, mu: d.Mu, poisson: d.poisson()}
	if !c.poisson {
		c.r, c.q = d.Mu/(d.Phi-1), (d.Phi-1)/d.Phi
	}
	var p0 float64
	if c.poisson {
		p0 = math.Exp(-d.Mu)
	} else {
		p0 = math.Exp(-c.r * math.Log(d.Phi)) // prob^r, prob = 1/phi
	}
	if !c.poisson && c.r > walkMaxSize {
		// The incomplete beta function the walk must agree with loses
		// its precision with a huge size (phi a hair above 1): 1e-9 at
		// 10^6, 2e-8 at 10^7, 3e-6 at 10^9 (TestWalkMatchesIncBeta).
		c.lost = true
		return
	}
	if k <= walkSumMax && p0 >= minPMF {
		c.k, c.pmf, c.cdf = 0, p0, p0
		for c.k < k {
			c.up()
		}
		c.lost = !(c.pmf >= minPMF)
		return
	}
	c.cdf = d.CDF(k)
	if c.poisson {
		c.pmf = dpois(k, d.Mu)
	} else {
		c.pmf = dnbinom(k, c.r, 1/d.Phi, c.q)
	}
	c.lost = !(c.pmf >= minPMF)
}

// up moves c to the next count.
func (c *nbCursor) up() {
	if c.poisson {
		c.pmf *= c.mu / (c.k + 1)
	} else {
		c.pmf *= (c.k + c.r) / (c.k + 1) * c.q
	}
	c.k++
	c.cdf += c.pmf
}

// down moves c to the count before (c.k >= 1).
func (c *nbCursor) down() {
	c.cdf -= c.pmf
	if c.poisson {
		c.pmf *= c.k / c.mu
	} else {
		c.pmf *= c.k / ((c.k - 1 + c.r) * c.q)
	}
	c.k--
}

// walkMargin is how far from the target probability a walked distribution
// function must be, on both sides of the count it returns, for the count
// to be taken. The walk is exact to about 1e-15; the incomplete beta
// function whose search it must reproduce is off by up to about 1e-9 with
// sizes near walkMaxSize or means of 10^5 (TestWalkMatchesIncBeta), so a
// count the walk decides with this margin is the count that search finds.
const walkMargin = 1e-7

// maxWalk is the most counts a walk moves from its start.
const maxWalk = 1 << 14

// negligibleWeight is the weight of a mixture's node below which a node
// whose walk cannot be trusted (lost) is ignored: its error is below its
// weight, far below walkMargin.
const negligibleWeight = 1e-20

// walkQuantile returns the smallest count k with F(k) >= target, F being
// sum_i w[i]·F_i with F_i the distribution function of cursor cs[i], all
// anchored at the same count; ok is false when the walk cannot decide it
// with walkMargin to spare (the caller then searches with the incomplete
// beta function, which the walk reproduces when it decides).
func walkQuantile(cs []nbCursor, w []float64, target float64) (k float64, ok bool) {
	f := 0.0
	for i := range cs {
		if cs[i].lost && w[i] > negligibleWeight || math.IsNaN(cs[i].cdf) || math.IsNaN(cs[i].pmf) {
			return 0, false
		}
		f += w[i] * cs[i].cdf
	}
	k = cs[0].k
	if f >= target {
		for steps := 0; k > 0; steps++ {
			if steps > maxWalk {
				return 0, false
			}
			dp := 0.0
			for i := range cs {
				dp += w[i] * cs[i].pmf
			}
			below := f - dp
			if below < target {
				return k, f-target > walkMargin && target-below > walkMargin
			}
			for i := range cs {
				cs[i].down()
			}
			f, k = below, k-1
		}
		return 0, f-target > walkMargin
	}
	for steps := 0; steps <= maxWalk; steps++ {
		dp := 0.0
		for i := range cs {
			cs[i].up()
			dp += w[i] * cs[i].pmf
		}
		before := f
		f += dp
		k++
		if f >= target {
			return k, f-target > walkMargin && target-before > walkMargin
		}
	}
	return 0, false
}

// stirlerr is log(n!) - log(sqrt(2·pi·n)·(n/e)^n), the error of Stirling's
// formula (Loader 2000, as R's stirlerr), for n >= 0.
func stirlerr(n float64) float64 {
	const (
		s0 = 1.0 / 12
		s1 = 1.0 / 360
		s2 = 1.0 / 1260
		s3 = 1.0 / 1680
		s4 = 1.0 / 1188
	)
	if n <= 15 {
		if n == 0 {
			return 0
		}
		lg, _ := math.Lgamma(n + 1)
		return lg - (n+0.5)*math.Log(n) + n - lnSqrt2Pi
	}
	nn := n * n
	switch {
	case n > 500:
		return (s0 - s1/nn) / n
	case n > 80:
		return (s0 - (s1-s2/nn)/nn) / n
	case n > 35:
		return (s0 - (s1-(s2-s3/nn)/nn)/nn) / n
	}
	return (s0 - (s1-(s2-(s3-s4/nn)/nn)/nn)/nn) / n
}

// lnSqrt2Pi is log(sqrt(2·pi)).
const lnSqrt2Pi = 0.918938533204672741780329736406

// bd0 is x·log(x/np) + np - x, the deviance term of Loader's saddle-point
// expansion, computed without cancellation when x is near np (R's bd0).
func bd0(x, np float64) float64 {
	if math.Abs(x-np) < 0.1*(x+np) {
		v := (x - np) / (x + np)
		s := (x - np) * v
		if math.Abs(s) < math.SmallestNonzeroFloat64 {
			return s
		}
		ej := 2 * x * v
		v *= v
		for j := 1; j < 1000; j++ {
			ej *= v
			s1 := s + ej/float64(2*j+1)
			if s1 == s {
				return s1
			}
			s = s1
		}
	}
	return x*math.Log(x/np) + np - x
}

// dnbinom is P(Y = k) of the negative binomial of size r and probability p
// (q = 1-p), k >= 1, by Loader's saddle-point form as R's dnbinom computes
// it (through dbinom_raw(r, r+k, p, q)), with k given apart from r+k so
// that a huge size keeps the count's precision.
func dnbinom(k, r, p, q float64) float64 {
	n := r + k
	lc := stirlerr(n) - stirlerr(r) - stirlerr(k) - bd0(r, n*p) - bd0(k, n*q)
	lf := math.Log(2*math.Pi) + math.Log(r) + math.Log(k) - math.Log(n)
	return r / n * math.Exp(lc-0.5*lf)
}

// dpois is P(Y = k) of the Poisson of mean mu, k >= 1 (R's dpois_raw).
func dpois(k, mu float64) float64 {
	return math.Exp(-stirlerr(k)-bd0(k, mu)) / math.Sqrt(2*math.Pi*k)
}

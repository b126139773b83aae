package detect

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/integrate/quad"
)

// Threshold names how the Farrington upper bound and p-value are derived
// from the fitted model.
type Threshold string

const (
	// ThresholdNBPlugin is Noufaily's plug-in: the negative binomial with
	// the fitted mean and phi, ignoring that both were estimated
	// (farringtonFlexible's thresholdMethod = "nbPlugin").
	ThresholdNBPlugin Threshold = "nbPlugin"
	// ThresholdPredictive integrates the negative binomial over the
	// estimation error of the log mean, normal with the GLM's standard
	// error (predict.glm's se.fit): the predictive distribution of the
	// period's count. It equals nbPlugin as the standard error goes to 0
	// (long histories) and is wider when the history is short.
	ThresholdPredictive Threshold = "predictive"
)

// hermiteNodes are Gauss–Hermite nodes and weights (weight exp(-x²)),
// scaled so that E[f(Z)] for a standard normal Z is sum w_i f(x_i).
var hermiteNodes, hermiteWeights = func() (*[hermiteN]float64, []float64) {
	x, w := new([hermiteN]float64), make([]float64, hermiteN)
	quad.Hermite{}.FixedLocations(x[:], w, math.Inf(-1), math.Inf(1))
	for i := range x {
		x[i] *= math.Sqrt2
		w[i] /= math.Sqrt(math.Pi)
	}
	return x, w
}()

// hermiteN is the number of Gauss–Hermite nodes.
const hermiteN = 24

// predictiveNB is the negative binomial mixed over a lognormal mean.
type predictiveNB struct {
	mu, phi, se float64 // plug-in mean (exposure applied), phi, se of log mean
}

func (d predictiveNB) cdf(k float64) float64 {
	s := 0.0
	for i, x := range hermiteNodes {
		s += hermiteWeights[i] * NegBin{Mu: d.mu * math.Exp(d.se*x), Phi: d.phi}.CDF(k)
	}
	return s
}

func (d predictiveNB) survival(y float64) float64 {
	s := 0.0
	for i, x := range hermiteNodes {
		s += hermiteWeights[i] * NegBin{Mu: d.mu * math.Exp(d.se*x), Phi: d.phi}.Survival(y)
	}
	return s
}

func (d predictiveNB) quantile(p float64) float64 {
	// Start from the quantile of the negative binomial with the mixture's
	// mean and variance (phi·mu·e^(se²/2) + mu²·e^(se²)(e^(se²)-1)), close
	// to the answer; the search returns the same count from any start.
	s2 := d.se * d.se
	m := d.mu * math.Exp(s2/2)
	v := d.phi*m + m*m*math.Expm1(s2)
	target := p * (1 - 64*epsilon)
	if d.mu > 0 && p > 0 && p < 1 && m > 0 && v > 0 && !math.IsInf(v, 0) {
		// The walk of the pmf recurrence at every node from the
		// Cornish-Fisher start, when it decides the count.
		if k, ok := d.walkQuantile(NegBin{Mu: m, Phi: max(1, v/m)}.cornishFisher(p), target); ok {
			return k
		}
	}
	start := NegBin{Mu: d.mu, Phi: d.phi}.Quantile(p)
	if m > 0 && v > 0 && !math.IsInf(v, 0) {
		if k := (NegBin{Mu: m, Phi: max(1, v/m)}).Quantile(p); !math.IsNaN(k) && !math.IsInf(k, 0) {
			start = k
		}
	}
	return smallestAtLeast(d.cdf, target, start)
}

// walkQuantile is the quantile of probability target by walkQuantile from
// count start, every node's cursor anchored there; ok as walkQuantile's.
func (d predictiveNB) walkQuantile(start, target float64) (float64, bool) {
	if math.IsNaN(start) || math.IsInf(start, 0) || start > maxQuantile {
		return 0, false
	}
	var cs [hermiteN]nbCursor
	for i, x := range hermiteNodes {
		mu := d.mu * math.Exp(d.se*x)
		if !(mu > 0) || math.IsInf(mu, 0) {
			return 0, false
		}
		cs[i].anchor(NegBin{Mu: mu, Phi: d.phi}, start)
	}
	return walkQuantile(cs[:], hermiteWeights, target)
}

// smallestAtLeast returns the smallest count k >= 0 with cdf(k) >= target,
// cdf being non-decreasing, searching from start: galloping away from it,
// then bisecting, so that a start far from the answer costs a few
// logarithmic steps instead of one evaluation per count.
func smallestAtLeast(cdf func(float64) float64, target, start float64) float64 {
	var lo, hi float64 // cdf(lo) < target <= cdf(hi); lo = -1 stands for "below 0"
	if cdf(start) >= target {
		hi = start
		for step := 1.0; ; step *= 2 {
			lo = hi - step
			if lo < 0 {
				lo = -1
				break
			}
			if cdf(lo) < target {
				break
			}
			hi = lo
		}
	} else {
		lo = start
		for step := 1.0; ; step *= 2 {
			hi = lo + step
			if cdf(hi) >= target {
				break
			}
			if hi > maxQuantile || math.IsNaN(hi) {
				// A degenerate distribution (a fit whose log mean has an
				// enormous standard error) never reaches the probability:
				// there is no finite bound.
				return math.Inf(1)
			}
			lo = hi
		}
	}
	for hi-lo > 1 {
		mid := math.Floor((lo + hi) / 2)
		if cdf(mid) >= target {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}

// maxQuantile is the largest count a quantile search looks at.
const maxQuantile = 1e12

// quantileKey identifies a predictive quantile: the distribution and the
// probability.
type quantileKey struct{ mu, phi, se, p float64 }

// quantileMemo remembers predictive quantiles: a live detector judges the
// same running period at the same exposure many times (once a complaint
// tips it, again at midnight), and the quantile is most of a judgement's
// cost. It is a pure function's memo, cleared when it grows past its bound.
type quantileMemo struct {
	mu sync.Mutex
	m  map[quantileKey]float64
}

const quantileMemoSize = 1 << 16

func (q *quantileMemo) quantile(d predictiveNB, p float64) float64 {
	k := quantileKey{d.mu, d.phi, d.se, p}
	q.mu.Lock()
	v, ok := q.m[k]
	q.mu.Unlock()
	if ok {
		return v
	}
	v = d.quantile(p)
	q.mu.Lock()
	if q.m == nil || len(q.m) >= quantileMemoSize {
		q.m = make(map[quantileKey]float64)
	}
	q.m[k] = v
	q.mu.Unlock()
	return v
}

// judgePredictive is judgeNB with the predictive distribution.
func (q *quantileMemo) judgePredictive(b Baseline, observed, exposure, alpha float64) (expected, upper, p float64) {
	d := predictiveNB{mu: b.Expected * exposure, phi: b.Phi, se: b.SELink}
	if !(d.se > 0) {
		return judgeNB(b, observed, exposure, alpha)
	}
	return d.mu, q.quantile(d, 1-alpha), d.survival(observed)
}

package detect

import (
	"math"

	"gonum.org/v1/gonum/mathext"
)

// NegBin is the negative binomial distribution of a count with mean Mu and
// variance Phi·Mu, the predictive distribution of the quasi-Poisson model
// (Noufaily et al. 2013). In R's parameterisation it is
// dnbinom(size = Mu/(Phi-1), prob = 1/Phi); Phi <= 1 means no overdispersion
// and the distribution is Poisson(Mu), exactly as surveillance's
// algo.farrington.threshold.noufaily treats it.
type NegBin struct {
	Mu  float64
	Phi float64
}

// poisson reports whether d is the Poisson limit (Phi <= 1).
func (d NegBin) poisson() bool { return !(d.Phi > 1) }

// Size is the NB size (R's size, the shape of the gamma mixing), Mu/(Phi-1);
// +Inf for the Poisson limit.
func (d NegBin) Size() float64 {
	if d.poisson() {
		return math.Inf(1)
	}
	return d.Mu / (d.Phi - 1)
}

// Prob is the NB success probability 1/Phi (1 for the Poisson limit).
func (d NegBin) Prob() float64 {
	if d.poisson() {
		return 1
	}
	return 1 / d.Phi
}

// Variance is Phi·Mu (Mu for the Poisson limit).
func (d NegBin) Variance() float64 {
	if d.poisson() {
		return d.Mu
	}
	return d.Phi * d.Mu
}

// CDF is P(Y <= k). It is pnbinom(k, size, prob) = I_prob(size, k+1) for the
// negative binomial and ppois(k, Mu) = Q(k+1, Mu) for the Poisson limit.
func (d NegBin) CDF(k float64) float64 {
	k = math.Floor(k + 1e-7)
	if k < 0 {
		return 0
	}
	if d.Mu <= 0 {
		return 1
	}
	if d.poisson() {
		return mathext.GammaIncRegComp(k+1, d.Mu)
	}
	return mathext.RegIncBeta(d.Size(), k+1, d.Prob())
}

// Survival is P(Y >= y), the one-sided p-value of an observed count y: it is
// pnbinom(y-1, size, prob, lower.tail = FALSE) as in
// algo.farrington.threshold.noufaily, computed on the upper tail directly
// (I_{1-prob}(y, size)) so that small p-values keep their precision.
func (d NegBin) Survival(y float64) float64 {
	y = math.Ceil(y - 1e-7)
	if y <= 0 {
		return 1
	}
	if d.Mu <= 0 {
		return 0
	}
	if d.poisson() {
		return mathext.GammaIncReg(y, d.Mu)
	}
	return mathext.RegIncBeta(y, d.Size(), 1-d.Prob())
}

// Quantile is the smallest count k with P(Y <= k) >= p, as R's qnbinom and
// qpois compute it (including their fuzz of p by 1 - 64·eps, which keeps a p
// equal to a CDF value from jumping to the next count), walking the pmf
// recurrence from the Cornish-Fisher start when that decides the count.
func (d NegBin) Quantile(p float64) float64 {
	switch {
	case math.IsNaN(p) || p < 0 || p > 1 || math.IsNaN(d.Mu) || d.Mu < 0:
		return math.NaN()
	case d.Mu == 0 || p == 0:
		return 0
	case p == 1:
		return math.Inf(1)
	}
	target := p * (1 - 64*epsilon)
	// Start from the Cornish-Fisher approximation, as R does, then search:
	// by the pmf recurrence when it decides the count (walkQuantile), else
	// with the distribution function at each count.
	k := d.cornishFisher(p)
	var c [1]nbCursor
	c[0].anchor(d, k)
	if q, ok := walkQuantile(c[:], one[:], target); ok {
		return q
	}
	return d.searchCDF(k, target)
}

// searchCDF is the smallest count with CDF >= target, searched with
// the distribution function one count at a time from k, down when k
// reaches target already and up otherwise (R's search when the walk does
// not decide the count).
func (d NegBin) searchCDF(k, target float64) float64 {
	if d.CDF(k) >= target {
		for k > 0 && d.CDF(k-1) >= target {
			k--
		}
		return k
	}
	for d.CDF(k) < target {
		k++
	}
	return k
}

// one is the weight of a lone distribution, for walkQuantile.
var one = [1]float64{1}

// cornishFisher is the Cornish-Fisher approximation of the p quantile
// (Mu > 0, 0 < p < 1), rounded to a count >= 0: where R's qnbinom and
// qpois start their search.
func (d NegBin) cornishFisher(p float64) float64 {
	sigma := math.Sqrt(d.Variance())
	gamma := (2*d.Phi - 1) / sigma // skewness of the NB (1/sigma for Poisson)
	if d.poisson() {
		gamma = 1 / sigma
	}
	z := normalQuantile(p)
	k := math.Floor(d.Mu + sigma*(z+gamma*(z*z-1)/6) + 0.5)
	if k < 0 || math.IsNaN(k) {
		k = 0
	}
	return k
}

// epsilon is the float64 machine epsilon (R's DBL_EPSILON).
const epsilon = 2.220446049250313e-16

// normalQuantile is the standard normal quantile function.
func normalQuantile(p float64) float64 {
	return -math.Sqrt2 * math.Erfcinv(2*p)
}

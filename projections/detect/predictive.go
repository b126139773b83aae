package detect

import (
	"math"

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
var hermiteNodes, hermiteWeights = func() ([]float64, []float64) {
	const n = 24
	x, w := make([]float64, n), make([]float64, n)
	quad.Hermite{}.FixedLocations(x, w, math.Inf(-1), math.Inf(1))
	for i := range x {
		x[i] *= math.Sqrt2
		w[i] /= math.Sqrt(math.Pi)
	}
	return x, w
}()

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
	k := NegBin{Mu: d.mu, Phi: d.phi}.Quantile(p)
	for d.cdf(k) < p*(1-64*epsilon) {
		k++
	}
	for k > 0 && d.cdf(k-1) >= p*(1-64*epsilon) {
		k--
	}
	return k
}

// judgePredictive is judgeNB with the predictive distribution.
func judgePredictive(b Baseline, observed, exposure, alpha float64) (expected, upper, p float64) {
	d := predictiveNB{mu: b.Expected * exposure, phi: b.Phi, se: b.SELink}
	if !(d.se > 0) {
		return judgeNB(b, observed, exposure, alpha)
	}
	return d.mu, d.quantile(1 - alpha), d.survival(observed)
}

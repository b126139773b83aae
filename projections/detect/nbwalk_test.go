package detect

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/mathext"
	"gonum.org/v1/gonum/stat/distuv"
)

// walkMus and walkPhis span the distributions the detector meets and
// beyond: means from a thousandth of a count to 10^5 (huge counts), phi
// from Poisson through a size of 10^12 (phi a hair above 1: a huge r) to
// phi 200 (a size far below 1: long tails).
var (
	walkMus  = []float64{1e-3, 0.05, 0.4, 1.7, 4, 9.3, 23, 61, 150, 420, 1300, 6500, 27000, 1e5}
	walkPhis = []float64{1, 1 + 1e-12, 1 + 1e-7, 1.0004, 1.05, 1.3, 2, 3.7, 9, 40, 200}
)

// exactCDF is P(Y <= k) straight from gonum: the regularised incomplete
// beta function I_prob(r, k+1) (mathext), or distuv's Poisson.
func exactCDF(d NegBin, k float64) float64 {
	if d.poisson() {
		return distuv.Poisson{Lambda: d.Mu}.CDF(k)
	}
	return mathext.RegIncBeta(d.Size(), k+1, d.Prob())
}

// TestWalkMatchesIncBeta walks the pmf recurrence up and down 300 counts
// from anchors below, at and far above the mean, and compares the
// distribution function it carries with gonum's at every count: within
// 2e-9 (absolute; the quantile search trusts a walk with walkMargin =
// 1e-7 to spare), and its pmf with the difference of gonum's CDFs where
// that difference is well conditioned. The differences are gonum's: they
// jitter from one count to the next where the walk's error can only
// accumulate, and they grow with the size (1e-9 at 10^6, 2e-8 at 10^7: no
// walk there, walkMaxSize) as prob^size amplifies the rounding of prob.
func TestWalkMatchesIncBeta(t *testing.T) {
	worst, checked, lost := 0.0, 0, 0
	for _, mu := range walkMus {
		for _, phi := range walkPhis {
			d := NegBin{Mu: mu, Phi: phi}
			sd := math.Sqrt(d.Variance())
			for _, a := range []float64{0, 3, mu, mu + 2*sd, mu + 8*sd + 100, 40 * mu} {
				a = math.Floor(a)
				for _, dir := range []int{1, -1} {
					var c nbCursor
					c.anchor(d, a)
					if c.lost {
						if !(d.Size() > walkMaxSize) {
							lost++
						}
						continue
					}
					for step := 0; step < 300; step++ {
						want := exactCDF(d, c.k)
						if diff := math.Abs(c.cdf - want); diff > 2e-9 {
							t.Fatalf("%+v anchored at %v, walked %d to %v: CDF %.17g, gonum %.17g (diff %.3g)", d, a, dir*step, c.k, c.cdf, want, diff)
						} else {
							worst = max(worst, diff)
						}
						if c.k > 0 {
							below := exactCDF(d, c.k-1)
							if pd := want - below; pd > 1e-6 && math.Abs(c.pmf-pd) > 4e-9+1e-9*pd {
								t.Fatalf("%+v at %v: pmf %.17g, gonum's CDF difference %.17g", d, c.k, c.pmf, pd)
							}
						}
						checked++
						if dir < 0 {
							if c.k == 0 {
								break
							}
							c.down()
						} else {
							c.up()
						}
					}
				}
			}
		}
	}
	if checked < 50_000 {
		t.Fatalf("only %d counts checked", checked)
	}
	t.Logf("%d counts, largest CDF difference %.3g; %d anchors too far in a tail", checked, worst, lost)
}

// TestDNBinomMatchesLgamma checks the saddle-point pmf against the
// direct log-gamma formula where that one is accurate (moderate sizes).
func TestDNBinomMatchesLgamma(t *testing.T) {
	for _, r := range []float64{0.02, 0.7, 3, 18, 250} {
		for _, p := range []float64{0.01, 0.3, 0.5, 0.9, 0.999} {
			for _, k := range []float64{1, 2, 7, 65, 300, 4000} {
				lg := func(x float64) float64 { v, _ := math.Lgamma(x); return v }
				want := math.Exp(lg(k+r) - lg(r) - lg(k+1) + r*math.Log(p) + k*math.Log1p(-p))
				if got := dnbinom(k, r, p, 1-p); want > 1e-280 && math.Abs(got-want) > 1e-11*want {
					t.Errorf("dnbinom(%v, %v, %v) = %.17g, lgamma %.17g", k, r, p, got, want)
				}
			}
		}
	}
	for _, mu := range []float64{0.3, 5, 70, 900} {
		for _, k := range []float64{1, 4, 66, 1000} {
			if got, want := dpois(k, mu), (distuv.Poisson{Lambda: mu}).Prob(k); want > 1e-280 && math.Abs(got-want) > 1e-11*want {
				t.Errorf("dpois(%v, %v) = %.17g, gonum %.17g", k, mu, got, want)
			}
		}
	}
}

// searchQuantile is NegBin.Quantile by the incomplete beta function
// alone, as it was before the walk: the Cornish-Fisher start, then one
// count at a time.
func searchQuantile(d NegBin, p float64) float64 {
	return d.searchCDF(d.cornishFisher(p), p*(1-64*epsilon))
}

// searchPredictiveQuantile is predictiveNB.quantile by the incomplete
// beta function alone, as it was before the walk.
func searchPredictiveQuantile(d predictiveNB, p float64) float64 {
	s2 := d.se * d.se
	m := d.mu * math.Exp(s2/2)
	v := d.phi*m + m*m*math.Expm1(s2)
	start := searchQuantile(NegBin{Mu: d.mu, Phi: d.phi}, p)
	if m > 0 && v > 0 && !math.IsInf(v, 0) {
		if k := searchQuantile(NegBin{Mu: m, Phi: max(1, v/m)}, p); !math.IsNaN(k) && !math.IsInf(k, 0) {
			start = k
		}
	}
	return smallestAtLeast(d.cdf, p*(1-64*epsilon), start)
}

// TestWalkedQuantilesAreTheSearchs checks that the quantiles decided by
// the walk are, over a wide grid, exactly those of the search by the
// incomplete beta function, for the negative binomial and the predictive
// mixture, and that the walk decides nearly all of them (it is the fast
// path, not a curiosity).
func TestWalkedQuantilesAreTheSearchs(t *testing.T) {
	levels := []float64{0.5, 0.9, 0.95, 0.975, 0.99, 0.999, 0.999999}
	decided, total := 0, 0
	for _, mu := range walkMus {
		for _, phi := range walkPhis {
			d := NegBin{Mu: mu, Phi: phi}
			for _, p := range levels {
				if got, want := d.Quantile(p), searchQuantile(d, p); got != want {
					t.Errorf("%+v: Quantile(%v) = %v, the search gives %v", d, p, got, want)
				}
				if d.Size() > walkMaxSize || p > 0.999 {
					continue // no walk; a pmf not far above walkMargin
				}
				var c [1]nbCursor
				c[0].anchor(d, d.cornishFisher(p))
				if _, ok := walkQuantile(c[:], one[:], p*(1-64*epsilon)); ok {
					decided++
				}
				total++
			}
			for _, se := range []float64{0.01, 0.08, 0.3, 0.9} {
				if se*mu > 1000 {
					continue // the search by the incomplete beta alone takes 0.1 s
				}
				pd := predictiveNB{mu: mu, phi: phi, se: se}
				for _, p := range levels {
					if got, want := pd.quantile(p), searchPredictiveQuantile(pd, p); got != want {
						t.Errorf("%+v: quantile(%v) = %v, the search gives %v", pd, p, got, want)
					}
				}
			}
		}
	}
	if decided < total*19/20 {
		t.Errorf("the walk decided %d quantiles of %d", decided, total)
	}
	t.Logf("the walk decided %d of %d negative binomial quantiles", decided, total)
}

package detect

import (
	"math"
	"testing"
)

// TestNegBinMatchesR compares quantiles, CDF and upper tail with R's
// qnbinom/pnbinom/qpois/ppois (testdata/negbin.csv).
func TestNegBinMatchesR(t *testing.T) {
	rows := readCSV(t, "negbin.csv")
	if len(rows) < 300 {
		t.Fatalf("only %d reference rows", len(rows))
	}
	for _, r := range rows {
		d := NegBin{Mu: num(t, r["mu"]), Phi: num(t, r["phi"])}
		arg, want := num(t, r["arg"]), num(t, r["value"])
		var got float64
		switch r["kind"] {
		case "quantile":
			got = d.Quantile(arg)
			if got != want {
				t.Errorf("Quantile(%v) of %+v = %v, R says %v", arg, d, got, want)
			}
			continue
		case "survival":
			got = d.Survival(arg)
		case "cdf":
			got = d.CDF(arg)
		}
		// Relative 1e-9 (abs 1e-14 for tails near 0): both sides use the
		// regularised incomplete beta/gamma to double precision.
		if !closeTo(got, want, 1e-9, 1e-14) {
			t.Errorf("%s(%v) of %+v = %.15g, R says %.15g", r["kind"], arg, d, got, want)
		}
	}
}

// TestNegBinMoments checks the parameterisation: mean Mu, variance Phi·Mu.
func TestNegBinMoments(t *testing.T) {
	for _, d := range []NegBin{{Mu: 4, Phi: 2.5}, {Mu: 30, Phi: 1}, {Mu: 0.7, Phi: 6}} {
		mean, m2 := 0.0, 0.0
		prev := 0.0
		for k := 0.0; k < 2000; k++ {
			c := d.CDF(k)
			p := c - prev
			prev = c
			mean += k * p
			m2 += k * k * p
		}
		if v := m2 - mean*mean; math.Abs(mean-d.Mu) > 1e-6 || math.Abs(v-d.Variance()) > 1e-4 {
			t.Errorf("%+v: mean %v variance %v, want %v and %v", d, mean, v, d.Mu, d.Variance())
		}
		if q := d.Quantile(d.CDF(7)); q != 7 {
			t.Errorf("%+v: Quantile(CDF(7)) = %v, want 7", d, q)
		}
	}
}

// TestNegBinQuantileInvertsCDF checks, over a grid of means, dispersions
// and levels, that the quantile is the smallest count whose CDF reaches p
// and that the upper tail complements the CDF.
func TestNegBinQuantileInvertsCDF(t *testing.T) {
	for _, mu := range []float64{1e-3, 0.05, 0.8, 3, 17, 140, 2500} {
		for _, phi := range []float64{0.5, 1, 1.0001, 1.3, 3, 25} {
			d := NegBin{Mu: mu, Phi: phi}
			for _, p := range []float64{0.01, 0.3, 0.5, 0.9, 0.95, 0.999, 0.999999} {
				q := d.Quantile(p)
				if d.CDF(q) < p*(1-1e-12) || (q > 0 && d.CDF(q-1) >= p) {
					t.Errorf("%+v: Quantile(%v) = %v, CDF %v, CDF below %v", d, p, q, d.CDF(q), d.CDF(q-1))
				}
			}
			for _, y := range []float64{1, 2, math.Ceil(mu), math.Ceil(3*mu + 5)} {
				if s := d.Survival(y) + d.CDF(y-1); math.Abs(s-1) > 1e-9 {
					t.Errorf("%+v: Survival(%v) + CDF(%v) = %v", d, y, y-1, s)
				}
			}
		}
	}
}

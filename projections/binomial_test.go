package projections

import (
	"math"
	"testing"
)

// naiveBinomTwoSided sums the probabilities of every outcome no more likely
// than x, term by term.
func naiveBinomTwoSided(x, n int64, p float64) float64 {
	d := math.Exp(logPMF(x, n, p))
	var s float64
	for i := int64(0); i <= n; i++ {
		if pi := math.Exp(logPMF(i, n, p)); pi <= d*(1+1e-7) {
			s += pi
		}
	}
	return math.Min(1, s)
}

func TestPoissonRatioPValue(t *testing.T) {
	// Exact values: 2·P(X <= 3 | n=10) = 352/1024, 2·P(X <= 10 | n=30) as
	// R's binom.test(10, 30) gives, 2·P(X = 0 | n=5) = 2/32.
	for _, c := range []struct {
		k1, k2 int64
		t1, t2 float64
		want   float64
	}{
		{3, 7, 1, 1, 0.34375},
		{10, 20, 1, 1, 0.09873714},
		{0, 5, 1, 1, 0.0625},
		{50, 50, 1, 1, 1},
	} {
		got := PoissonRatioPValue(c.k1, c.k2, c.t1, c.t2)
		if math.Abs(got-c.want) > 1e-4*math.Max(c.want, 1e-3) {
			t.Errorf("p(%d, %d, %g, %g) = %.8g, want %.8g", c.k1, c.k2, c.t1, c.t2, got, c.want)
		}
	}
	for n := int64(1); n <= 60; n++ {
		for x := int64(0); x <= n; x++ {
			for _, p := range []float64{0.5, 31.0 / 61, 0.3, 0.8} {
				got, want := binomTwoSided(x, n, p), naiveBinomTwoSided(x, n, p)
				if math.Abs(got-want) > 1e-9+1e-7*want {
					t.Fatalf("binomTwoSided(%d, %d, %g) = %.12g, naive %.12g", x, n, p, got, want)
				}
			}
		}
	}
	// Large counts stay finite and sensible.
	if p := PoissonRatioPValue(1_000_000, 1_000_000, 1, 1); p < 0.99 {
		t.Errorf("equal large counts: p = %g", p)
	}
	if p := PoissonRatioPValue(1_010_000, 1_000_000, 1, 1); p > 1e-6 {
		t.Errorf("1%% rise on a million: p = %g", p)
	}
	if p := PoissonRatioPValue(0, 0, 1, 1); p != 1 {
		t.Errorf("no events: p = %g", p)
	}
}

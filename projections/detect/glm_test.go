package detect

import (
	"fmt"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// TestQuasiPoissonMatchesR fits the weighted quasi-Poisson GLM of
// testdata/glm.csv (150 weeks of Salmonella Newport, intercept + trend + a
// four-level factor, non-uniform prior weights) and compares coefficients,
// standard errors, p-values, dispersion, fitted values and hat values with
// R's glm/summary.glm/hatvalues.
func TestQuasiPoissonMatchesR(t *testing.T) {
	want := map[string]float64{}
	for _, r := range readCSV(t, "glm.csv") {
		want[r["name"]] = num(t, r["value"])
	}
	y := loadSeries(t)["salmNewport"].counts[:150]
	const n, p = 150, 5
	x := mat.NewDense(n, p, nil)
	w := make([]float64, n)
	for i := 0; i < n; i++ {
		level := (i/13)%4 + 1
		x.Set(i, 0, 1)
		x.Set(i, 1, float64(i+1))
		if level > 1 {
			x.Set(i, level, 1)
		}
		w[i] = 0.5 + float64((i+1)%7)/7
	}
	fit, err := fitQuasiPoisson(x, y, w)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, got float64, rel float64) {
		t.Helper()
		if !closeTo(got, want[name], rel, 1e-12) {
			t.Errorf("%s = %.12g, R says %.12g", name, got, want[name])
		}
	}
	// R stops at the same deviance criterion, so the estimates agree to
	// about the square root of its tolerance; 1e-6 relative is well inside.
	for j := 0; j < p; j++ {
		check(fmt.Sprintf("coef%d", j+1), fit.coef[j], 1e-6)
		se := fit.seLink(unit(p, j))
		check(fmt.Sprintf("se%d", j+1), se, 1e-6)
		check(fmt.Sprintf("p%d", j+1), fit.coefPValue(j), 1e-5)
	}
	check("dispersion", fit.dispersion, 1e-6)
	if float64(fit.dfResidual) != want["df"] {
		t.Errorf("df %d, R says %v", fit.dfResidual, want["df"])
	}
	for i := 0; i < n; i++ {
		check(fmt.Sprintf("mu%d", i+1), fit.mu[i], 1e-6)
		check(fmt.Sprintf("hat%d", i+1), fit.hat[i], 1e-6)
	}
}

func unit(p, j int) []float64 {
	u := make([]float64, p)
	u[j] = 1
	return u
}

// TestQuasiPoissonRejectsTooFewObservations checks the ErrNoFit guard.
func TestQuasiPoissonRejectsTooFewObservations(t *testing.T) {
	x := mat.NewDense(2, 2, []float64{1, 0, 1, 1})
	if _, err := fitQuasiPoisson(x, []float64{1, 2}, nil); err == nil {
		t.Fatal("fit of 2 observations with 2 coefficients succeeded")
	}
}

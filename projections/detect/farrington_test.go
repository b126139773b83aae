package detect

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// TestFarringtonMatchesR runs the improved Farrington method over the
// weekly and monthly reference series and compares, period by period, the
// expected count, upper bound, p-value, phi, trend and alarm with R's
// farringtonFlexible (testdata/reference.csv).
//
// Tolerances: upper bounds are integers and must be equal; expected values,
// phi and trend agree to 1e-6 relative (both fits stop at the same
// deviance criterion); p-values to 1e-5 relative.
func TestFarringtonMatchesR(t *testing.T) {
	series := loadSeries(t)
	n := 0
	for _, r := range readCSV(t, "reference.csv") {
		if !strings.HasPrefix(r["method"], "farrington.b") {
			continue
		}
		n++
		s := series[r["series"]]
		b, _ := strconv.Atoi(strings.TrimPrefix(r["method"], "farrington.b"))
		k, _ := strconv.Atoi(r["t"])
		// R's own rules: nbPlugin, a trend from 3 years, Farrington from 1.
		c := FarringtonConfig{YearsBack: b, Threshold: ThresholdNBPlugin, TrendMinYears: 3, MinYearsBack: 1}
		c.setDefaults(s.kind)
		bl, err := farringtonFit(s.kind, s.start, s.counts, k-1, c)
		if err != nil {
			t.Fatalf("%s t=%d: %v", r["series"], k, err)
		}
		obs := s.counts[k-1]
		expected, upper, p := judgeNB(bl, obs, 1, c.Alpha)
		enough := limitCases(s.counts, k-1, c.Limit54Periods) >= float64(c.Limit54Cases)
		alarm := enough && obs > upper && obs != 0
		if !enough {
			expected, upper = math.NaN(), math.NaN()
		}
		where := r["series"] + " " + r["method"] + " t=" + r["t"]
		if want := num(t, r["upper"]); !(upper == want || math.IsNaN(upper) && math.IsNaN(want)) {
			t.Errorf("%s: upper %v, R says %v (expected %v vs %v, phi %v vs %v)", where, upper, want,
				expected, num(t, r["expected"]), bl.Phi, num(t, r["phi"]))
		}
		if want := num(t, r["expected"]); !closeTo(expected, want, 1e-6, 0) {
			t.Errorf("%s: expected %.10g, R says %.10g", where, expected, want)
		}
		if want := num(t, r["pvalue"]); !closeTo(p, want, 1e-5, 1e-12) {
			t.Errorf("%s: p-value %.10g, R says %.10g", where, p, want)
		}
		if want := num(t, r["phi"]); !closeTo(bl.Phi, want, 1e-6, 0) {
			t.Errorf("%s: phi %.10g, R says %.10g", where, bl.Phi, want)
		}
		trend := math.NaN()
		if bl.Trend {
			trend = bl.TrendCoef
		}
		if want := num(t, r["trend"]); !closeTo(trend, want, 1e-5, 1e-9) {
			t.Errorf("%s: trend %.10g, R says %.10g", where, trend, want)
		}
		if want := r["alarm"] == "1"; alarm != want {
			t.Errorf("%s: alarm %v, R says %v", where, alarm, want)
		}
	}
	if n < 300 {
		t.Fatalf("only %d Farrington reference rows", n)
	}
}

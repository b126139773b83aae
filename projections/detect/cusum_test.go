package detect

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// refRows groups reference.csv rows by series and method, in t order.
func refRows(t *testing.T, method string) map[string][]map[string]string {
	out := map[string][]map[string]string{}
	for _, r := range readCSV(t, "reference.csv") {
		if r["method"] == method {
			out[r["series"]] = append(out[r["series"]], r)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no reference rows for %s", method)
	}
	return out
}

// TestNBCUSUMMatchesR replays glrnb (theta = log 2, c.ARL = 5, given mu0 and
// alpha) and compares the cases needed to alarm (ret = "cases"), the
// statistic (ret = "value") and the alarms, to 1e-9 relative.
func TestNBCUSUMMatchesR(t *testing.T) {
	c := NBCUSUM{Kappa: math.Ln2, Threshold: 5}
	values := refRows(t, "glrnb.value")
	for name, rows := range refRows(t, "glrnb.cases") {
		stat := 0.0
		alarms := 0
		for i, r := range rows {
			x, mu0, a := num(t, r["observed"]), num(t, r["expected"]), num(t, r["phi"])
			s, cases, alarm := c.Step(stat, x, mu0, a)
			where := name + " t=" + r["t"]
			if want := num(t, r["upper"]); !closeTo(cases, want, 1e-9, 1e-9) {
				t.Errorf("%s: cases %.12g, R says %.12g", where, cases, want)
			}
			if want := num(t, values[name][i]["upper"]); !closeTo(s, want, 1e-9, 1e-9) {
				t.Errorf("%s: statistic %.12g, R says %.12g", where, s, want)
			}
			if want := r["alarm"] == "1"; alarm != want {
				t.Errorf("%s: alarm %v, R says %v", where, alarm, want)
			}
			if alarm {
				alarms++
				s = 0
			}
			stat = s
		}
		if name == "synth.weekly.trend" && alarms == 0 {
			t.Errorf("%s: no alarm; the reference has the current outbreak", name)
		}
	}
}

// TestPoissonCUSUMMatchesR replays algo.cusum (standard, k = 1.04,
// h = 2.26, m = mean of the history) against R's statistic, upper bound and
// alarms.
func TestPoissonCUSUMMatchesR(t *testing.T) {
	c := PoissonCUSUM{}
	c.setDefaults()
	for name, rows := range refRows(t, "cusum") {
		stat := 0.0
		for _, r := range rows {
			x, m := num(t, r["observed"]), num(t, r["expected"])
			s, upper, alarm := c.Step(stat, x, m)
			where := name + " t=" + r["t"]
			if want := num(t, r["stat"]); !closeTo(s, want, 1e-12, 1e-12) {
				t.Errorf("%s: statistic %v, R says %v", where, s, want)
			}
			if want := num(t, r["upper"]); upper != want {
				t.Errorf("%s: upper %v, R says %v", where, upper, want)
			}
			if want := r["alarm"] == "1"; alarm != want {
				t.Errorf("%s: alarm %v, R says %v", where, alarm, want)
			}
			stat = s
		}
	}
}

// TestEARSMatchesR compares C1 and C2 upper bounds and alarms (minSigma 0
// and 1) with earsC.
func TestEARSMatchesR(t *testing.T) {
	series := loadSeries(t)
	for _, m := range []string{"ears.C1.minSigma0", "ears.C1.minSigma1", "ears.C2.minSigma0", "ears.C2.minSigma1"} {
		rule := RuleEARSC1
		if strings.Contains(m, "C2") {
			rule = RuleEARSC2
		}
		minSigma, _ := strconv.ParseFloat(m[len(m)-1:], 64)
		for name, rows := range refRows(t, m) {
			s := series[name]
			for _, r := range rows {
				k, _ := strconv.Atoi(r["t"])
				b, err := earsBaseline(rule, s.counts, k-1, 7, minSigma)
				if err != nil {
					t.Fatal(err)
				}
				_, upper, _ := judgeEARS(b, s.counts[k-1], 1, 0.001)
				where := name + " " + m + " t=" + r["t"]
				want := num(t, r["upper"])
				if math.IsNaN(want) && b.SD == 0 {
					continue // R: mean + z·0 with sd NA for a constant baseline
				}
				if !closeTo(upper, want, 1e-12, 1e-12) {
					t.Errorf("%s: upper %v, R says %v", where, upper, want)
				}
				if alarm := s.counts[k-1] > upper; alarm != (r["alarm"] == "1") {
					t.Errorf("%s: alarm %v, R says %s", where, alarm, r["alarm"])
				}
			}
		}
	}
}

// TestEARSC3 checks plaint's C3 against its own derivation (surveillance's
// C3 differs, see earsC3): C3 = sum of max(0, C2-1) over t-2..t, an alarm
// when C3 > z and the current count is above mean + sd, i.e. above
// mean + sd·(1 + max(0, z - L)).
func TestEARSC3(t *testing.T) {
	base := []float64{4, 6, 4, 6, 4, 6, 4, 6, 4, 6, 4}
	z := normalQuantile(0.975)
	check := func(name string, hist []float64) {
		t.Helper()
		tt := len(hist) - 1
		_, upper, _, err := earsC3(hist, tt, 7, 0, 0.025)
		if err != nil {
			t.Fatal(err)
		}
		bl, _ := earsBaseline(RuleEARSC2, hist, tt, 7, 0)
		lagged := math.Max(0, earsC2Stat(hist, tt-1, 7, 0)-1) + math.Max(0, earsC2Stat(hist, tt-2, 7, 0)-1)
		if want := bl.Expected + bl.SD*(1+math.Max(0, z-lagged)); math.Abs(upper-want) > 1e-12 {
			t.Fatalf("%s: upper %v, want %v", name, upper, want)
		}
		for _, x := range []float64{math.Floor(upper) + 1, math.Ceil(upper) - 1} {
			hist[tt] = x
			stat, _, alarm, _ := earsC3(hist, tt, 7, 0, 0.025)
			c2 := (x - bl.Expected) / bl.SD
			if want := stat > z && c2 > 1; alarm != want || alarm != (x > upper) {
				t.Errorf("%s: count %v (bound %v, C3 %v): alarm %v, want %v", name, x, upper, stat, alarm, want)
			}
		}
	}
	check("quiet history", append(append([]float64{}, base...), 0))
	// Two high periods just before: the lagged terms exceed z, so any count
	// more than one sd above the mean alarms (R would alarm even on 0).
	check("rising history", append(append([]float64{}, base...), 9, 10, 0))
}

package detect

import (
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// TestBenjaminiHochbergMatchesR compares with p.adjust(p, "BH").
func TestBenjaminiHochbergMatchesR(t *testing.T) {
	var p, want []float64
	for _, r := range readCSV(t, "bh.csv") {
		p = append(p, num(t, r["p"]))
		want = append(want, num(t, r["q"]))
	}
	q := BenjaminiHochberg(p)
	for i := range p {
		if !closeTo(q[i], want[i], 1e-12, 1e-15) {
			t.Errorf("q[%d] of p %v = %v, R says %v", i, p[i], q[i], want[i])
		}
	}
	// NaN p-values are not tests: they get NaN and do not count in m.
	q = BenjaminiHochberg([]float64{0.01, math.NaN(), 0.04})
	if !math.IsNaN(q[1]) || q[0] != 0.02 || q[2] != 0.04 {
		t.Errorf("with a NaN: %v, want [0.02 NaN 0.04]", q)
	}
}

func TestConfigValidateJoinsEveryProblem(t *testing.T) {
	c := Config{Q: 2, MinCount: -1, ShortHistory: "magic", EARSBaseline: 2}
	c.setDefaults()
	c.Weekly.NoPeriods = 60
	err := c.Validate()
	if err == nil {
		t.Fatal("invalid config accepted")
	}
	for _, want := range []string{"FDR q 2", "minimum count -1", `short-history rule "magic"`, "EARS baseline 2", "60 seasonal periods"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if _, err := New(Config{Q: 2}); err == nil {
		t.Error("New accepted q = 2")
	}
	d, err := New(Config{})
	if err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	c = d.Config()
	if c.Q != 0.05 || c.MinCount != 5 || c.Weekly.PastExcluded != 26 || c.Monthly.PastExcluded != 6 ||
		c.Weekly.NoPeriods != 10 || c.Weekly.WeightsThreshold != 2.58 || c.ShortHistory != RuleEARSC2 {
		t.Errorf("defaults: %+v", c)
	}
}

func TestElapsed(t *testing.T) {
	mon := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday
	u := UniformShape()
	wedNoon := mon.Add(2*24*time.Hour + 12*time.Hour)
	if got := Elapsed(Week, mon, wedNoon, u); math.Abs(got-2.5/7) > 1e-12 {
		t.Errorf("uniform Wednesday noon: %v, want %v", got, 2.5/7)
	}
	// A shape with no weekend counts: by Friday midnight the week is done.
	work := WeekdayShape{0.2, 0.2, 0.2, 0.2, 0.2, 0, 0}
	if got := Elapsed(Week, mon, mon.AddDate(0, 0, 5), work); math.Abs(got-1) > 1e-12 {
		t.Errorf("workweek by Saturday: %v, want 1", got)
	}
	if got := Elapsed(Week, mon, mon.Add(-time.Hour), u); got != 0 {
		t.Errorf("before the week: %v", got)
	}
	// March 2026 has 31 days; after 10 uniform days: 10/31.
	if got := Elapsed(Month, mon, time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC), u); math.Abs(got-10.0/31) > 1e-12 {
		t.Errorf("month: %v, want %v", got, 10.0/31)
	}
	// The shape estimated from counts only on Mondays leans to Monday.
	daily := make([]float64, 70)
	for i := 0; i < 70; i += 7 {
		daily[i] = 20
	}
	s := EstimateWeekdayShape(daily, mon)
	if sum := s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6]; math.Abs(sum-1) > 1e-12 || s[0] < 0.7 || s[1] <= 0 {
		t.Errorf("estimated shape %v", s)
	}
}

// weekly returns a Poisson-like weekly series (deterministic) of n weeks
// around mean mu, starting on a Monday.
func weekly(key string, n int, mu float64) Series {
	c := make([]float64, n)
	for i := range c {
		c[i] = math.Round(mu * (1 + 0.15*math.Sin(float64(i)*2.1) + 0.1*math.Cos(float64(i)*0.9)))
	}
	return Series{Key: key, Kind: Week, Start: time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC), Counts: c}
}

// TestPartialPeriodIsScaled checks that a partial week is judged against
// the expectation and bound scaled by its exposure, never against a full
// week: half a week at the full weekly level is far above its bound, half a
// week at half the level is not a drop.
func TestPartialPeriodIsScaled(t *testing.T) {
	d, _ := New(Config{Weekly: FarringtonConfig{Threshold: ThresholdNBPlugin}})
	s := weekly("a", 130, 40)
	full := d.Evaluate(s, State{})
	if full.Baseline != RuleFarrington || full.Partial {
		t.Fatalf("full week: %+v", full)
	}
	s.Counts = append(s.Counts[:len(s.Counts)-1:len(s.Counts)-1], 0)
	s.Exposure = 0.5
	s.Counts[len(s.Counts)-1] = math.Round(full.Expected * 0.5)
	half := d.Evaluate(s, State{})
	if !half.Partial || math.Abs(half.Expected-0.5*full.Expected) > 1e-9 {
		t.Fatalf("half week expected %v, want %v", half.Expected, 0.5*full.Expected)
	}
	// The bound is the larger of the scaled Farrington bound and the
	// recent-level bound, itself judged at the half week's exposure.
	if want := math.Max((NegBin{Mu: half.Expected, Phi: half.Phi}).Quantile(0.95), half.RecentUpper); half.Upper != want || half.Exceeds {
		t.Errorf("half week at half the level: upper %v (want %v), exceeds %v", half.Upper, want, half.Exceeds)
	}
	if !(half.RecentUpper < full.RecentUpper) || !(half.RecentUpper < full.Upper) {
		t.Errorf("half week: recent-level bound %v not scaled (full week's %v, full bound %v)", half.RecentUpper, full.RecentUpper, full.Upper)
	}
	s.Counts[len(s.Counts)-1] = math.Round(full.Expected * 1.1)
	if e := d.Evaluate(s, State{}); !e.Exceeds {
		t.Errorf("half week at the full level not above its bound: %+v", e)
	}
}

// TestDecide checks the FDR correction, the minimum count and the rule.
func TestDecide(t *testing.T) {
	d, _ := New(Config{})
	mk := func(obs, p float64) Evaluation {
		return Evaluation{Observed: obs, Expected: 2, Upper: 4, PValue: p, Exceeds: obs > 4, EnoughCases: true,
			Baseline: RuleFarrington, Severity: (obs - 4) / 2}
	}
	evals := []Evaluation{mk(30, 0.001), mk(12, 0.02), mk(9, 0.3), mk(9, 0.4), mk(3, 0.0001)}
	evals[4].Exceeds = true
	d.Decide(evals)
	if !evals[0].Alarm || evals[0].Rule != RuleFarrington || evals[0].Level != 10 {
		t.Errorf("strong signal: %+v", evals[0])
	}
	// p = 0.02 is the 3rd smallest of 5: q = 5/3·0.02 = 0.033 <= 0.05.
	if !evals[1].Alarm || math.Abs(evals[1].QValue-0.02*5/3) > 1e-12 {
		t.Errorf("second: alarm %v q %v", evals[1].Alarm, evals[1].QValue)
	}
	if evals[2].Alarm || !strings.Contains(evals[2].Reason, "q-value") {
		t.Errorf("not significant after FDR: %+v", evals[2])
	}
	if evals[4].Alarm || !strings.Contains(evals[4].Reason, "minimum") {
		t.Errorf("3 complaints made an alert: %+v", evals[4])
	}
	cusum := Evaluation{Observed: 8, Expected: 5, Upper: 10, PValue: 0.2, CUSUMAlarm: true, EnoughCases: true, Baseline: RuleFarrington}
	ev := []Evaluation{cusum}
	d.Decide(ev)
	if !ev[0].Alarm || ev[0].Rule != RuleNBCUSUM {
		t.Errorf("CUSUM alarm: %+v", ev[0])
	}
}

// TestShortHistoryFallsBackToEARS checks the rule named for a young series.
func TestShortHistoryFallsBackToEARS(t *testing.T) {
	d, _ := New(Config{})
	s := weekly("young", 30, 10)
	s.Counts[29] = 40
	e := d.Evaluate(s, State{})
	if e.Baseline != RuleEARSC2 || !e.Exceeds {
		t.Fatalf("young series: %+v", e)
	}
	evs := []Evaluation{e}
	d.Decide(evs)
	if !evs[0].Alarm || evs[0].Rule != RuleEARSC2 {
		t.Errorf("young series spike: %+v", evs[0])
	}
	_, err := d.Baseline(weekly("newborn", 5, 10), 4)
	if !errors.Is(err, ErrShortHistory) {
		t.Errorf("five weeks: %v, want ErrShortHistory", err)
	}
}

// TestBacktestIsDeterministic runs the same series twice and checks the
// evaluations are identical, and that an injected doubling is caught.
func TestBacktestIsDeterministic(t *testing.T) {
	d, _ := New(Config{})
	var ss []Series
	for i, mu := range []float64{8, 25, 60} {
		s := weekly(string(rune('a'+i)), 140, mu)
		ss = append(ss, s)
	}
	for w := 130; w < 136; w++ {
		ss[1].Counts[w] *= 2
	}
	a, err := d.Backtest(ss)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := d.Backtest(ss)
	caught := false
	for w := range a {
		for i := range a[w] {
			x, y := a[w][i], b[w][i]
			if x.Alarm != y.Alarm || x.Upper != y.Upper && !(math.IsNaN(x.Upper) && math.IsNaN(y.Upper)) || x.CUSUM != y.CUSUM {
				t.Fatalf("week %d series %d differs between runs", w, i)
			}
			if i == 1 && w >= 130 && w < 136 && x.Alarm {
				caught = true
			}
		}
	}
	if !caught {
		t.Error("a doubling for six weeks was not caught")
	}
}

// TestPredictiveThreshold checks that the predictive bound is the plug-in
// bound when the standard error vanishes and wider when it does not, and
// that its p-value is larger for a high count.
func TestPredictiveThreshold(t *testing.T) {
	b := Baseline{Method: RuleFarrington, Expected: 120, Phi: 2.5}
	_, up0, p0 := judgeNB(b, 170, 1, 0.05)
	_, upZero, pZero := (&quantileMemo{}).judgePredictive(b, 170, 1, 0.05)
	if upZero != up0 || pZero != p0 {
		t.Errorf("se 0: predictive %v %v, plug-in %v %v", upZero, pZero, up0, p0)
	}
	b.SELink = 0.1
	_, up, p := (&quantileMemo{}).judgePredictive(b, 170, 1, 0.05)
	if !(up > up0) || !(p > p0) {
		t.Errorf("se 0.1: bound %v (plug-in %v), p %v (plug-in %v)", up, up0, p, p0)
	}
	// The predictive CDF at its bound is at least 0.95, one below is not.
	d := predictiveNB{mu: 120, phi: 2.5, se: 0.1}
	if d.cdf(up) < 0.95 || d.cdf(up-1) >= 0.95 {
		t.Errorf("bound %v: cdf %v, below %v", up, d.cdf(up), d.cdf(up-1))
	}
	// Mixture survival + CDF(y-1) = 1.
	if s := d.survival(150) + d.cdf(149); math.Abs(s-1) > 1e-12 {
		t.Errorf("survival + cdf = %v", s)
	}
}

// TestRecentLevelConfirms checks the intersection–union rule: a series that
// grew fast has a Farrington baseline (a year old, trend extrapolated) below
// its recent level; a week at the recent level exceeds Farrington's bound but
// not the recent one and is not an alarm, and its p-value is the larger of
// the two. A real spike exceeds both.
func TestRecentLevelConfirms(t *testing.T) {
	c := make([]float64, 140)
	for i := range c {
		c[i] = 20
		if i >= 116 {
			c[i] = 45 + float64(i%3) // a step up after the Farrington baseline ends
		}
	}
	s := Series{Key: "step", Kind: Week, Start: time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC), Counts: c}
	d, _ := New(Config{})
	e := d.Evaluate(s, State{})
	if e.Baseline != RuleFarrington || math.IsNaN(e.RecentUpper) {
		t.Fatalf("evaluation %+v", e)
	}
	far, _ := d.Baseline(s, len(c)-1)
	_, farUpper, farP := (&quantileMemo{}).judgePredictive(far, e.Observed, 1, 0.05)
	if !(e.Observed > farUpper) || e.Exceeds || e.PValue != math.Max(farP, e.RecentPValue) || e.Upper != math.Max(farUpper, e.RecentUpper) {
		t.Errorf("count %v at the recent level: Farrington bound %v, recent %v, exceeds %v, p %v", e.Observed, farUpper, e.RecentUpper, e.Exceeds, e.PValue)
	}
	s.Counts[len(c)-1] = 90
	if e := d.Evaluate(s, State{}); !e.Exceeds || !(e.PValue < 1e-3) {
		t.Errorf("spike to 90: exceeds %v p %v", e.Exceeds, e.PValue)
	}
	d2, _ := New(Config{NoRecentCheck: true})
	s.Counts[len(c)-1] = 46
	if e := d2.Evaluate(s, State{}); !e.Exceeds || !math.IsNaN(e.RecentUpper) {
		t.Errorf("without the recent check the step alarms: %+v", e)
	}
}

// TestMonthlyPartialPeriod evaluates a monthly series (the monthly
// Farrington analogue: w = 1, the last 6 months excluded) in the middle of
// its current month: the expectation is the full month's times the elapsed,
// weekday-weighted share, and a partial count at the monthly pace alarms
// only when it is high for the share of the month gone.
func TestMonthlyPartialPeriod(t *testing.T) {
	n := 40
	c := make([]float64, n)
	for i := range c {
		c[i] = math.Round(200 * (1 + 0.2*math.Sin(2*math.Pi*float64(i)/12)) * (1 + 0.03*math.Cos(float64(i)*1.7)))
	}
	start := time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Series{Key: "m", Kind: Month, Start: start, Counts: c}
	d, _ := New(Config{})
	full := d.Evaluate(s, State{})
	if full.Baseline != RuleFarrington || full.YearsBack != 3 || !full.PeriodStart.Equal(start.AddDate(0, n-1, 0)) {
		t.Fatalf("full month: %+v", full)
	}
	month := full.PeriodStart
	e := Elapsed(Month, month, month.AddDate(0, 0, 10), UniformShape())
	s.Exposure = e
	s.Counts[n-1] = math.Round(full.Expected * e)
	half := d.Evaluate(s, State{})
	if !half.Partial || math.Abs(half.Expected-full.Expected*e) > 1e-9 || half.Exceeds {
		t.Errorf("ten days at the usual pace: %+v (full expected %v, exposure %v)", half, full.Expected, e)
	}
	s.Counts[n-1] = math.Round(full.Expected * e * 2)
	if high := d.Evaluate(s, State{}); !high.Exceeds {
		t.Errorf("ten days at twice the pace not above the bound: %+v", high)
	}
}

// TestShortHistoryRules runs each configurable short-history rule through
// Evaluate and Decide on a young series with a spike and checks the rule
// the alert names.
func TestShortHistoryRules(t *testing.T) {
	for _, rule := range []Rule{RuleEARSC1, RuleEARSC2, RuleEARSC3, RulePoissonCUSUM} {
		d, err := New(Config{ShortHistory: rule})
		if err != nil {
			t.Fatal(err)
		}
		s := weekly("young", 40, 10)
		var st State
		var last Evaluation
		for n := 20; n <= 40; n++ {
			view := s
			view.Counts = append([]float64(nil), s.Counts[:n]...)
			if n >= 38 {
				view.Counts[n-1] = 45
			}
			evs := []Evaluation{d.Evaluate(view, st)}
			d.Decide(evs)
			last = evs[0]
			st = st.Next(last)
			if n < 38 && last.Alarm {
				t.Errorf("%s: alarm on a quiet week %d: %+v", rule, n, last)
			}
		}
		if !last.Alarm || last.Rule != rule || last.Baseline != rule {
			t.Errorf("%s: spike: alarm %v rule %q baseline %q (%s)", rule, last.Alarm, last.Rule, last.Baseline, last.Reason)
		}
	}
}

// TestDegenerateSeries: a series of zeros fits (no alarm on a zero), and a
// first burst of complaints after long silence alarms.
func TestDegenerateSeries(t *testing.T) {
	d, _ := New(Config{})
	s := Series{Key: "quiet", Kind: Week, Start: time.Date(2022, 1, 3, 0, 0, 0, 0, time.UTC), Counts: make([]float64, 140)}
	e := d.Evaluate(s, State{})
	if e.Baseline != RuleFarrington || e.Exceeds || math.IsNaN(e.PValue) || e.Expected > 1e-3 {
		t.Fatalf("all zeros: %+v", e)
	}
	s.Counts[139] = 9
	evs := []Evaluation{d.Evaluate(s, State{})}
	d.Decide(evs)
	if !evs[0].Alarm || evs[0].Rule != RuleFarrington {
		t.Errorf("9 complaints after silence: %+v", evs[0])
	}
	s.Counts[139] = 3
	evs = []Evaluation{d.Evaluate(s, State{})}
	d.Decide(evs)
	if evs[0].Alarm {
		t.Errorf("3 complaints after silence made an alert: %+v", evs[0])
	}
}

// TestDegeneratePredictiveHasNoFiniteBound checks that a baseline whose
// log mean has an enormous standard error (a fit on zeros) gives an
// infinite bound at once instead of searching for ever.
func TestDegeneratePredictiveHasNoFiniteBound(t *testing.T) {
	b := Baseline{Method: RuleFarrington, Expected: 2e-9, Phi: 1, SELink: 2149}
	done := make(chan float64, 1)
	go func() { _, up, _ := (&quantileMemo{}).judgePredictive(b, 3, 1, 0.05); done <- up }()
	select {
	case up := <-done:
		if !math.IsInf(up, 1) {
			t.Fatalf("upper %v, want +Inf", up)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the quantile search did not end")
	}
}

// TestMonthsOfTheSecondYearAreJudged evaluates every month of a series'
// second year: each gets a baseline (the short-history rule until the
// monthly Farrington has two years), never "fit failed", and a month at
// three times the usual level alarms.
func TestMonthsOfTheSecondYearAreJudged(t *testing.T) {
	c := make([]float64, 24)
	for i := range c {
		c[i] = math.Round(100 * (1 + 0.2*math.Sin(2*math.Pi*float64(i)/12)))
	}
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	for n := 13; n <= 24; n++ {
		s := Series{Key: "m", Kind: Month, Start: start, Counts: append([]float64(nil), c[:n]...)}
		e := d.Evaluate(s, State{})
		if math.IsNaN(e.Expected) || math.IsNaN(e.Upper) || e.Baseline == RuleFarrington {
			t.Fatalf("month %d of the history: no short-history baseline: %+v", n, e)
		}
		s.Counts[n-1] = 3 * s.Counts[n-1]
		if high := d.Evaluate(s, State{}); !high.Exceeds {
			t.Errorf("month %d at three times the level: not above the bound: %+v", n, high)
		}
	}
	// Two years plus the half window (one month) back: Farrington.
	s := Series{Key: "m", Kind: Month, Start: start, Counts: append(append([]float64(nil), c...), c[0], c[1])}
	if e := d.Evaluate(s, State{}); e.Baseline != RuleFarrington || math.IsNaN(e.Upper) {
		t.Errorf("month 26: want the Farrington baseline: %+v", e)
	}
}

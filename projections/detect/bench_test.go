package detect

import (
	"testing"
)

// BenchmarkEvaluateWeekly is the cost of judging one series' current week
// with three years of weekly history (one Farrington fit with reweighting,
// the recent-level check and the CUSUM step): the unit a backtest or a live
// advance pays per series and period.
func BenchmarkEvaluateWeekly(b *testing.B) {
	d, _ := New(Config{})
	s := weekly("bench", 156, 40)
	b.ReportAllocs()
	for b.Loop() {
		e := d.Evaluate(s, State{})
		if e.Baseline != RuleFarrington {
			b.Fatalf("baseline %s", e.Baseline)
		}
	}
}

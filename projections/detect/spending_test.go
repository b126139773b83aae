package detect

import (
	"math"
	"testing"
)

func TestSpendingLevels(t *testing.T) {
	const q = 0.05
	if got := SpendingLinear.level(q, 0.4); math.Abs(got-0.02) > 1e-12 {
		t.Errorf("linear at 0.4: %v, want 0.02", got)
	}
	// Lan–DeMets O'Brien–Fleming: 2(1 − Φ(1.959964/√e)); at e = 0.5,
	// 2(1 − Φ(2.771808)) = 0.005574.
	if got := SpendingOBrienFleming.level(q, 0.5); math.Abs(got-0.005574) > 1e-5 {
		t.Errorf("O'Brien–Fleming at 0.5: %v, want 0.005574", got)
	}
	prev := 0.0
	for _, e := range []float64{0.1, 0.3, 0.6, 0.9, 0.999} {
		l := SpendingOBrienFleming.level(q, e)
		if !(l > prev && l < q*e) {
			t.Errorf("O'Brien–Fleming at %v: %v, want above %v and below the linear %v", e, l, prev, q*e)
		}
		prev = l
	}
	for _, s := range []Spending{SpendingLinear, SpendingOBrienFleming} {
		if s.level(q, 1) != q || s.level(q, 0) != 0 {
			t.Errorf("%s: complete period %v, empty %v", s, s.level(q, 1), s.level(q, 0))
		}
	}
	if _, err := New(Config{Spending: "pocock"}); err == nil {
		t.Error("an unknown spending was accepted")
	}
	// A partial period just above its bound alarms under the linear level
	// and not under O'Brien–Fleming's.
	e := Evaluation{Partial: true, Exposure: 0.3, Exceeds: true, Observed: 20, Expected: 5, Upper: 10, PValue: 0.01, EnoughCases: true}
	for s, want := range map[Spending]bool{SpendingLinear: true, SpendingOBrienFleming: false} {
		d, _ := New(Config{Spending: s})
		evals := []Evaluation{e}
		d.Decide(evals)
		if evals[0].Alarm != want {
			t.Errorf("%s: alarm %v, want %v (%s)", s, evals[0].Alarm, want, evals[0].Reason)
		}
	}
}

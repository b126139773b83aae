package detect

import (
	"math"
	"testing"
)

// TestWindowLookSeesTwoWeeks checks the window look: two weeks each a
// little above their level, neither alarming alone, alarm together as
// farrington-window, with the window's count, expectation and start; a
// quiet pair of weeks does not; and a window with a period that has no
// Farrington baseline is not tested.
func TestWindowLookSeesTwoWeeks(t *testing.T) {
	d, _ := New(Config{})
	s := weekly("a", 140, 12)
	t0 := len(s.Counts) - 1
	bases := make([]Baseline, 2)
	for i := range bases {
		b, err := d.Baseline(s, t0-1+i)
		if err != nil || b.Method != RuleFarrington {
			t.Fatalf("baseline of week %d: %+v, %v", t0-1+i, b, err)
		}
		bases[i] = b
	}
	quiet := d.JudgeWindow(s, t0, bases, State{})
	if quiet.Window != 2 || quiet.Exceeds || math.IsNaN(quiet.PValue) ||
		quiet.Observed != s.Counts[t0-1]+s.Counts[t0] ||
		math.Abs(quiet.Expected-bases[0].Expected-bases[1].Expected) > 1e-9 ||
		!quiet.WindowStart.Equal(s.periodStart(t0-1)) || !quiet.PeriodStart.Equal(s.periodStart(t0)) {
		t.Fatalf("quiet window: %+v", quiet)
	}
	// Each week at 1.45 times its expectation: under each week's own bound
	// at this level, over the window's.
	for i, b := range bases {
		s.Counts[t0-1+i] = math.Round(1.45 * b.Expected)
	}
	week := d.Judge(s, t0, bases[1], nil, State{})
	win := d.JudgeWindow(s, t0, bases, State{})
	evs := []Evaluation{week, win}
	d.Decide(evs)
	if evs[0].Alarm {
		t.Fatalf("the week alone alarmed (the test wants a rise only the window shows): %+v", evs[0])
	}
	if !evs[1].Alarm || evs[1].Rule != RuleFarringtonWindow || evs[1].Baseline != RuleFarrington {
		t.Errorf("window of two raised weeks: alarm %v rule %q (%s) p %v upper %v observed %v",
			evs[1].Alarm, evs[1].Rule, evs[1].Reason, evs[1].PValue, evs[1].Upper, evs[1].Observed)
	}
	if p := Pick(evs[0], evs[1]); p.Rule != RuleFarringtonWindow {
		t.Errorf("Pick kept the week's judgement over the window's alarm: %+v", p)
	}
	// A running week is judged with its exposure: half of it scales the
	// last week's part of the expectation only.
	s.Exposure = 0.5
	half := d.JudgeWindow(s, t0, bases, State{})
	if !half.Partial || math.Abs(half.Expected-bases[0].Expected-0.5*bases[1].Expected) > 1e-9 {
		t.Errorf("half week: expected %v, want %v", half.Expected, bases[0].Expected+0.5*bases[1].Expected)
	}
	// No Farrington baseline for the first week: not tested.
	none := d.JudgeWindow(s, t0, []Baseline{{}, bases[1]}, State{})
	if !math.IsNaN(none.PValue) || none.Exceeds || none.Reason == "" {
		t.Errorf("window without a baseline: %+v", none)
	}
}

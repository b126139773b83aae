package watermill

import (
	"context"
	"slices"
	"testing"

	wm "github.com/ThreeDotsLabs/watermill"
)

// TestTheLadderClimbsOneRungEveryEveryMisses: with Every 3, misses 3, 6
// and 9 in a row inspect, step down and reconnect, 12 inspects again; a
// rung without its function is skipped, and every miss is counted.
func TestTheLadderClimbsOneRungEveryEveryMisses(t *testing.T) {
	ctx, cons := testIngestConsumer(t)
	var steps, calls []string
	missed := 0
	heal := Healing{
		StepDown:  func(context.Context) error { calls = append(calls, HealStepDown); return nil },
		Reconnect: func() error { calls = append(calls, HealReconnect); return nil },
		Missed:    func() { missed++ },
		Step:      func(s string) { steps = append(steps, s) },
	}
	heal.setDefaults()
	s := &Subscriber{cfg: SubscriberConfig{Heal: heal, Logger: wm.NopLogger{}}}
	h := s.healer("t", cons)
	for m := 1; m <= 13; m++ {
		h(ctx, m)
	}
	if want := []string{HealInspect, HealStepDown, HealReconnect, HealInspect}; !slices.Equal(steps, want) {
		t.Errorf("rungs %v, want %v", steps, want)
	}
	if want := []string{HealStepDown, HealReconnect}; !slices.Equal(calls, want) {
		t.Errorf("calls %v, want %v", calls, want)
	}
	if missed != 13 {
		t.Errorf("%d misses counted, want 13", missed)
	}

	steps = nil
	s.cfg.Heal.StepDown, s.cfg.Heal.Reconnect = nil, nil
	h = s.healer("t", cons)
	for m := 1; m <= 9; m++ {
		h(ctx, m)
	}
	if want := []string{HealInspect}; !slices.Equal(steps, want) {
		t.Errorf("without StepDown and Reconnect: rungs %v, want %v", steps, want)
	}
}

package problems

import (
	"errors"
	"testing"
)

func TestJoinWrapsTheSentinelAndEveryProblem(t *testing.T) {
	sentinel, a, b := errors.New("invalid settings"), errors.New("a is required"), errors.New("b is negative")
	if err := Join(sentinel, nil); err != nil {
		t.Fatalf("no problems: %v, want nil", err)
	}
	err := Join(sentinel, []error{a, b})
	for _, want := range []error{sentinel, a, b} {
		if !errors.Is(err, want) {
			t.Errorf("%v does not wrap %v", err, want)
		}
	}
	if got := err.Error(); got != "invalid settings: a is required\nb is negative" {
		t.Errorf("text %q", got)
	}
}

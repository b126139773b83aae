package synthetic_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/synthetic"
	"github.com/plaint/plaint/domain"
)

// TestInjectionMultipliesItsComplaintsOnly checks that an injected rise
// multiplies the complaints of its category and segment in its window by
// about its factor, and leaves every other event as the same seed gives it
// without the injection.
func TestInjectionMultipliesItsComplaintsOnly(t *testing.T) {
	in, err := synthetic.ParseInjection("category=billing,segment=consumer,from=2026-03-02,factor=3,weeks=6")
	if err != nil {
		t.Fatal(err)
	}
	if in.End() != time.Date(2026, 4, 13, 0, 0, 0, 0, time.UTC) || in.Factor != 3 || in.Segment != "consumer" {
		t.Fatalf("parsed %+v", in)
	}
	gen := func(inj ...synthetic.Injection) (base map[string]domain.Event, inWindow int) {
		base = map[string]domain.Event{}
		_, err := synthetic.Generate(context.Background(), synthetic.Config{Customers: 3000, Months: 12, Seed: 4, End: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), Inject: inj},
			func(ev *domain.Event) error {
				if ev.Type == domain.TypeComplaintFiled && ev.Data.Category == "billing" && ev.Data.Segment == "consumer" && !ev.Time.Before(in.From) && ev.Time.Before(in.End()) {
					inWindow++
				}
				if !strings.Contains(ev.ID, "-x") {
					base[ev.Source+"/"+ev.ID] = *ev
				}
				return nil
			})
		if err != nil {
			t.Fatal(err)
		}
		return base, inWindow
	}
	plain, n0 := gen()
	injected, n1 := gen(in)
	if n0 < 30 {
		t.Fatalf("only %d complaints in the window: too few to tell", n0)
	}
	if r := float64(n1) / float64(n0); r < 2.6 || r > 3.4 {
		t.Fatalf("%d complaints in the window with the injection, %d without: ×%.2f, want about 3", n1, n0, r)
	}
	if len(plain) != len(injected) {
		t.Fatalf("%d events without the injection, %d (its copies aside) with it", len(plain), len(injected))
	}
	for k, ev := range plain {
		if got := injected[k]; got.Time != ev.Time || got.Data != ev.Data {
			t.Fatalf("event %s changed by the injection", k)
		}
	}
	for _, bad := range []string{"category=nope,from=2026-03-02", "category=billing", "category=billing,from=2026-03-02,factor=0.5", "category=billing,from=x", "colour=red"} {
		if _, err := synthetic.ParseInjection(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

package alerts_test

import (
	"context"
	"math"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/alerts"
	"github.com/plaint/plaint/projections/detect"
)

// TestReadBandIsTheDetectorsJudgement: the band has a point a period, with
// an expected count near the quiet periods' counts once there is history,
// and at the period of each alert raised on a complete period the very
// expected count and bound the alert carries; its markers are the
// series' alert events.
func TestReadBandIsTheDetectorsJudgement(t *testing.T) {
	evs := history(1, testStart, 3*365, testCats[:4], testRise)
	e, def := openDetector(t, openLog(t, evs))
	all := ensureAndRead(t, e, def)
	ctx := context.Background()
	for _, kind := range []detect.PeriodKind{detect.Month, detect.Week} {
		b, err := alerts.ReadBand(ctx, e, alerts.BandQuery{Category: testRise.cat, Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		want := 37 // October 2023 to September 2026, the last one running
		if kind == detect.Week {
			want = 157
		}
		if len(b.Points) < want-1 || len(b.Points) > want {
			t.Fatalf("%s: %d points, want about %d", kind, len(b.Points), want)
		}
		byStart := map[string]alerts.BandPoint{}
		var ratio float64
		var n, banded int
		for i, p := range b.Points {
			byStart[p.PeriodStart] = p
			if p.Partial && (i != len(b.Points)-1 || !(p.Exposure > 0 && p.Exposure < 1)) {
				t.Errorf("%s point %d (%s): partial, exposure %v", kind, i, p.PeriodStart, p.Exposure)
			}
			if nan := math.IsNaN(float64(p.Expected)); nan != (p.Reason != "") || !nan && !(p.Upper >= p.Expected) {
				t.Errorf("%s %s: %+v", kind, p.PeriodStart, p)
			}
			if i >= len(b.Points)/2 && p.Reason == "" {
				banded++
			}
			if !math.IsNaN(float64(p.Expected)) && !p.Partial && p.Observed > 0 {
				ratio += p.Observed / float64(p.Expected)
				n++
			}
		}
		if banded < len(b.Points)/8 { // some: Farrington's fit can fail (rank deficient) on a short history
			t.Errorf("%s: %d of the last %d periods have a band", kind, banded, len(b.Points)-len(b.Points)/2)
		}
		if m := ratio / float64(n); m < 0.8 || m > 1.25 {
			t.Errorf("%s: observed/expected averages %.2f", kind, m)
		}
		markers, windows := 0, 0
		for _, ev := range all {
			a := ev.Data
			if a.Period != kind.String() || len(a.Series) != 1 || a.Series["category"] != testRise.cat || ev.Type == alerts.TypeCleared {
				continue
			}
			markers++
			p, ok := byStart[a.PeriodStart]
			if !ok {
				t.Errorf("%s: alert %s on %s has no point", kind, ev.ID, a.PeriodStart)
				continue
			}
			if a.WindowStart != "" {
				// A window look's figures are its window's: the marker
				// stands on the period's own count within it.
				windows++
				var ba alerts.BandAlert // the markers follow the events
				if markers <= len(b.Alerts) {
					ba = b.Alerts[markers-1]
				}
				before, ok := byStart[a.WindowStart]
				if !ok || ba.AlertID != a.AlertID || ba.WindowStart != a.WindowStart || ba.Rule != a.Rule || ba.Observed != a.Observed-before.Observed {
					t.Errorf("%s %s: window alert of %v (window from %s, rule %s), marker %+v, the window's first period %+v",
						kind, a.PeriodStart, a.Observed, a.WindowStart, a.Rule, ba, before)
				}
				if !a.Partial && ba.Observed != p.Observed {
					t.Errorf("%s %s: window alert's marker at %v, the period's count %v", kind, a.PeriodStart, ba.Observed, p.Observed)
				}
				continue
			}
			if !a.Partial && (math.Abs(float64(p.Expected-a.Expected)) > 1e-6 || math.Abs(float64(p.Upper-a.Upper)) > 1e-6) {
				t.Errorf("%s %s: band %v..%v, the alert says %v..%v", kind, a.PeriodStart, p.Expected, p.Upper, a.Expected, a.Upper)
			}
		}
		t.Logf("%s: %d markers, %d of window looks", kind, markers, windows)
		if markers == 0 || len(b.Alerts) != markers {
			t.Errorf("%s: %d markers, the detector raised or updated %d", kind, len(b.Alerts), markers)
		}
	}
	// From and To bound the periods; a drill-down series has its own band.
	b, err := alerts.ReadBand(ctx, e, alerts.BandQuery{Category: "billing", Segment: "smb", Kind: detect.Month,
		From: testStart.AddDate(1, 0, 0), To: testStart.AddDate(1, 11, 0)})
	if err != nil || len(b.Points) != 12 || b.Points[0].PeriodStart != "2024-10-01" || b.Series["segment"] != "smb" {
		t.Fatalf("billing smb over a year: %v %+v", err, b)
	}
	if _, err := alerts.ReadBand(ctx, e, alerts.BandQuery{Category: "billing", Segment: "smb", Channel: "phone", Kind: detect.Month}); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("segment and channel: %v", err)
	}
	if b, err := alerts.ReadBand(ctx, e, alerts.BandQuery{Category: "nothing", Kind: detect.Month}); err != nil || len(b.Points) != 0 {
		t.Errorf("a category without complaints: %v %+v", err, b)
	}
}

package harness

import (
	"math"
	"reflect"
	"testing"

	"github.com/plaint/plaint/projections/detect"
)

func TestGenerateIsDeterministicAndLabelled(t *testing.T) {
	a, err := Generate(CorpusConfig{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Generate(CorpusConfig{Seed: 3})
	if !reflect.DeepEqual(a, b) {
		t.Fatal("the same seed gave different corpora")
	}
	other, _ := Generate(CorpusConfig{Seed: 4})
	if reflect.DeepEqual(a.Daily[0], other.Daily[0]) {
		t.Fatal("different seeds gave the same counts")
	}
	if len(a.Daily) < 50 || a.Days < 3*365 || len(a.Rises) < 20 {
		t.Fatalf("corpus too small: %s", a)
	}
	var small, big bool
	factors := map[float64]bool{}
	for _, s := range a.Series {
		small = small || s.Level < 1
		big = big || s.Level > 20
	}
	for _, r := range a.Rises {
		factors[r.Factor] = true
		if r.Days < 21 || r.Onset+r.Days > a.Days {
			t.Errorf("rise %+v out of range", r)
		}
		// The injected weeks are visibly higher than the weeks before.
		before, during := 0.0, 0.0
		for d := r.Onset - r.Days; d < r.Onset; d++ {
			before += a.Daily[r.Series][max(d, 0)]
		}
		for d := r.Onset; d < r.Onset+r.Days; d++ {
			during += a.Daily[r.Series][d]
		}
		if a.Series[r.Series].Level > 5 && during < 1.2*before {
			t.Errorf("rise %+v: %v during vs %v before", r, during, before)
		}
	}
	if !small || !big || len(factors) != 4 {
		t.Errorf("levels small %v big %v, factors %v", small, big, factors)
	}
	// Weekly seasonality: weekends are quieter than weekdays.
	var wk [7]float64
	for s := range a.Daily {
		for d, v := range a.Daily[s] {
			wk[d%7] += v
		}
	}
	if !(wk[6] < 0.7*wk[1]) {
		t.Errorf("weekday totals %v: no weekly shape", wk)
	}
}

func TestScoreAlerts(t *testing.T) {
	c := &Corpus{Days: 400, Daily: make([][]float64, 3), Series: make([]SeriesTruth, 3),
		Rises: []Rise{{Series: 0, Onset: 100, Days: 28, Factor: 2}, {Series: 1, Onset: 200, Days: 21, Factor: 1.5}}}
	c.Series[0].Level, c.Series[1].Level = 3, 0.5
	alerts := []Alert{
		{Series: 0, Day: 109}, // detects rise 0 after 10 days
		{Series: 0, Day: 130}, // still within rise 0 + grace: true positive
		{Series: 1, Day: 240}, // after rise 1 + grace: a false alarm, rise 1 missed
		{Series: 2, Day: 50},  // false alarm
	}
	s := ScoreAlerts(c, "m", alerts, ScoreConfig{})
	if s.Alerts != 4 || s.TruePositives != 2 || s.FalseAlarms != 2 || s.Precision() != 0.5 {
		t.Fatalf("score %+v", s)
	}
	b := s.Band100()
	if b.Rises != 1 || b.DetectedWithin != 1 || b.Delays[0] != 10 || len(s.Misses) != 1 || s.Misses[0].Series != 1 {
		t.Errorf("bands %+v misses %+v", s.Bands, s.Misses)
	}
	quiet := float64(3*400-(28+7)-(21+7)) / (365.25 / 12)
	if math.Abs(s.QuietSeriesMonths-quiet) > 1e-9 || math.Abs(s.FalseAlarmRate()-200/quiet) > 1e-9 {
		t.Errorf("quiet months %v (want %v), rate %v", s.QuietSeriesMonths, quiet, s.FalseAlarmRate())
	}
	if s.Level100.Rises != 1 || s.Level100.DetectedWithin != 1 {
		t.Errorf("level band %+v", s.Level100)
	}
}

// TestPlaintBeatsVendorRules is the regression guard of the evaluation: on a
// smaller corpus (30 series, 36 months, 16 rises) plaint's defaults must keep
// their false alarms low and far below both vendor rules', while still
// catching most rises of +100% or more (they score 2.65 false alarms, 0.92
// and 0.83 within 14 days). Thresholds sit below what the
// current method scores, so a change that degrades it fails here.
func TestPlaintBeatsVendorRules(t *testing.T) {
	c, err := Generate(CorpusConfig{Seed: 11, Series: 30, Rises: 16})
	if err != nil {
		t.Fatal(err)
	}
	scores := map[string]Score{}
	for _, m := range []Method{PlaintDaily(detect.Config{}), Thematic(), Chattermill()} {
		alerts, err := m.Run(c)
		if err != nil {
			t.Fatal(err)
		}
		scores[m.Name] = ScoreAlerts(c, m.Name, alerts, ScoreConfig{})
	}
	var list []Score
	for _, s := range scores {
		list = append(list, s)
	}
	t.Logf("\n%s", Table(list, 14))
	p := scores[PlaintDaily(detect.Config{}).Name]
	if fa := p.FalseAlarmRate(); fa > 3 {
		t.Errorf("plaint: %.2f false alarms per 100 series-months, want <= 3", fa)
	}
	for _, v := range []Method{Thematic(), Chattermill()} {
		if fa, vfa := p.FalseAlarmRate(), scores[v.Name].FalseAlarmRate(); fa > vfa/6 {
			t.Errorf("plaint %.2f false alarms vs %s %.2f: want 6x fewer", fa, v.Name, vfa)
		}
	}
	if r := p.Band100().Recall(); r < 0.85 {
		t.Errorf("plaint recall of +100%% rises %.2f, want >= 0.85", r)
	}
	if r := p.Band100().RecallWithin(); r < 0.75 {
		t.Errorf("plaint recall of +100%% rises within 14 days %.2f, want >= 0.75", r)
	}
}

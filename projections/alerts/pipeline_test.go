package alerts_test

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/alerts"
	"github.com/plaint/plaint/projections/detect"
	"github.com/plaint/plaint/projections/detect/harness"
)

// corpusEvents turns a harness corpus into complaints in event-time order:
// series s is the category "s<s>", each day's complaints spread evenly
// over the day.
func corpusEvents(c *harness.Corpus) []domain.Event {
	total := 0.0
	for _, d := range c.Daily {
		for _, v := range d {
			total += v
		}
	}
	evs := make([]domain.Event, 0, int(total))
	var day []domain.Event
	n := 0
	for d := 0; d < c.Days; d++ {
		day = day[:0]
		start := c.Start.AddDate(0, 0, d)
		for s := range c.Daily {
			k := int(c.Daily[s][d])
			for i := 0; i < k; i++ {
				n++
				at := start.Add(time.Duration((float64(i) + 0.5) / float64(k) * float64(24*time.Hour))).Truncate(time.Second)
				day = append(day, domain.Event{ID: "e" + strconv.Itoa(n), Source: "corpus", Type: domain.TypeComplaintFiled, Time: at, Schema: domain.CurrentSchema,
					Data: domain.Data{CustomerID: "C-" + strconv.Itoa(n%5000), Category: c.Series[s].Key}})
			}
		}
		sort.SliceStable(day, func(i, j int) bool { return day[i].Time.Before(day[j].Time) })
		evs = append(evs, day...)
	}
	return evs
}

// pipelineAlerts are the alert.raised events of category series of kind
// (week, month, or "" for both), as harness alerts: the day index is the
// day whose end (or whose complaint) raised it.
func pipelineAlerts(c *harness.Corpus, evs []alerts.Event, kind string) []harness.Alert {
	index := map[string]int{}
	for i, s := range c.Series {
		index[s.Key] = i
	}
	var out []harness.Alert
	for _, ev := range evs {
		if ev.Type != alerts.TypeRaised || len(ev.Data.Series) != 1 || kind != "" && ev.Data.Period != kind {
			continue
		}
		since := ev.Time.Sub(c.Start)
		day := int(since / (24 * time.Hour))
		if since%(24*time.Hour) == 0 {
			day-- // raised at midnight: at the end of the day before
		}
		out = append(out, harness.Alert{Series: index[ev.Category()], Day: day, Rule: ev.Data.Rule})
	}
	return out
}

// pipelineTable scores the pipeline (the corpus through the log and the
// detector projection) against the harness's methods on the same corpus.
func pipelineTable(t testing.TB, c *harness.Corpus, methods ...harness.Method) (map[string]harness.Score, string) {
	l := openLog(t, corpusEvents(c))
	start := time.Now()
	got, _ := detectorEvents(t, l)
	took := time.Since(start)
	scores := map[string]harness.Score{}
	var list []harness.Score
	add := func(name string, as []harness.Alert) {
		s := harness.ScoreAlerts(c, name, as, harness.ScoreConfig{})
		scores[name] = s
		list = append(list, s)
	}
	add("plaint pipeline (weeks)", pipelineAlerts(c, got, "week"))
	add("plaint pipeline (weeks and months)", pipelineAlerts(c, got, ""))
	for _, m := range append(methods, harness.Thematic(), harness.Chattermill(), harness.Qualtrics()) {
		as, err := m.Run(c)
		if err != nil {
			t.Fatal(err)
		}
		add(m.Name, as)
	}
	return scores, fmt.Sprintf("%s; %d log records, detector %.2f s\n%s", c, l.LastSeq(), took.Seconds(), harness.Table(list, 14))
}

// TestPipelineKeepsTheHarnessQuality runs a 20-series corpus through the
// log and the detector projection and checks that the pipeline keeps the
// statistical core's quality: few false alarms, far fewer than the vendor
// rules, and +100% rises found.
func TestPipelineKeepsTheHarnessQuality(t *testing.T) {
	c, err := harness.Generate(harness.CorpusConfig{Seed: 11, Series: 20, Rises: 12})
	if err != nil {
		t.Fatal(err)
	}
	scores, table := pipelineTable(t, c)
	t.Logf("%s", table)
	p := scores["plaint pipeline (weeks)"]
	if fa := p.FalseAlarmRate(); fa > 3.5 {
		t.Errorf("pipeline: %.2f false alarms per 100 series-months, want <= 3.5", fa)
	}
	for _, v := range []harness.Method{harness.Thematic(), harness.Chattermill(), harness.Qualtrics()} {
		if fa, vfa := p.FalseAlarmRate(), scores[v.Name].FalseAlarmRate(); fa > vfa/4 {
			t.Errorf("pipeline %.2f false alarms vs %s %.2f: want 4x fewer", fa, v.Name, vfa)
		}
	}
	if r := p.Band100().Recall(); r < 0.75 {
		t.Errorf("pipeline recall of +100%% rises %.2f, want >= 0.75", r)
	}
}

// BenchmarkPipelineQuality is the quality table of BENCHMARKS.md: the
// harness's 100-series corpus (PLAINT_EVAL_SEED, default 1) through the log
// and the detector projection, beside the statistical core alone and the
// vendor-style rules, in one run.
func BenchmarkPipelineQuality(b *testing.B) {
	seed := uint64(1)
	if s := os.Getenv("PLAINT_EVAL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	for range b.N {
		c, err := harness.Generate(harness.CorpusConfig{Seed: seed})
		if err != nil {
			b.Fatal(err)
		}
		_, table := pipelineTable(b, c, harness.PlaintDaily(detect.Config{}))
		b.Logf("seed %d: %s", seed, strings.TrimSpace(table))
	}
}

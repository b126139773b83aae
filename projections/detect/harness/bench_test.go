package harness

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/plaint/plaint/projections/detect"
)

// runMethods scores methods on one corpus.
func runMethods(tb testing.TB, c *Corpus, sc ScoreConfig, methods []Method) []Score {
	var scores []Score
	for _, m := range methods {
		start := time.Now()
		alerts, err := m.Run(c)
		if err != nil {
			tb.Fatalf("%s: %v", m.Name, err)
		}
		tb.Logf("%s: %d alerts in %v", m.Name, len(alerts), time.Since(start).Round(time.Millisecond))
		scores = append(scores, ScoreAlerts(c, m.Name, alerts, sc))
	}
	return scores
}

// BenchmarkEvaluation runs plaint's full method (Farrington + NB CUSUM +
// Benjamini–Hochberg + minimum count, defaults) and the two vendor rules on
// the benchmark corpus (100 series, 36 months of daily counts, 50 injected
// rises, seed 1; PLAINT_EVAL_SEED picks another) and prints the evaluation
// table, the operating points of other settings, and every rise plaint
// missed.
//
//	go test -run '^$' -bench Evaluation -benchtime 1x ./projections/detect/harness
func BenchmarkEvaluation(b *testing.B) {
	seed := uint64(1)
	if s := os.Getenv("PLAINT_EVAL_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	for range b.N {
		c, err := Generate(CorpusConfig{Seed: seed})
		if err != nil {
			b.Fatal(err)
		}
		def := detect.Config{}
		scores := runMethods(b, c, ScoreConfig{}, []Method{PlaintDaily(def), PlaintWeekly(def), Thematic(), Chattermill()})
		fmt.Printf("\ncorpus (seed %d): %s\n\nDefaults (q = 0.05, minimum count 5):\n\n%s\n", seed, c, Table(scores, 14))
		for _, s := range scores[:2] {
			fmt.Printf("%s missed (no alert within 14 days of onset):\n%s\n", s.Method, MissList(c, s))
		}
		lines, err := RiseReport(c, def, 14)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Printf("Every rise of +100%% or more, plaint (daily):\n\n%s\n", RiseTable(lines, 14))
		// Other operating points: plaint with a looser FDR level, the
		// vendor rules with more standard deviations.
		var more []Method
		// The plug-in threshold, and the two-year minimum before
		// Farrington and the linear spending plaint used before.
		nb := PlaintDaily(detect.Config{Weekly: detect.FarringtonConfig{Threshold: detect.ThresholdNBPlugin}})
		nb.Name = "plaint (daily), nbPlugin threshold"
		two := PlaintDaily(detect.Config{Weekly: detect.FarringtonConfig{MinYearsBack: 2}, Spending: detect.SpendingLinear})
		two.Name = "plaint (daily), Farrington from 2 years, linear spending"
		more = append(more, nb, two)
		for _, q := range []float64{0.1, 0.2} {
			m := PlaintDaily(detect.Config{Q: q})
			m.Name = fmt.Sprintf("plaint (daily), q = %.2f", q)
			more = append(more, m)
		}
		for _, k := range []float64{3, 4} {
			more = append(more,
				MeanSD(fmt.Sprintf("Thematic-style, mean + %.0f sd of 8 weeks", k), 8, k, 0),
				MeanSD(fmt.Sprintf("Chattermill-style, mean + %.0f sd of 26 weeks", k), 26, k, 0))
		}
		more = append(more, MeanSD("Chattermill-style + minimum count 5", 26, 2, 5))
		table := Table(runMethods(b, c, ScoreConfig{}, more), 14)
		fmt.Printf("Other operating points:\n\n%s\n", table)
	}
}

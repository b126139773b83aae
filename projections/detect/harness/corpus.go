// Package harness evaluates plaint's rising-issue detector on a labelled
// synthetic corpus: a generator of daily complaint counts with weekday and
// yearly seasonality, trends, a range of levels and injected rises whose
// truth is known; the two vendor rules as baselines; and a scorer for
// precision, recall, detection delay and false alarms per 100 series-months.
package harness

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// CorpusConfig sets the size of a synthetic corpus. Zero fields take the
// defaults of the benchmark corpus.
type CorpusConfig struct {
	// Seed makes the corpus reproducible: the same seed, the same counts.
	Seed uint64
	// Series is the number of series. Default 100.
	Series int
	// Months is the length of each series in months. Default 36.
	Months int
	// Rises is the number of injected rises (at most one per series).
	// Default 50.
	Rises int
	// Start is the first day, a Monday. Default 2023-01-02.
	Start time.Time
	// RiseFrom is the earliest onset, in days from Start. Default 182 (six
	// months in: rises during the short-history phase are included).
	RiseFrom int
}

// setDefaults fills zero fields.
func (c *CorpusConfig) setDefaults() {
	c.Series = cmp.Or(c.Series, 100)
	c.Months = cmp.Or(c.Months, 36)
	c.Rises = cmp.Or(c.Rises, 50)
	if c.Start.IsZero() {
		c.Start = time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC)
	}
	c.RiseFrom = cmp.Or(c.RiseFrom, 182)
}

// Rise is one injected rise: from Onset (a day index) for Days days the
// series' mean is multiplied by Factor.
type Rise struct {
	Series int     `json:"series"`
	Key    string  `json:"key"`
	Onset  int     `json:"onset_day"`
	Days   int     `json:"days"`
	Factor float64 `json:"factor"`
}

// SeriesTruth describes how a series was generated.
type SeriesTruth struct {
	Key string
	// Level is the mean daily count at the start, before seasonality.
	Level float64
	// TrendPerYear is the relative change of the level per year.
	TrendPerYear float64
	// YearlyAmplitude is the relative amplitude of the yearly cycle.
	YearlyAmplitude float64
	// Weekday is the relative weekday profile (Monday first, mean 1).
	Weekday [7]float64
	// Size is the NB size of the daily counts (smaller: more overdispersed).
	Size float64
	// Phase is the phase of the yearly cycle (radians).
	Phase float64
}

// mean is the series' mean count on day d before the weekly wander and any
// rise: level, trend, yearly cycle and weekday.
func (t SeriesTruth) mean(d int) float64 {
	years := float64(d) / 365.25
	return t.Level * math.Pow(1+t.TrendPerYear, years) *
		(1 + t.YearlyAmplitude*math.Sin(2*math.Pi*years+t.Phase)) * t.Weekday[d%7]
}

// Corpus is a labelled synthetic corpus of daily counts.
type Corpus struct {
	Start  time.Time
	Days   int
	Daily  [][]float64 // [series][day]
	Series []SeriesTruth
	Rises  []Rise
}

// Generate builds the corpus of cfg. Levels are log-uniform from 0.3 to 60
// complaints a day (2 to 420 a week), trends from -15% to +25% a year,
// yearly amplitudes up to 30%, weekday profiles with quiet weekends, daily
// counts negative binomial (size 8 to 40) with a slowly wandering week-level
// factor (±5%); the rises multiply the mean by 1.5, 2, 2.5 or 3 (+50% to
// +200%, in turn) for 3 to 8 weeks, each on its own series.
func Generate(cfg CorpusConfig) (*Corpus, error) {
	cfg.setDefaults()
	days := int(cfg.Start.AddDate(0, cfg.Months, 0).Sub(cfg.Start).Hours() / 24)
	if cfg.Rises > cfg.Series {
		return nil, fmt.Errorf("corpus: %d rises need as many series, have %d", cfg.Rises, cfg.Series)
	}
	if cfg.RiseFrom+8*7 >= days {
		return nil, fmt.Errorf("corpus: %d days leave no room for rises after day %d", days, cfg.RiseFrom)
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x706c61696e74))
	c := &Corpus{Start: cfg.Start, Days: days}
	factors := []float64{1.5, 2, 2.5, 3}
	// Rises go to series chosen at random, in turn over the factors.
	perm := r.Perm(cfg.Series)
	riseOf := map[int]Rise{}
	for i := 0; i < cfg.Rises; i++ {
		s := perm[i]
		length := 7 * (3 + r.IntN(6))
		onset := cfg.RiseFrom + r.IntN(days-length-cfg.RiseFrom)
		riseOf[s] = Rise{Series: s, Onset: onset, Days: length, Factor: factors[i%len(factors)]}
	}
	for s := 0; s < cfg.Series; s++ {
		t := SeriesTruth{
			Key:             fmt.Sprintf("s%02d", s),
			Level:           0.3 * math.Pow(200, r.Float64()),
			TrendPerYear:    -0.15 + 0.40*r.Float64(),
			YearlyAmplitude: 0.3 * r.Float64(),
			Size:            8 + 32*r.Float64(),
		}
		weekday := [7]float64{1.15, 1.2, 1.15, 1.1, 1.05, 0.75, 0.6}
		sum := 0.0
		for i := range weekday {
			weekday[i] *= 1 + 0.1*(r.Float64()-0.5)
			sum += weekday[i]
		}
		for i := range weekday {
			t.Weekday[i] = weekday[i] * 7 / sum
		}
		phase := 2 * math.Pi * r.Float64()
		t.Phase = phase
		rise, hasRise := riseOf[s]
		if hasRise {
			rise.Key = t.Key
			c.Rises = append(c.Rises, rise)
		}
		daily := make([]float64, days)
		wander := 0.0
		for d := 0; d < days; d++ {
			if d%7 == 0 {
				wander = 0.7*wander + 0.03*r.NormFloat64()
			}
			mu := t.mean(d) * math.Exp(wander)
			if hasRise && d >= rise.Onset && d < rise.Onset+rise.Days {
				mu *= rise.Factor
			}
			daily[d] = negBin(r, mu, t.Size)
		}
		c.Series = append(c.Series, t)
		c.Daily = append(c.Daily, daily)
	}
	return c, nil
}

// negBin draws a negative binomial count with mean mu and size k as a
// gamma-mixed Poisson.
func negBin(r *rand.Rand, mu, k float64) float64 {
	return poisson(r, mu*gamma(r, k)/k)
}

// gamma draws Gamma(k, 1) (Marsaglia & Tsang).
func gamma(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return gamma(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// poisson draws a Poisson count (inversion for small means, a normal
// approximation with continuity for large ones).
func poisson(r *rand.Rand, mu float64) float64 {
	if mu <= 0 {
		return 0
	}
	if mu > 500 {
		return math.Max(0, math.Round(mu+math.Sqrt(mu)*r.NormFloat64()))
	}
	l := math.Exp(-mu)
	k, p := 0.0, r.Float64()
	for p > l {
		k++
		p *= r.Float64()
	}
	return k
}

// Weekly sums the daily counts of series s into ISO weeks (the corpus
// starts on a Monday); the last, incomplete week is dropped.
func (c *Corpus) Weekly(s int) []float64 {
	w := make([]float64, c.Days/7)
	for d := 0; d < len(w)*7; d++ {
		w[d/7] += c.Daily[s][d]
	}
	return w
}

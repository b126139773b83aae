package alerts

import (
	"cmp"
	"encoding/json"
	"fmt"

	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/detect"
)

// Name is the name of the detector's projection.
const Name = "builtin/alerts"

// KindName is the projection kind of the detector.
const KindName = "alerts"

// kindVersion is the version of this package's fold; raising it rebuilds
// the detector's projection (the statistics' own version is detect.Version,
// carried by every alert).
const kindVersion = 3

// Params are the detector's settings a deployment may change, kept in the
// projection's definition (changing them rebuilds it). Zero values take
// detect's documented defaults.
type Params struct {
	// Q is the false discovery rate across the series decided together
	// (default 0.05).
	Q float64 `json:"q,omitempty"`
	// MinCount is the smallest count of a period that can raise an alert
	// (default 5).
	MinCount float64 `json:"min_count,omitempty"`
	// Alpha is the one-sided level of the Farrington bound (default 0.05).
	Alpha float64 `json:"alpha,omitempty"`
	// ShortHistory is the rule for series with under a year of history:
	// ears-c1, ears-c2 (default), ears-c3 or poisson-cusum.
	ShortHistory string `json:"short_history,omitempty"`
	// NoCUSUM turns the slow-rise NB CUSUM off.
	NoCUSUM bool `json:"no_cusum,omitempty"`
	// Samples is the number of sample complaint ids an alert carries
	// (default 5); Drilldown the number of contributing segments and
	// channels it lists (default 5).
	Samples   int `json:"samples,omitempty"`
	Drilldown int `json:"drilldown,omitempty"`
}

// detectConfig is the detect.Config the parameters give.
func (p Params) detectConfig() detect.Config {
	c := detect.Config{Q: p.Q, MinCount: p.MinCount, ShortHistory: detect.Rule(p.ShortHistory), NoCUSUM: p.NoCUSUM}
	c.Weekly.Alpha, c.Monthly.Alpha = p.Alpha, p.Alpha
	return c
}

func (p *Params) setDefaults() {
	p.Samples = cmp.Or(p.Samples, 5)
	p.Drilldown = cmp.Or(p.Drilldown, 5)
}

// Validate returns every problem of the parameters, joined.
func (p Params) Validate() error {
	_, err := detect.New(p.detectConfig())
	if err == nil && (p.Samples < 0 || p.Drilldown < 0) {
		err = fmt.Errorf("detector config: samples %d, drilldown %d: need >= 0", p.Samples, p.Drilldown)
	}
	return err
}

// Definition is the detector projection's definition with p.
func Definition(p Params) (projections.Definition, error) {
	if err := p.Validate(); err != nil {
		return projections.Definition{}, err
	}
	b, err := json.Marshal(p)
	if err != nil {
		return projections.Definition{}, err
	}
	return projections.Definition{Kind: KindName, Params: b}, nil
}

func init() {
	projections.MustRegisterKind(projections.Kind{Name: KindName, Version: kindVersion, Persist: projections.PersistWhole,
		New: func(def *projections.Definition, _ projections.Env) (projections.Fold, error) {
			var p Params
			if len(def.Params) > 0 {
				if err := json.Unmarshal(def.Params, &p); err != nil {
					return nil, fmt.Errorf("alerts definition: %w", err)
				}
			}
			return newFold(p)
		}})
}

// DetectorVersion names the statistics and the fold alerts come from.
const DetectorVersion = detect.Version

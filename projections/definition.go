package projections

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/plaint/plaint/domain"
)

// The kinds of projection.
const (
	kindTrend = "trend" // built-in complaint counts by dimensions
	kindBase  = "base"  // built-in active customer base
	kindSpec  = "spec"  // an analyst's spec
	// kindCustomers is the built-in per-customer state of the review,
	// scorecard and linkage (customers_fold.go).
	kindCustomers = "customers"
	kindFirst     = "first" // built-in first event of every bucket (restatement)
)

// definition says what a projection computes. Two projections with equal
// canonical definitions hold the same state; any change rebuilds.
type definition struct {
	Kind    string      `json:"kind"`
	Version int         `json:"version"`
	Dims    []Dimension `json:"dims,omitempty"`
	Bucket  string      `json:"bucket,omitempty"`
	Spec    *Spec       `json:"spec,omitempty"`
}

func (d *definition) canonical() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// codeVersion is the version of the code that folds d's kind.
func codeVersion(kind string) int {
	switch kind {
	case kindTrend:
		return trendVersion
	case kindBase:
		return baseVersion
	case kindCustomers:
		return customersVersion
	case kindFirst:
		return firstsVersion
	}
	return specVersion
}

// newFold returns an empty fold for d.
func (d *definition) newFold() (fold, error) {
	switch d.Kind {
	case kindTrend:
		b, err := domain.ParseBucket(d.Bucket)
		if err != nil {
			return nil, err
		}
		return newTrendFold(d.Dims, b), nil
	case kindBase:
		return newBaseFold(), nil
	case kindCustomers:
		return newCustomersFold(), nil
	case kindFirst:
		return newFirstsFold(), nil
	case kindSpec:
		if d.Spec == nil {
			return nil, fmt.Errorf("spec projection without a spec")
		}
		c, err := compileSpec(d.Spec)
		if err != nil {
			return nil, err
		}
		return newSpecFold(c), nil
	}
	return nil, fmt.Errorf("unknown projection kind %q", d.Kind)
}

// trendDefinition returns the name and definition of the trend projection
// keyed by dims (sorted into canonical order) and bucket.
func trendDefinition(dims []Dimension, b domain.Bucket) (string, *definition) {
	ds := append([]Dimension(nil), dims...)
	sort.Slice(ds, func(i, j int) bool { return ds[i].rank() < ds[j].rank() })
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	name := "builtin/trend/" + b.String() + "/" + strings.Join(names, "+")
	return name, &definition{Kind: kindTrend, Version: trendVersion, Dims: ds, Bucket: b.String()}
}

func baseDefinition() (string, *definition) {
	return baseName, &definition{Kind: kindBase, Version: baseVersion}
}

func firstsDefinition() (string, *definition) {
	return firstsName, &definition{Kind: kindFirst, Version: firstsVersion}
}

func specDefinition(sp *Spec) *definition {
	return &definition{Kind: kindSpec, Version: specVersion, Spec: sp}
}

package projections

import (
	"encoding/json"
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

// Definition says what a projection computes: its kind and version, and
// the kind's parameters. Two projections with equal canonical definitions
// hold the same state; any change rebuilds.
type Definition struct {
	Kind    string      `json:"kind"`
	Version int         `json:"version"`
	Dims    []Dimension `json:"dims,omitempty"`
	Bucket  string      `json:"bucket,omitempty"`
	Spec    *Spec       `json:"spec,omitempty"`
	// Params holds the parameters of a kind that has others, as JSON of
	// its own.
	Params json.RawMessage `json:"params,omitempty"`
}

func (d *Definition) canonical() string {
	b, _ := json.Marshal(d)
	return string(b)
}

// codeVersion is the version of the code that folds kind (0: unknown).
func codeVersion(kind string) int {
	k, err := kindOf(kind)
	if err != nil {
		return 0
	}
	return k.Version
}

// trendDefinition returns the name and definition of the trend projection
// keyed by dims (sorted into canonical order) and bucket.
func trendDefinition(dims []Dimension, b domain.Bucket) (string, *Definition) {
	ds := append([]Dimension(nil), dims...)
	sort.Slice(ds, func(i, j int) bool { return ds[i].rank() < ds[j].rank() })
	names := make([]string, len(ds))
	for i, d := range ds {
		names[i] = string(d)
	}
	name := "builtin/trend/" + b.String() + "/" + strings.Join(names, "+")
	return name, &Definition{Kind: kindTrend, Version: trendVersion, Dims: ds, Bucket: b.String()}
}

func baseDefinition() (string, *Definition) {
	return baseName, &Definition{Kind: kindBase, Version: baseVersion}
}

func firstsDefinition() (string, *Definition) {
	return firstsName, &Definition{Kind: kindFirst, Version: firstsVersion}
}

func specDefinition(sp *Spec) *Definition {
	return &Definition{Kind: kindSpec, Version: specVersion, Spec: sp}
}

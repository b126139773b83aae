package csv

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// RejectLimit is how many rejected rows an import may have: a Count, or a
// Percent of the rows read when Percent is set (> 0 or IsShare).
type RejectLimit struct {
	Count   int
	Percent float64
	// IsShare marks a share, so that "0%" is a share too.
	IsShare bool
}

// ParseRejectLimit reads "10" (a count) or "2.5%" (a share of the rows).
func ParseRejectLimit(s string) (RejectLimit, error) {
	s = strings.TrimSpace(s)
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) {
			return RejectLimit{}, fmt.Errorf("%q is not a count or a percentage such as \"1%%\"", s)
		}
		return RejectLimit{Percent: f, IsShare: true}, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return RejectLimit{}, fmt.Errorf("%q is not a count or a percentage such as \"1%%\"", s)
	}
	return RejectLimit{Count: n}, nil
}

func (l *RejectLimit) validate() error {
	switch {
	case l.share() && (l.Percent < 0 || l.Percent > 100):
		return fmt.Errorf("%s must be from 0%% to 100%%", l)
	case !l.share() && l.Count < 0:
		return fmt.Errorf("%d must not be negative", l.Count)
	}
	return nil
}

func (l *RejectLimit) share() bool { return l.IsShare || l.Percent > 0 }

// String renders the limit as a mapping would write it.
func (l *RejectLimit) String() string {
	if l.share() {
		return strconv.FormatFloat(l.Percent, 'f', -1, 64) + "%"
	}
	return strconv.Itoa(l.Count)
}

// allows reports whether rejected rows of rows read are within the limit.
func (l *RejectLimit) allows(rejected, rows int) bool {
	if l.share() {
		return float64(rejected) <= l.Percent/100*float64(rows)
	}
	return rejected <= l.Count
}

// UnmarshalYAML reads a count or a percentage.
func (l *RejectLimit) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return errors.New("max_rejected: a count or a percentage such as \"1%\"")
	}
	v, err := ParseRejectLimit(n.Value)
	if err != nil {
		return fmt.Errorf("max_rejected: %w", err)
	}
	*l = v
	return nil
}

// UnmarshalJSON reads a number (a count) or a string (a count or a
// percentage).
func (l *RejectLimit) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		s = string(b)
	}
	v, err := ParseRejectLimit(s)
	if err != nil {
		return fmt.Errorf("max_rejected: %w", err)
	}
	*l = v
	return nil
}

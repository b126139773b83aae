package projections

import (
	"strconv"
	"strings"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Dimension is a complaint field a trend can be broken down by.
type Dimension string

// The trend dimensions.
const (
	DimCategory  Dimension = "category"
	DimSegment   Dimension = "segment"
	DimChannel   Dimension = "channel"
	DimRootCause Dimension = "root_cause"
	DimProduct   Dimension = "product"
	DimRegion    Dimension = "region"
	DimSeverity  Dimension = "severity"
)

// Dimensions lists every trend dimension in canonical order.
var Dimensions = []Dimension{DimCategory, DimSegment, DimChannel, DimRootCause, DimProduct, DimRegion, DimSeverity}

// MaxTrendDims is the most dimensions a trend combines.
const MaxTrendDims = 3

// maxKeyDims is the most dimensions a trend projection's key holds: the
// breakdown plus the dimensions of its where clause.
const maxKeyDims = 4

// ParseDimension parses a dimension name ("root-cause" is accepted too).
func ParseDimension(s string) (Dimension, error) {
	n := strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "-", "_")
	for _, d := range Dimensions {
		if string(d) == n {
			return d, nil
		}
	}
	names := make([]string, len(Dimensions))
	for i, d := range Dimensions {
		names[i] = string(d)
	}
	return "", domain.FieldErrorf("by", "%q is not a dimension (one of %s)", s, strings.Join(names, ", "))
}

// rank is the dimension's position in Dimensions.
func (d Dimension) rank() int {
	for i, x := range Dimensions {
		if x == d {
			return i
		}
	}
	return len(Dimensions)
}

// field returns the record field holding d; ok is false for severity, which
// is not a dictionary field.
func (d Dimension) field() (f eventstore.Field, ok bool) {
	switch d {
	case DimCategory:
		return eventstore.FieldCategory, true
	case DimSegment:
		return eventstore.FieldSegment, true
	case DimChannel:
		return eventstore.FieldChannel, true
	case DimRootCause:
		return eventstore.FieldRootCause, true
	case DimProduct:
		return eventstore.FieldProduct, true
	case DimRegion:
		return eventstore.FieldRegion, true
	}
	return 0, false
}

// value returns d's value in a decoded event ("" when absent).
func (d Dimension) value(ev *domain.Event) string {
	switch d {
	case DimCategory:
		return ev.Data.Category
	case DimSegment:
		return ev.Data.Segment
	case DimChannel:
		return ev.Data.Channel
	case DimRootCause:
		return ev.Data.RootCause
	case DimProduct:
		return ev.Data.Product
	case DimRegion:
		return ev.Data.Region
	case DimSeverity:
		return severityString(ev.Data.Severity)
	}
	return ""
}

func severityString(s uint8) string {
	if s == 0 {
		return ""
	}
	return strconv.Itoa(int(s))
}

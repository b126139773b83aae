package http

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
)

// ParseTrendQuery reads a trend query from URL parameters (GET /v1/trends,
// and `plaint trend`, which sends the same): by (comma separated), bucket,
// from, to, where (repeatable, "segment=enterprise" or
// "segment=enterprise,smb"), as_of and alpha. The query it returns is
// valid (projections.TrendQuery.Validate).
func ParseTrendQuery(v url.Values) (projections.TrendQuery, error) {
	q := projections.TrendQuery{From: v.Get("from"), To: v.Get("to"), Where: map[projections.Dimension][]string{}}
	by := v.Get("by")
	if by == "" {
		by = string(projections.DimCategory)
	}
	for _, s := range strings.Split(by, ",") {
		d, err := projections.ParseDimension(s)
		if err != nil {
			return q, err
		}
		q.By = append(q.By, d)
	}
	var err error
	if q.Bucket, err = domain.ParseBucket(v.Get("bucket")); err != nil {
		return q, err
	}
	for _, w := range v["where"] {
		k, vals, ok := strings.Cut(w, "=")
		if !ok || vals == "" {
			return q, domain.FieldErrorf("where", "%q must be dimension=value[,value...]", w)
		}
		d, err := projections.ParseDimension(k)
		if err != nil {
			return q, domain.FieldErrorf("where", "%q: %s", w, domain.ErrorMessage(err))
		}
		for _, x := range strings.Split(vals, ",") {
			if d != projections.DimSeverity {
				x = domain.Slug(x)
			}
			q.Where[d] = append(q.Where[d], strings.TrimSpace(x))
		}
	}
	if q.AsOf, err = projections.ParseAsOf(v.Get("as_of")); err != nil {
		return q, err
	}
	if a := v.Get("alpha"); a != "" {
		f, err := strconv.ParseFloat(a, 64)
		if err != nil || f <= 0 || f >= 1 {
			return q, domain.FieldErrorf("alpha", "%q must be a number between 0 and 1", a)
		}
		q.Alpha = f
	}
	return q, q.Validate()
}

package projections

import (
	"time"

	"github.com/plaint/plaint/domain"
)

// bucketRange returns the buckets a trend answer covers, first and last
// included: q's From and To where given; else To is the last bucket with
// complaints (or the current one) and From defaultSpan-1 buckets before
// it, or the first bucket after that with complaints.
func bucketRange(q TrendQuery, a *trendAggs) (lo, hi int32, err error) {
	switch {
	case q.To != "":
		p, err := parsePeriodIn("to", q.Bucket, q.To)
		if err != nil {
			return 0, 0, err
		}
		hi = indexOfPeriod(p)
	case a.found:
		hi = a.last
	default:
		hi = periodIndex(q.Bucket, time.Now().UnixNano())
	}
	lo = hi - defaultSpan + 1
	if a.found && q.From == "" {
		// No empty buckets before the data start: from the first bucket of
		// the default span that has complaints.
		first := hi + 1
		for b, t := range a.totals {
			if b >= lo && b < first && t.count > 0 {
				first = b
			}
		}
		if first <= hi {
			lo = first
		}
	}
	if q.From != "" {
		p, err := parsePeriodIn("from", q.Bucket, q.From)
		if err != nil {
			return 0, 0, err
		}
		lo = indexOfPeriod(p)
		if q.To == "" && !a.found {
			hi = lo + defaultSpan - 1
		}
	}
	if lo > hi {
		return 0, 0, domain.FieldErrorf("from", "%s is after %s", periodAt(q.Bucket, lo), periodAt(q.Bucket, hi))
	}
	if hi-lo+1 > maxSpan {
		return 0, 0, domain.FieldErrorf("from", "a trend covers at most %d buckets", maxSpan)
	}
	return lo, hi, nil
}

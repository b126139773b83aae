package projections

import (
	"fmt"
	"time"

	"github.com/plaint/plaint/domain"
)

// Event times, record times and period bounds are int64 nanoseconds since
// 1970 inside plaint, which can only represent instants from 1677-09-21 to
// 2262-04-11. Every time a user gives must lie in [minTime, maxTime): a margin
// inside that range, so that the bucket before a period and the same bucket a
// year earlier are representable too.
var (
	minTime = time.Date(1680, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// representable explains why t cannot be represented, or returns "".
func representable(t time.Time) string {
	switch {
	case t.Before(minTime):
		return fmt.Sprintf("is before %s, the earliest time plaint can represent (times are int64 nanoseconds since 1970)", minTime.Format("2006-01-02"))
	case !t.Before(maxTime):
		return fmt.Sprintf("is after %s, the latest time plaint can represent (times are int64 nanoseconds since 1970, which end in April 2262)",
			maxTime.Add(-time.Nanosecond).Format("2006-01-02"))
	}
	return ""
}

// parsePeriodIn parses the period label s of width b for the named field,
// checking that the period lies wholly in the representable range.
func parsePeriodIn(field string, b domain.Bucket, s string) (domain.Period, error) {
	p, err := domain.ParsePeriod(b, s)
	if err != nil {
		return p, domain.FieldErrorf(field, "%s", domain.ErrorMessage(err))
	}
	first, last := domain.PeriodOf(b, minTime), domain.PeriodOf(b, maxTime).Prev()
	if first.Start.Before(minTime) {
		first = first.Next()
	}
	switch {
	case p.Start.Before(first.Start):
		return p, domain.FieldErrorf(field, "%s is before %s, the first %s plaint can represent (times are int64 nanoseconds since 1970)", s, first, b)
	case p.Start.After(last.Start):
		return p, domain.FieldErrorf(field, "%s is after %s, the last %s plaint can represent (times are int64 nanoseconds since 1970, which end in April 2262)", s, last, b)
	}
	return p, nil
}

// rangeError is a time that parses but cannot be represented.
type rangeError struct{ msg string }

func (e *rangeError) Error() string { return e.msg }

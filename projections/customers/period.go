package customers

import (
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
)

// ParsePeriod parses a review period: a UTC month ("2025-09") or quarter
// ("2025-Q3").
func ParsePeriod(field, s string) (domain.Period, error) {
	s = strings.TrimSpace(s)
	b := domain.BucketMonth
	if len(s) == 7 && (s[5] == 'Q' || s[5] == 'q') {
		b = domain.BucketQuarter
	} else if len(s) != 7 {
		return domain.Period{}, domain.FieldErrorf(field, "%q is not a month (2025-09) or quarter (2025-Q3)", s)
	}
	p, err := domain.ParsePeriod(b, s)
	if err != nil {
		return domain.Period{}, domain.FieldErrorf(field, "%q is not a month (2025-09) or quarter (2025-Q3)", s)
	}
	if p.Start.Year() < 1990 || p.Start.Year() > 2200 {
		return domain.Period{}, domain.FieldErrorf(field, "%q is outside the years plaint holds (1990-2200)", s)
	}
	return p, nil
}

// ParseMonth parses a UTC month ("2025-09").
func ParseMonth(field, s string) (domain.Period, error) {
	p, err := ParsePeriod(field, s)
	if err == nil && p.Bucket != domain.BucketMonth {
		return p, domain.FieldErrorf(field, "%q is a quarter; give a month (2025-09)", s)
	}
	return p, err
}

// months returns the month indexes p covers.
func months(p domain.Period) (lo, hi int32) {
	lo = monthIndex(p.Start.UnixNano())
	hi = monthIndex(p.End().UnixNano() - 1)
	return lo, hi
}

// monthLabel returns "2025-09" for a month index.
func monthLabel(m int32) string {
	return monthStart(m).Format("2006-01")
}

// monthStart returns the first instant of month index m.
func monthStart(m int32) time.Time {
	y, mo := int(m)/12, int(m)%12
	return time.Date(y, time.Month(mo+1), 1, 0, 0, 0, 0, time.UTC)
}

// partial reports whether a period ending at end had not ended at now.
func partial(end, now time.Time) bool { return end.After(now) }

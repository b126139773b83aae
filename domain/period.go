package domain

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Bucket is the width of a time bucket in a trend or projection.
type Bucket uint8

// The bucket widths. BucketMonth is the default.
const (
	BucketMonth Bucket = iota
	BucketDay
	BucketWeek // ISO 8601 week, starting Monday
	BucketQuarter
)

// ParseBucket parses "day", "week", "month" or "quarter"; "" means month.
func ParseBucket(s string) (Bucket, error) {
	switch strings.ToLower(s) {
	case "", "month":
		return BucketMonth, nil
	case "day":
		return BucketDay, nil
	case "week":
		return BucketWeek, nil
	case "quarter":
		return BucketQuarter, nil
	}
	return 0, FieldErrorf("bucket", "%q is not one of day, week, month, quarter", s)
}

// String returns the bucket's name.
func (b Bucket) String() string {
	return [...]string{"month", "day", "week", "quarter"}[b]
}

// Period is one bucket of time, identified by its start (UTC) and width.
type Period struct {
	Bucket Bucket
	Start  time.Time
}

// PeriodOf returns the period of width b that contains t.
func PeriodOf(b Bucket, t time.Time) Period {
	t = t.UTC()
	y, m, d := t.Date()
	var s time.Time
	switch b {
	case BucketDay:
		s = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	case BucketWeek:
		wd := (int(t.Weekday()) + 6) % 7 // Monday = 0
		s = time.Date(y, m, d-wd, 0, 0, 0, 0, time.UTC)
	case BucketQuarter:
		s = time.Date(y, m-(m-1)%3, 1, 0, 0, 0, 0, time.UTC)
	default:
		s = time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	}
	return Period{Bucket: b, Start: s}
}

// Next returns the period after p; Prev the one before.
func (p Period) Next() Period { return p.Add(1) }

// Prev returns the period before p.
func (p Period) Prev() Period { return p.Add(-1) }

// Add returns the period n buckets after p (before, for negative n).
func (p Period) Add(n int) Period {
	s := p.Start
	switch p.Bucket {
	case BucketDay:
		s = s.AddDate(0, 0, n)
	case BucketWeek:
		s = s.AddDate(0, 0, 7*n)
	case BucketQuarter:
		s = s.AddDate(0, 3*n, 0)
	default:
		s = s.AddDate(0, n, 0)
	}
	return Period{Bucket: p.Bucket, Start: s}
}

// YearAgo returns the period of the same width one year before p.
func (p Period) YearAgo() Period {
	switch p.Bucket {
	case BucketDay:
		return p.Add(-364) // same weekday
	case BucketWeek:
		return p.Add(-52)
	case BucketQuarter:
		return p.Add(-4)
	}
	return p.Add(-12)
}

// End returns the first instant after p.
func (p Period) End() time.Time { return p.Next().Start }

// String labels the period: "2026-10-03", "2026-W40", "2026-10", "2026-Q4".
func (p Period) String() string {
	switch p.Bucket {
	case BucketDay:
		return p.Start.Format("2006-01-02")
	case BucketWeek:
		y, w := p.Start.ISOWeek()
		return fmt.Sprintf("%04d-W%02d", y, w)
	case BucketQuarter:
		return fmt.Sprintf("%04d-Q%d", p.Start.Year(), (int(p.Start.Month())-1)/3+1)
	}
	return p.Start.Format("2006-01")
}

// ParsePeriod parses a label of any width ("2026", "2026-10", "2026-Q4",
// "2026-W40", "2026-10-03") and returns the period of width b that contains its
// start. A bare year is its first bucket.
func ParsePeriod(b Bucket, s string) (Period, error) {
	s = strings.TrimSpace(s)
	bad := func() (Period, error) {
		return Period{}, Errorf(EINVALID, "%q is not a period (use 2026-10, 2026-Q4, 2026-W40 or 2026-10-03)", s)
	}
	var t time.Time
	var err error
	switch {
	case len(s) == 4:
		t, err = time.Parse("2006", s)
	case len(s) == 7 && (s[5] == 'Q' || s[5] == 'q'):
		y, e1 := strconv.Atoi(s[:4])
		q, e2 := strconv.Atoi(s[6:])
		if e1 != nil || e2 != nil || q < 1 || q > 4 || s[4] != '-' {
			return bad()
		}
		t = time.Date(y, time.Month(3*(q-1)+1), 1, 0, 0, 0, 0, time.UTC)
	case len(s) == 8 && (s[5] == 'W' || s[5] == 'w'):
		y, e1 := strconv.Atoi(s[:4])
		w, e2 := strconv.Atoi(s[6:])
		if e1 != nil || e2 != nil || w < 1 || w > 53 || s[4] != '-' {
			return bad()
		}
		jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
		mon := jan4.AddDate(0, 0, -((int(jan4.Weekday()) + 6) % 7))
		t = mon.AddDate(0, 0, 7*(w-1))
	case len(s) == 7:
		t, err = time.Parse("2006-01", s)
	case len(s) == 10:
		t, err = time.Parse("2006-01-02", s)
	default:
		return bad()
	}
	if err != nil {
		return bad()
	}
	return PeriodOf(b, t), nil
}

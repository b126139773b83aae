package projections

import (
	"time"

	"github.com/plaint/plaint/domain"
)

// nsPerDay is the length of a UTC day in nanoseconds.
const nsPerDay = int64(24 * time.Hour)

// dayOf returns the number of whole UTC days between the Unix epoch and ns.
func dayOf(ns int64) int64 {
	d := ns / nsPerDay
	if ns%nsPerDay < 0 {
		d--
	}
	return d
}

// civil converts a day number since the Unix epoch to a proleptic Gregorian
// year and month (1..12), after Howard Hinnant's days_from_civil inverse.
func civil(days int64) (year, month int64) {
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	month = mp + 3
	if mp >= 10 {
		month = mp - 9
	}
	year = yoe + era*400
	if month <= 2 {
		year++
	}
	return year, month
}

// periodIndex returns a dense index of the period of width b holding the
// instant ns (Unix nanoseconds). Consecutive periods have consecutive indexes.
func periodIndex(b domain.Bucket, ns int64) int32 {
	d := dayOf(ns)
	switch b {
	case domain.BucketDay:
		return int32(d)
	case domain.BucketWeek:
		// 1969-12-29 was a Monday, three days before the epoch.
		w := d + 3
		if w < 0 {
			return int32((w - 6) / 7)
		}
		return int32(w / 7)
	case domain.BucketQuarter:
		y, m := civil(d)
		return int32(y*4 + (m-1)/3)
	}
	y, m := civil(d)
	return int32(y*12 + m - 1)
}

// periodAt returns the period with the dense index i (see periodIndex).
func periodAt(b domain.Bucket, i int32) domain.Period {
	var s time.Time
	switch b {
	case domain.BucketDay:
		s = time.Unix(int64(i)*86400, 0).UTC()
	case domain.BucketWeek:
		s = time.Unix((int64(i)*7-3)*86400, 0).UTC()
	case domain.BucketQuarter:
		s = time.Date(int(floorDiv(i, 4)), time.Month(floorMod(i, 4)*3+1), 1, 0, 0, 0, 0, time.UTC)
	default:
		s = time.Date(int(floorDiv(i, 12)), time.Month(floorMod(i, 12)+1), 1, 0, 0, 0, 0, time.UTC)
	}
	return domain.Period{Bucket: b, Start: s}
}

// indexOfPeriod returns the dense index of p.
func indexOfPeriod(p domain.Period) int32 { return periodIndex(p.Bucket, p.Start.UnixNano()) }

// yearAgoIndex returns the index of the period one year before index i.
func yearAgoIndex(b domain.Bucket, i int32) int32 {
	return indexOfPeriod(periodAt(b, i).YearAgo())
}

func floorDiv(a, b int32) int32 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int32) int32 { return a - floorDiv(a, b)*b }

package alerts

import (
	"time"

	"github.com/plaint/plaint/projections/detect"
)

// nsPerDay is a day in nanoseconds.
const nsPerDay = int64(24 * time.Hour)

// kinds are the period kinds judged, in the order they are judged.
var kinds = [2]detect.PeriodKind{detect.Week, detect.Month}

// dayOf is the day (days since 1970-01-01, UTC) of a Unix time in ns.
func dayOf(ns int64) int64 {
	d := ns / nsPerDay
	if ns%nsPerDay < 0 {
		d--
	}
	return d
}

// dayTime is the start of day d.
func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// timeDay is the day of t.
func timeDay(t time.Time) int64 { return dayOf(t.UnixNano()) }

// periodStartDay is the first day of the period of kind containing day d.
func periodStartDay(kind detect.PeriodKind, d int64) int64 {
	return timeDay(detect.PeriodStart(kind, dayTime(d)))
}

// periodEndDay is the first day after the period starting on day start.
func periodEndDay(kind detect.PeriodKind, start int64) int64 {
	return timeDay(detect.PeriodEnd(kind, dayTime(start)))
}

// periodBeforeDay is the first day of the period before the one starting
// on day start.
func periodBeforeDay(kind detect.PeriodKind, start int64) int64 {
	if kind == detect.Month {
		return timeDay(dayTime(start).AddDate(0, -1, 0))
	}
	return start - 7
}

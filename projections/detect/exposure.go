package detect

import (
	"math"
	"time"
)

// WeekdayShape is the share of a week's counts that falls on each weekday,
// Monday first (index 0) to Sunday (6). It sums to 1.
type WeekdayShape [7]float64

// UniformShape gives every weekday 1/7.
func UniformShape() WeekdayShape {
	var s WeekdayShape
	for i := range s {
		s[i] = 1.0 / 7
	}
	return s
}

// weekdayIndex is 0 for Monday ... 6 for Sunday.
func weekdayIndex(d time.Time) int { return (int(d.Weekday()) + 6) % 7 }

// EstimateWeekdayShape estimates the weekday shape from a series' own daily
// counts (daily[0] is the day `first`). Each weekday's share is its total
// plus one pseudo-count per week observed, over the grand total, so that a
// short or sparse history is drawn toward the uniform shape rather than
// giving a weekday no weight. With no counts at all it is uniform.
func EstimateWeekdayShape(daily []float64, first time.Time) WeekdayShape {
	var sum WeekdayShape
	for i, v := range daily {
		if math.IsNaN(v) {
			continue
		}
		sum[weekdayIndex(first.AddDate(0, 0, i))] += v
	}
	return WeekdayShapeOf(sum, len(daily))
}

// WeekdayShapeOf is EstimateWeekdayShape from the totals by weekday
// (Monday first) of a history of the given number of days, for callers
// that keep the totals as counts come in.
func WeekdayShapeOf(totals [7]float64, days int) WeekdayShape {
	total := 0.0
	for _, v := range totals {
		total += v
	}
	if total == 0 {
		return UniformShape()
	}
	weeks := math.Max(1, float64(days)/7)
	var s WeekdayShape
	for i := range s {
		s[i] = (totals[i] + weeks) / (total + 7*weeks)
	}
	return s
}

// PeriodStart is the start (00:00 UTC) of the ISO week (its Monday) or
// calendar month that contains t.
func PeriodStart(kind PeriodKind, t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	if kind == Month {
		return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return d.AddDate(0, 0, -weekdayIndex(d))
}

// PeriodEnd is the start of the period after the one starting at start.
func PeriodEnd(kind PeriodKind, start time.Time) time.Time {
	if kind == Month {
		return start.AddDate(0, 1, 0)
	}
	return start.AddDate(0, 0, 7)
}

// Elapsed is the exposure of a partial period: the share of the period's
// expected counts that falls before now, each day weighted by its weekday's
// share in shape (the current day counted pro rata by the hour). It is 0
// before the period starts and 1 once it has ended. The detector multiplies
// a period's expected count by it and judges the partial count against the
// bound of that scaled expectation, never against a full period's.
func Elapsed(kind PeriodKind, periodStart, now time.Time, shape WeekdayShape) float64 {
	start := PeriodStart(kind, periodStart)
	end := PeriodEnd(kind, start)
	now = now.UTC()
	if !now.After(start) {
		return 0
	}
	if !now.Before(end) {
		return 1
	}
	total, done := 0.0, 0.0
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		w := shape[weekdayIndex(d)]
		total += w
		next := d.AddDate(0, 0, 1)
		switch {
		case !now.Before(next):
			done += w
		case now.After(d):
			done += w * now.Sub(d).Hours() / 24
		}
	}
	if total == 0 {
		return now.Sub(start).Hours() / end.Sub(start).Hours()
	}
	return done / total
}

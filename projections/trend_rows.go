package projections

import "math"

// trendRow is the row of key n in bucket b: its counts, their changes
// against the previous bucket and the year before (over the covered time,
// see compare), its share of the bucket, the p-value of the change, the
// restatements, and its rate per active customer.
func trendRow(q TrendQuery, a *trendAggs, n namedKey, b int32, cov coverage, bases map[string]*activeBase, segPos int, alpha float64) TrendRow {
	per := periodAt(q.Bucket, b)
	startDay, endDay := dayOf(per.Start.UnixNano()), dayOf(per.End().UnixNano())
	total := figuresAt(a.totals, b).count
	m := a.byKey[n.k]
	yb := yearAgoIndex(q.Bucket, b)
	cur, prev, yoy := figuresAt(m, b), figuresAt(m, b-1), figuresAt(m, yb)
	r := TrendRow{Bucket: per.String(), Key: map[string]string{}, Count: cur.count, PrevCount: prev.count,
		YoYCount: yoy.count, LateCount: cur.late}
	for i, d := range q.By {
		r.Key[string(d)] = n.vals[i]
	}
	tCur, share := cov.days(q.Bucket, b)
	tPrev, sharePrev := cov.days(q.Bucket, b-1)
	tYoY, shareYoY := cov.days(q.Bucket, yb)
	r.Partial, r.Covered = share < 1, share
	r.Change, r.PctChange = compare(cur.count, prev.count, tCur, tPrev, share == 1 && sharePrev == 1)
	r.YoYChange, r.YoYPctChange = compare(cur.count, yoy.count, tCur, tYoY, share == 1 && shareYoY == 1)
	if total > 0 {
		r.Share = round(float64(cur.count)/float64(total), 6)
	}
	if tCur > 0 && tPrev > 0 {
		p := memoPValue(cur.count, prev.count, tCur, tPrev)
		r.PValue, r.Significant = &p, p < alpha
	}
	if cur.late > 0 {
		r.Restated, r.RestatedAt = true, formatNanos(cur.restatedAt)
	}
	r.PrevRestated, r.YoYRestated = prev.late > 0, yoy.late > 0
	if active, known := activeIn(bases, segmentsOf(q, segPos, n.vals), startDay, endDay); known && active > 0 {
		rate := round(float64(cur.count)*1000/float64(active), 3)
		r.ActiveCustomers, r.RatePer1000 = &active, &rate
	}
	return r
}

// compare returns the change and % change from a bucket's count prev over
// tPrev covered days to cur over tCur. Whole buckets (whole) compare plain
// counts; otherwise prev is first scaled to tCur days. Either is absent when a
// bucket is not covered at all, the percentage also when prev is 0.
func compare(cur, prev int64, tCur, tPrev float64, whole bool) (*int64, *float64) {
	if tCur <= 0 || tPrev <= 0 {
		return nil, nil
	}
	expected := float64(prev)
	if !whole {
		expected = float64(prev) * tCur / tPrev
	}
	ch := cur - int64(math.Round(expected))
	if whole {
		ch = cur - prev
	}
	if expected == 0 {
		return &ch, nil
	}
	v := round((float64(cur)-expected)*100/expected, 2)
	return &ch, &v
}

func round(v float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(v*p) / p
}

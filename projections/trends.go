package projections

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaint/plaint/domain"
)

// DefaultAlpha is the significance level below which a month-over-month
// change is flagged as significant.
const DefaultAlpha = 0.05

// defaultSpan is how many buckets a trend shows when no range is given.
const defaultSpan = 12

// maxSpan is the most buckets one trend query may cover.
const maxSpan = 1000

// TrendQuery asks for complaint trends.
type TrendQuery struct {
	By     []Dimension
	Bucket domain.Bucket
	// From and To are period labels (2025-11, 2026-Q1, 2026-W05); both are
	// included. Empty To is the last bucket with complaints; empty From is
	// eleven buckets before To, or the first bucket after that with
	// complaints.
	From, To string
	Where    map[Dimension][]string
	AsOf     AsOf
	Alpha    float64
}

// Validate checks q: one to MaxTrendDims dimensions, none twice, periods
// From and To of its bucket width that plaint can represent, and at most
// the dimensions a trend keys by, breakdown and where clause together.
func (q TrendQuery) Validate() error {
	if len(q.By) == 0 || len(q.By) > MaxTrendDims {
		return domain.FieldErrorf("by", "give from 1 to %d dimensions", MaxTrendDims)
	}
	for i, d := range q.By {
		for _, x := range q.By[:i] {
			if x == d {
				return domain.FieldErrorf("by", "%s is listed twice", d)
			}
		}
	}
	for _, f := range []struct{ field, label string }{{"from", q.From}, {"to", q.To}} {
		if f.label != "" {
			if _, err := parsePeriodIn(f.field, q.Bucket, f.label); err != nil {
				return err
			}
		}
	}
	if len(q.keyDims()) > maxKeyDims {
		return domain.FieldErrorf("where", "the breakdown and the where clause together may name at most %d dimensions", maxKeyDims)
	}
	return nil
}

// key returns q in a canonical text form: equal for equal questions, the
// key of their cached answers.
func (q TrendQuery) key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "by=%q bucket=%s from=%q to=%q", q.By, q.Bucket, q.From, q.To)
	for _, d := range Dimensions {
		if vals, ok := q.Where[d]; ok {
			fmt.Fprintf(&b, " where.%s=%q", d, vals)
		}
	}
	fmt.Fprintf(&b, " as_of=%d/%d alpha=%v", q.AsOf.Seq, q.AsOf.Time.UnixNano(), q.Alpha)
	return b.String()
}

// keyDims returns the breakdown plus the where dimensions.
func (q TrendQuery) keyDims() []Dimension {
	out := append([]Dimension(nil), q.By...)
	for _, d := range Dimensions {
		if _, ok := q.Where[d]; ok && !containsDim(out, d) {
			out = append(out, d)
		}
	}
	return out
}

func containsDim(ds []Dimension, d Dimension) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

// TrendResult is the answer to a TrendQuery: one row per bucket and key, in
// bucket then key order, and the totals of each bucket.
type TrendResult struct {
	TrendHeader
	Rows []TrendRow `json:"rows"`

	mu       sync.Mutex
	rendered map[string][]byte // by format
}

// TrendHeader is what a TrendResult says besides its rows (its JSON form
// is inlined in the result's).
type TrendHeader struct {
	By      []Dimension         `json:"by"`
	Bucket  string              `json:"bucket"`
	From    string              `json:"from"`
	To      string              `json:"to"`
	Where   map[string][]string `json:"where,omitempty"`
	AsOfSeq uint64              `json:"as_of_seq"`
	Alpha   float64             `json:"alpha"`
	// DataFrom and DataTo are the span of time the events in the log cover
	// (absent when there are none): from the start of the UTC day of the
	// earliest event (of any type producers send: not plaint's own alerts
	// and erasures) to the end of the UTC day of the latest,
	// or to the moment the last event was stored (as of the answer) if that
	// is earlier, while that day is still going on. Buckets that reach
	// outside it are partial.
	DataFrom string        `json:"data_from,omitempty"`
	DataTo   string        `json:"data_to,omitempty"`
	Buckets  []BucketTotal `json:"buckets"`
}

// maxRenderedRows is the most rows of a result whose rendering is kept;
// larger results are written as they are encoded (see Write).
const maxRenderedRows = 5000

// Write writes r in the given format: from its kept rendering when it has
// one or is small enough to keep one, else encoded as it is written.
func (r *TrendResult) Write(w io.Writer, format string) error {
	if len(r.Rows) > maxRenderedRows {
		return WriteTrend(w, r, format)
	}
	b, err := r.Render(format)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Render returns r in the given format (see WriteTrend). A result is
// rendered once per format; the bytes are shared and must not be modified.
func (r *TrendResult) Render(format string) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if b, ok := r.rendered[format]; ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := WriteTrend(&buf, r, format); err != nil {
		return nil, err
	}
	if r.rendered == nil {
		r.rendered = map[string][]byte{}
	}
	r.rendered[format] = buf.Bytes()
	return buf.Bytes(), nil
}

// BucketTotal is the number of complaints in one bucket (after the where
// clause) and whether late complaints restated it.
type BucketTotal struct {
	Bucket     string `json:"bucket"`
	Total      int64  `json:"total"`
	Restated   bool   `json:"restated"`
	RestatedAt string `json:"restated_at,omitempty"`
	// Partial says the data cover only Covered (0 to 1) of the bucket's
	// time (see TrendResult.DataFrom).
	Partial bool    `json:"partial"`
	Covered float64 `json:"covered"`
}

// TrendRow holds the figures of one key in one bucket. Pointers are absent
// (null) when the figure is undefined or withheld: no percentage change from
// zero, no rate without a known active customer base, and no change or
// p-value against a bucket the data do not cover.
//
// When this bucket or the one it is compared with is partial (see
// BucketTotal.Partial), Change and PctChange compare this bucket's count with
// the other's scaled to the same length of covered time, and the p-value
// uses the covered lengths as exposures; when both are whole, Change is the
// plain difference of the counts.
type TrendRow struct {
	Bucket          string            `json:"bucket"`
	Key             map[string]string `json:"key"`
	Count           int64             `json:"count"`
	PrevCount       int64             `json:"prev_count"`
	Change          *int64            `json:"change"`
	PctChange       *float64          `json:"pct_change"`
	YoYCount        int64             `json:"yoy_count"`
	YoYChange       *int64            `json:"yoy_change"`
	YoYPctChange    *float64          `json:"yoy_pct_change"`
	Share           float64           `json:"share"`
	PValue          *float64          `json:"p_value"`
	Significant     bool              `json:"significant"`
	Partial         bool              `json:"partial"`
	Covered         float64           `json:"covered"`
	ActiveCustomers *int64            `json:"active_customers,omitempty"`
	RatePer1000     *float64          `json:"rate_per_1000,omitempty"`
	Restated        bool              `json:"restated"`
	RestatedAt      string            `json:"restated_at,omitempty"`
	LateCount       int64             `json:"late_count"`
	// PrevRestated and YoYRestated say that the bucket this row compares
	// with was restated by late events, which moved prev_count or yoy_count
	// (and so the change) although this bucket itself was not.
	PrevRestated bool `json:"prev_restated,omitempty"`
	YoYRestated  bool `json:"yoy_restated,omitempty"`
}

// Trends answers q from the trend projection of its dimensions, built on
// first use and kept live after, caught up with the log first (or, with
// q.AsOf, folded afresh up to that point). The result may be shared with
// other callers: do not modify it.
func (e *Engine) Trends(ctx context.Context, q TrendQuery) (*TrendResult, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	name, def := trendDefinition(q.keyDims(), q.Bucket)
	bname, bdef := baseDefinition()
	if !q.AsOf.IsZero() {
		seq, err := e.resolve(q.AsOf)
		if err != nil {
			return nil, err
		}
		// The question without its as_of, at the sequence it resolved to.
		plain := q
		plain.AsOf = AsOf{}
		key := fmt.Sprintf("trend %d %s %s", seq, name, plain.key())
		if r, ok := e.asOf.get(key); ok {
			return r.(*TrendResult), nil
		}
		tf, bf := e.wireTrend(newTrendFold(def.Dims, q.Bucket)), newBaseFold()
		for _, f := range []Fold{tf, bf} {
			if err := foldRange(ctx, e.log, f, 1, seq, &e.o, new(atomic.Uint64)); err != nil {
				return nil, err
			}
		}
		r, err := computeTrends(q, tf, bf, seq, e.recordTimeAt(seq))
		if err != nil {
			return nil, err
		}
		e.asOf.put(key, r)
		return r, nil
	}
	tp, err := e.ensure(name, def)
	if err != nil {
		return nil, err
	}
	tp.touch()
	bp, err := e.ensure(bname, bdef)
	if err != nil {
		return nil, err
	}
	// The answer must reflect every event committed before this question
	// came: one computed at that position or later serves it. Under ingest,
	// the position moves with every commit, and concurrent questions share
	// the answer the first of them computes instead of each computing its own.
	at := e.log.LastSeq()
	key := q.key()
	if r := tp.cachedAnswer(key, at); r != nil {
		return r, nil
	}
	for _, p := range []*projection{tp, bp} {
		if err := e.waitBuilt(ctx, p); err != nil {
			return nil, err
		}
	}
	// Both at the same position: lock both (trend first, everywhere) and
	// bring the one behind level.
	tp.mu.Lock()
	defer tp.mu.Unlock()
	bp.mu.Lock()
	defer bp.mu.Unlock()
	if r := tp.cachedAnswer(key, at); r != nil {
		return r, nil // computed while this question waited for the locks
	}
	to := max(tp.cp, bp.cp, at)
	for _, p := range []*projection{tp, bp} {
		if err := e.advanceLocked(ctx, p, to); err != nil {
			return nil, err
		}
	}
	r, err := computeTrends(q, tp.f.(*trendFold), bp.f.(*baseFold), to, e.recordTimeAt(to))
	if err != nil {
		return nil, err
	}
	e.computed.Add(1)
	tp.storeAnswer(key, to, r)
	return r, nil
}

type trendAgg struct {
	count, late, restatedAt int64
}

// computeTrends derives the result from the folds' state.
func computeTrends(q TrendQuery, tf *trendFold, bf *baseFold, seq uint64, heard int64) (*TrendResult, error) {
	alpha := q.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	posBy := make([]int, len(q.By))
	for i, d := range q.By {
		for j, x := range tf.dims {
			if x == d {
				posBy[i] = j
			}
		}
	}
	type cond struct {
		pos int
		ok  map[uint32]bool
	}
	var conds []cond
	for d, vals := range q.Where {
		c := cond{ok: map[uint32]bool{}}
		for j, x := range tf.dims {
			if x == d {
				c.pos = j
			}
		}
		for _, v := range vals {
			if id, ok := tf.tab.lookup(v); ok {
				c.ok[id] = true
			}
		}
		conds = append(conds, c)
	}
	type key [MaxTrendDims]uint32
	agg := map[key]map[int32]*trendAgg{}
	totals := map[int32]*trendAgg{}
	var lastB int32
	found := false
cells:
	for k, c := range tf.cells {
		for _, cd := range conds {
			if !cd.ok[k.v[cd.pos]] {
				continue cells
			}
		}
		var kk key
		for i, p := range posBy {
			kk[i] = k.v[p]
		}
		m := agg[kk]
		if m == nil {
			m = map[int32]*trendAgg{}
			agg[kk] = m
		}
		a := m[k.b]
		if a == nil {
			a = &trendAgg{}
			m[k.b] = a
		}
		t := totals[k.b]
		if t == nil {
			t = &trendAgg{}
			totals[k.b] = t
		}
		for _, x := range []*trendAgg{a, t} {
			x.count += c.count
			x.late += c.late
			x.restatedAt = max(x.restatedAt, c.restatedAt)
		}
		if !found || k.b > lastB {
			lastB = k.b
		}
		found = true
	}
	// The range of buckets.
	var lo, hi int32
	switch {
	case q.To != "":
		p, err := parsePeriodIn("to", q.Bucket, q.To)
		if err != nil {
			return nil, err
		}
		hi = indexOfPeriod(p)
	case found:
		hi = lastB
	default:
		hi = periodIndex(q.Bucket, time.Now().UnixNano())
	}
	lo = hi - defaultSpan + 1
	if found && q.From == "" {
		// No empty buckets before the data start: from the first bucket of
		// the default span that has complaints.
		first := hi + 1
		for b, t := range totals {
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
			return nil, err
		}
		lo = indexOfPeriod(p)
		if q.To == "" && !found {
			hi = lo + defaultSpan - 1
		}
	}
	if lo > hi {
		return nil, domain.FieldErrorf("from", "%s is after %s", periodAt(q.Bucket, lo), periodAt(q.Bucket, hi))
	}
	if hi-lo+1 > maxSpan {
		return nil, domain.FieldErrorf("from", "a trend covers at most %d buckets", maxSpan)
	}
	res := &TrendResult{TrendHeader: TrendHeader{By: q.By, Bucket: q.Bucket.String(), From: periodAt(q.Bucket, lo).String(),
		To: periodAt(q.Bucket, hi).String(), AsOfSeq: seq, Alpha: alpha, Buckets: []BucketTotal{}}, Rows: []TrendRow{}}
	if len(q.Where) > 0 {
		res.Where = map[string][]string{}
		for d, v := range q.Where {
			res.Where[string(d)] = v
		}
	}
	cov := coverageOf(tf, heard)
	if cov.known {
		res.DataFrom, res.DataTo = formatNanos(cov.from), formatNanos(cov.to)
	}
	for b := lo; b <= hi; b++ {
		bt := BucketTotal{Bucket: periodAt(q.Bucket, b).String()}
		_, bt.Covered = cov.days(q.Bucket, b)
		bt.Partial = bt.Covered < 1
		if t := totals[b]; t != nil {
			bt.Total = t.count
			if t.late > 0 {
				bt.Restated, bt.RestatedAt = true, formatNanos(t.restatedAt)
			}
		}
		res.Buckets = append(res.Buckets, bt)
	}
	// The keys with complaints in the range, in value order.
	type named struct {
		k    key
		vals []string
	}
	var keys []named
	for k, m := range agg {
		in := false
		for b, a := range m {
			in = in || b >= lo && b <= hi && a.count > 0
		}
		if !in {
			continue
		}
		n := named{k: k}
		for i := range q.By {
			n.vals = append(n.vals, tf.tab.str(k[i]))
		}
		keys = append(keys, n)
	}
	if n := len(keys) * int(hi-lo+1); tf.limit > 0 && n > tf.limit {
		return nil, &groupsError{de: domain.Errorf(domain.EINVALID,
			"this trend would have %d rows (%d keys × %d buckets), more than %d; ask for fewer buckets, fewer dimensions or a where clause, or raise --max-groups",
			n, len(keys), hi-lo+1, tf.limit)}
	}
	sort.Slice(keys, func(i, j int) bool { return lessStrings(keys[i].vals, keys[j].vals) })
	// Active customer bases.
	bases := bf.bases()
	segPos := -1
	for i, d := range q.By {
		if d == DimSegment {
			segPos = i
		}
	}
	get := func(m map[int32]*trendAgg, b int32) trendAgg {
		if a := m[b]; a != nil {
			return *a
		}
		return trendAgg{}
	}
	for b := lo; b <= hi; b++ {
		per := periodAt(q.Bucket, b)
		startDay, endDay := dayOf(per.Start.UnixNano()), dayOf(per.End().UnixNano())
		total := get(totals, b).count
		for _, n := range keys {
			m := agg[n.k]
			yb := yearAgoIndex(q.Bucket, b)
			cur, prev, yoy := get(m, b), get(m, b-1), get(m, yb)
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
			var segs []string
			switch {
			case segPos >= 0:
				segs = []string{n.vals[segPos]}
			case len(q.Where[DimSegment]) > 0:
				segs = q.Where[DimSegment]
			default:
				segs = []string{""}
			}
			var active int64
			known := false
			for _, s := range segs {
				if ab := bases[s]; ab != nil {
					if n, ok := ab.at(startDay, endDay); ok {
						active += n
						known = true
					}
				}
			}
			if known && active > 0 {
				a := active
				rate := round(float64(cur.count)*1000/float64(active), 3)
				r.ActiveCustomers, r.RatePer1000 = &a, &rate
			}
			res.Rows = append(res.Rows, r)
		}
	}
	return res, nil
}

func lessStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
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

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

func formatNanos(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

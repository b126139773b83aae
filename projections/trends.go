package projections

import (
	"context"
	"fmt"
	"strings"
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
	fmt.Fprintf(&b, " as_of=%d/%d/%d alpha=%v", q.AsOf.Seq, q.AsOf.Time.UnixNano(), q.AsOf.Stream, q.Alpha)
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
		if q.AsOf.Stream > 0 {
			// The answer names the stream position, not this node's
			// sequence, so that every node gives the same bytes.
			key = fmt.Sprintf("trend %d stream %d %s %s", seq, q.AsOf.Stream, name, plain.key())
		}
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
		if q.AsOf.Stream > 0 {
			r.AsOfSeq, r.AsOfStream = 0, q.AsOf.Stream
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
	if r, ok := tp.answers.get(key, at); ok {
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
	if r, ok := tp.answers.get(key, at); ok {
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
	tp.answers.put(key, to, r)
	return r, nil
}

// computeTrends answers q from the folds' state at seq (heard: the record
// time of the last event then): the cells of the query's keys summed, the
// range of buckets, the buckets' totals, the keys in the range and a row
// for each key in each bucket.
func computeTrends(q TrendQuery, tf *trendFold, bf *baseFold, seq uint64, heard int64) (*TrendResult, error) {
	alpha := q.Alpha
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	a := aggregateTrend(q, tf)
	lo, hi, err := bucketRange(q, a)
	if err != nil {
		return nil, err
	}
	cov := coverageOf(tf, heard)
	res := &TrendResult{TrendHeader: trendHeader(q, a, lo, hi, seq, alpha, cov), Rows: []TrendRow{}}
	keys, err := keysInRange(q, tf, a, lo, hi)
	if err != nil {
		return nil, err
	}
	bases, segPos := bf.bases(), segmentPos(q)
	for b := lo; b <= hi; b++ {
		for _, n := range keys {
			res.Rows = append(res.Rows, trendRow(q, a, n, b, cov, bases, segPos, alpha))
		}
	}
	return res, nil
}

// trendHeader is what an answer says besides its rows: the question, the
// span of time the data cover, and each bucket's total.
func trendHeader(q TrendQuery, a *trendAggs, lo, hi int32, seq uint64, alpha float64, cov coverage) TrendHeader {
	h := TrendHeader{By: q.By, Bucket: q.Bucket.String(), From: periodAt(q.Bucket, lo).String(),
		To: periodAt(q.Bucket, hi).String(), AsOfSeq: seq, Alpha: alpha, Buckets: []BucketTotal{}}
	if len(q.Where) > 0 {
		h.Where = map[string][]string{}
		for d, v := range q.Where {
			h.Where[string(d)] = v
		}
	}
	if cov.known {
		h.DataFrom, h.DataTo = formatNanos(cov.from), formatNanos(cov.to)
	}
	for b := lo; b <= hi; b++ {
		bt := BucketTotal{Bucket: periodAt(q.Bucket, b).String()}
		_, bt.Covered = cov.days(q.Bucket, b)
		bt.Partial = bt.Covered < 1
		if t := a.totals[b]; t != nil {
			bt.Total = t.count
			if t.late > 0 {
				bt.Restated, bt.RestatedAt = true, formatNanos(t.restatedAt)
			}
		}
		h.Buckets = append(h.Buckets, bt)
	}
	return h
}

func formatNanos(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }

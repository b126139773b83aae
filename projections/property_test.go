package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func withParallelMin(n uint64) Option { return func(o *options) { o.parallelMin = n } }

// naiveDim returns d's value in ev after upcasting, computed independently
// of the engine's record accessors.
func naiveDim(ev domain.Event, d Dimension) string {
	domain.Upcast(&ev)
	return d.value(&ev)
}

type naiveCell struct {
	count, late, restatedAt int64
}

// propertyGrace is the restatement grace of the property tests: the test
// clock moves an hour per batch, so late complaints do occur.
const propertyGrace = 3 * time.Hour

// naiveTrend recomputes a trend from the stored events the slow, obvious way.
func naiveTrend(evs []stored, q TrendQuery, lo, hi int32) map[string]TrendRow {
	cells := map[string]map[int32]*naiveCell{}
	totals := map[int32]int64{}
	// A bucket is reported once the log holds an event in it and one in a
	// later bucket; reported[b] is the record time of whichever came last.
	// A complaint stored more than the grace after that is late.
	inBucket := map[int32]bool{}
	reported := map[int32]int64{}
	for _, s := range evs {
		b := indexOfPeriod(domain.PeriodOf(q.Bucket, s.ev.Time))
		if !inBucket[b] {
			inBucket[b] = true
			// This event is in b: every bucket before b that has events,
			// and is not reported yet, is reported now; so is b if a later
			// bucket already has events.
			for x := range inBucket {
				if x < b {
					if _, ok := reported[x]; !ok {
						reported[x] = s.rt
					}
				}
				if x > b {
					if _, ok := reported[b]; !ok {
						reported[b] = s.rt
					}
				}
			}
		}
		if s.ev.Type != domain.TypeComplaintFiled {
			continue
		}
		rep, wasReported := reported[b]
		late := wasReported && s.rt > rep+int64(propertyGrace)
		ok := true
		for d, vals := range q.Where {
			ok = ok && contains(vals, naiveDim(s.ev, d))
		}
		if !ok {
			continue
		}
		var parts []string
		for _, d := range q.By {
			parts = append(parts, naiveDim(s.ev, d))
		}
		k := strings.Join(parts, "|")
		if cells[k] == nil {
			cells[k] = map[int32]*naiveCell{}
		}
		c := cells[k][b]
		if c == nil {
			c = &naiveCell{}
			cells[k][b] = c
		}
		c.count++
		totals[b]++
		if late {
			c.late++
			c.restatedAt = max(c.restatedAt, s.rt)
		}
	}
	// Customers: first acquisition (event time, then sequence) and last defection.
	type cust struct {
		acq    time.Time
		acqSeq uint64
		seg    string
		def    time.Time
	}
	custs := map[string]*cust{}
	for _, s := range evs {
		c := custs[s.ev.Data.CustomerID]
		switch s.ev.Type {
		case domain.TypeCustomerAcquired:
			if c == nil {
				c = &cust{}
				custs[s.ev.Data.CustomerID] = c
			}
			if c.acq.IsZero() || s.ev.Time.Before(c.acq) || s.ev.Time.Equal(c.acq) && s.seq < c.acqSeq {
				c.acq, c.acqSeq, c.seg = s.ev.Time, s.seq, s.ev.Data.Segment
			}
		case domain.TypeCustomerDefected:
			if c == nil {
				c = &cust{}
				custs[s.ev.Data.CustomerID] = c
			}
			if s.ev.Time.After(c.def) {
				c.def = s.ev.Time
			}
		}
	}
	active := func(segs []string, p domain.Period) (int64, bool) {
		var n int64
		known := false
		for _, c := range custs {
			if c.acq.IsZero() || (len(segs) > 0 && !contains(segs, c.seg)) {
				continue
			}
			if !c.acq.Before(p.End()) {
				continue
			}
			known = true
			if !c.def.IsZero() && !c.def.Before(c.acq) && c.def.Before(p.Start) {
				continue
			}
			n++
		}
		return n, known
	}
	// The data's coverage: whole UTC days from the first event to the last,
	// cut at the last record time while that day goes on.
	var first, last time.Time
	var heard time.Time
	for _, s := range evs {
		heard = time.Unix(0, s.rt).UTC()
		if first.IsZero() || s.ev.Time.Before(first) {
			first = s.ev.Time
		}
		if last.IsZero() || s.ev.Time.After(last) {
			last = s.ev.Time
		}
	}
	covFrom := first.UTC().Truncate(24 * time.Hour)
	covTo := last.UTC().Truncate(24 * time.Hour).Add(24 * time.Hour)
	if heard.After(last) && heard.Before(covTo) {
		covTo = heard
	}
	// covered returns the covered days of p and their share of it.
	covered := func(p domain.Period) (float64, float64) {
		full := p.End().Sub(p.Start).Hours() / 24
		if first.IsZero() {
			return full, 1
		}
		lo, hi := p.Start, p.End()
		if covFrom.After(lo) {
			lo = covFrom
		}
		if covTo.Before(hi) {
			hi = covTo
		}
		if !hi.After(lo) {
			return 0, 0
		}
		d := hi.Sub(lo).Hours() / 24
		return d, math.Round(d/full*1e4) / 1e4
	}
	// versus compares cur over tc covered days with other over to days.
	versus := func(cur, other int64, tc, sc, to, so float64) (*int64, *float64) {
		if tc == 0 || to == 0 {
			return nil, nil
		}
		exp := float64(other)
		ch := cur - other
		if sc < 1 || so < 1 {
			exp = float64(other) * tc / to
			ch = cur - int64(math.Round(exp))
		}
		if exp == 0 {
			return &ch, nil
		}
		v := math.Round((float64(cur)-exp)*100/exp*100) / 100
		return &ch, &v
	}
	out := map[string]TrendRow{}
	for k, m := range cells {
		in := false
		for b, c := range m {
			in = in || b >= lo && b <= hi && c.count > 0
		}
		if !in {
			continue
		}
		vals := strings.Split(k, "|")
		get := func(b int32) naiveCell {
			if c := m[b]; c != nil {
				return *c
			}
			return naiveCell{}
		}
		for b := lo; b <= hi; b++ {
			p := periodAt(q.Bucket, b)
			cur, prev, yoy := get(b), get(b-1), get(indexOfPeriod(p.YearAgo()))
			r := TrendRow{Bucket: p.String(), Key: map[string]string{}, Count: cur.count, PrevCount: prev.count,
				YoYCount: yoy.count, LateCount: cur.late}
			for i, d := range q.By {
				r.Key[string(d)] = vals[i]
			}
			if totals[b] > 0 {
				r.Share = round(float64(cur.count)/float64(totals[b]), 6)
			}
			tc, sc := covered(p)
			tp, sp := covered(p.Prev())
			ty, sy := covered(p.YearAgo())
			r.Partial, r.Covered = sc < 1, sc
			r.Change, r.PctChange = versus(cur.count, prev.count, tc, sc, tp, sp)
			r.YoYChange, r.YoYPctChange = versus(cur.count, yoy.count, tc, sc, ty, sy)
			if tc > 0 && tp > 0 {
				pv := roundSig(PoissonRatioPValue(cur.count, prev.count, tc, tp), 6)
				r.PValue = &pv
			}
			if cur.late > 0 {
				r.Restated, r.RestatedAt = true, formatNanos(cur.restatedAt)
			}
			r.PrevRestated, r.YoYRestated = prev.late > 0, yoy.late > 0
			var segs []string
			for i, d := range q.By {
				if d == DimSegment {
					segs = []string{vals[i]}
				}
			}
			if segs == nil {
				segs = q.Where[DimSegment]
			}
			if n, known := active(segs, p); known && n > 0 {
				rate := round(float64(cur.count)*1000/float64(n), 3)
				r.ActiveCustomers, r.RatePer1000 = &n, &rate
			}
			out[r.Bucket+"|"+k] = r
		}
	}
	return out
}

func checkTrend(t *testing.T, got *TrendResult, evs []stored, q TrendQuery) {
	t.Helper()
	lo, _ := domain.ParsePeriod(q.Bucket, q.From)
	hi, _ := domain.ParsePeriod(q.Bucket, q.To)
	want := naiveTrend(evs, q, indexOfPeriod(lo), indexOfPeriod(hi))
	if len(got.Rows) != len(want) {
		t.Fatalf("%v: %d rows, want %d", q.key(), len(got.Rows), len(want))
	}
	for _, r := range got.Rows {
		var parts []string
		for _, d := range q.By {
			parts = append(parts, r.Key[string(d)])
		}
		w, ok := want[r.Bucket+"|"+strings.Join(parts, "|")]
		if !ok {
			t.Fatalf("%v: unexpected row %+v", q.key(), r)
		}
		if r.Count != w.Count || r.PrevCount != w.PrevCount || r.YoYCount != w.YoYCount || r.Share != w.Share ||
			fmt.Sprint(deref(r.PValue)) != fmt.Sprint(deref(w.PValue)) || fmt.Sprint(deref(r.Change)) != fmt.Sprint(deref(w.Change)) ||
			fmt.Sprint(deref(r.PctChange)) != fmt.Sprint(deref(w.PctChange)) || fmt.Sprint(deref(r.YoYChange)) != fmt.Sprint(deref(w.YoYChange)) ||
			fmt.Sprint(deref(r.YoYPctChange)) != fmt.Sprint(deref(w.YoYPctChange)) || r.Partial != w.Partial || r.Covered != w.Covered ||
			r.LateCount != w.LateCount || r.Restated != w.Restated || r.RestatedAt != w.RestatedAt ||
			r.PrevRestated != w.PrevRestated || r.YoYRestated != w.YoYRestated ||
			fmt.Sprint(deref(r.ActiveCustomers)) != fmt.Sprint(deref(w.ActiveCustomers)) ||
			fmt.Sprint(deref(r.RatePer1000)) != fmt.Sprint(deref(w.RatePer1000)) {
			t.Fatalf("%v: row %s %v\n got %+v active=%v rate=%v\nwant %+v active=%v rate=%v", q.key(), r.Bucket, parts,
				r, deref(r.ActiveCustomers), deref(r.RatePer1000), w, deref(w.ActiveCustomers), deref(w.RatePer1000))
		}
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

var propertyQueries = []TrendQuery{
	{By: []Dimension{DimCategory}, Bucket: domain.BucketMonth, From: "2023-06", To: "2027-01"},
	{By: []Dimension{DimSegment, DimCategory}, Bucket: domain.BucketMonth, From: "2024-01", To: "2026-12"},
	{By: []Dimension{DimChannel, DimSeverity, DimRegion}, Bucket: domain.BucketQuarter, From: "2024-Q1", To: "2026-Q4"},
	{By: []Dimension{DimCategory}, Bucket: domain.BucketWeek, From: "2025-W01", To: "2025-W30",
		Where: map[Dimension][]string{DimSegment: {"enterprise", "smb"}}},
	{By: []Dimension{DimRegion}, Bucket: domain.BucketMonth, From: "2025-01", To: "2025-12",
		Where: map[Dimension][]string{DimCategory: {"delivery"}, DimChannel: {"phone"}}},
}

// TestTrendsEqualNaiveRecomputation is the property test: for random event
// sets with late, duplicate and v0 events, appended in random batches and
// folded incrementally (in parallel parts), every trend equals a naive
// recomputation from the raw events, live and as of earlier points.
func TestTrendsEqualNaiveRecomputation(t *testing.T) {
	trendsEqualNaive(t, 6)
}

// trendsEqualNaive runs the trend property test for seeds 1 to seeds on an
// engine of 3 workers with the options more added.
func trendsEqualNaive(t *testing.T, seeds uint64, more ...Option) {
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			opts := append([]Option{WithWorkers(3), withParallelMin(1), WithChunk(97), WithCheckpointEvery(0),
				WithRestateGrace(propertyGrace)}, more...)
			e := openTestEngine(t, l, filepath.Join(dir, "projections.db"), opts...)
			g := newGen(seed)
			var all []stored
			ctx := context.Background()
			for round := 0; round < 4; round++ {
				all = append(all, appendRandom(t, l, g, 150+g.r.IntN(300))...)
				for _, q := range propertyQueries {
					got, err := e.Trends(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					if got.AsOfSeq != l.LastSeq() {
						t.Fatalf("as_of_seq %d, log at %d", got.AsOfSeq, l.LastSeq())
					}
					checkTrend(t, got, all, q)
				}
			}
			// As of a sequence, and as of a record time.
			mid := all[len(all)/2]
			for _, q := range propertyQueries[:2] {
				q.AsOf = AsOf{Seq: mid.seq}
				got, err := e.Trends(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				checkTrend(t, got, all[:len(all)/2+1], q)
				q.AsOf = AsOf{Time: time.Unix(0, mid.rt)}
				got, err = e.Trends(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				n := sort.Search(len(all), func(i int) bool { return all[i].rt > mid.rt })
				checkTrend(t, got, all[:n], q)
			}
		})
	}
}

type naiveSpecCell struct {
	count, sumAmount, amountN, sevSum, sevN int64
	custs                                   map[string]bool
}

// ratText renders num/den rounded half-even to 4 decimal places without
// trailing zeros, computed with math/big (independently of apd).
func ratText(num, den int64) string {
	r := new(big.Rat).SetFrac64(num*10000, den)
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	twice := new(big.Int).Mul(m, big.NewInt(2))
	if c := twice.Cmp(r.Denom()); c > 0 || c == 0 && q.Bit(0) == 1 {
		q.Add(q, big.NewInt(1))
	}
	s := fmt.Sprintf("%d.%04d", new(big.Int).Quo(q, big.NewInt(10000)), new(big.Int).Rem(q, big.NewInt(10000)))
	return strings.TrimRight(strings.TrimRight(s, "0"), ".")
}

// TestSpecEqualsNaiveRecomputation checks a spec projection against a naive
// recomputation, live after several batches and after a reopen.
func TestSpecEqualsNaiveRecomputation(t *testing.T) {
	src := `
name: complaints_and_revenue
filter:
  types: [complaint.filed, revenue.recorded]
  where:
    segment: [enterprise, smb]
  from: 2024-03-01
  to: 2026-09
group_by: [type, category, currency]
bucket: quarter
measures: [count, sum:amount, distinct:customer_id, avg:severity]
`
	sp, err := ParseSpec([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	state := filepath.Join(dir, "projections.db")
	e := openTestEngine(t, l, state, WithWorkers(2), withParallelMin(1), WithChunk(50), WithCheckpointEvery(0))
	g := newGen(42)
	var all []stored
	ctx := context.Background()
	check := func(e *Engine) {
		t.Helper()
		got, err := e.Query(ctx, sp.Name, AsOf{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]*naiveSpecCell{}
		from, to := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)
		for _, s := range all {
			ev := s.ev
			domain.Upcast(&ev)
			if ev.Type != domain.TypeComplaintFiled && ev.Type != domain.TypeRevenueRecorded ||
				ev.Time.Before(from) || !ev.Time.Before(to) || ev.Data.Segment != "enterprise" && ev.Data.Segment != "smb" {
				continue
			}
			none := func(s string) string {
				if s == "" {
					return NoneLabel
				}
				return s
			}
			k := strings.Join([]string{domain.PeriodOf(domain.BucketQuarter, ev.Time).String(), ev.Type.String(), none(ev.Data.Category), none(ev.Data.Currency)}, ",")
			c := want[k]
			if c == nil {
				c = &naiveSpecCell{custs: map[string]bool{}}
				want[k] = c
			}
			c.count++
			if ev.Data.Currency != "" {
				c.sumAmount += int64(ev.Data.Amount)
				c.amountN++
			}
			if ev.Data.Severity > 0 {
				c.sevSum += int64(ev.Data.Severity)
				c.sevN++
			}
			c.custs[ev.Data.CustomerID] = true
		}
		if len(got.Rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(got.Rows), len(want))
		}
		for _, r := range got.Rows {
			k := strings.Join(cellStrings(r[:4]), ",")
			w := want[k]
			if w == nil {
				t.Fatalf("unexpected row %v", r)
			}
			// Sums are decimals in the currency; a group without any
			// amount has no sum (never a silent zero).
			var sum, avg any
			if w.amountN > 0 {
				sum = json.Number(domain.Money(w.sumAmount).Format(r[3].(string)))
			}
			if w.sevN > 0 {
				avg = json.Number(ratText(w.sevSum, w.sevN))
			}
			if r[4] != w.count || r[5] != sum || r[6] != int64(len(w.custs)) || r[7] != avg {
				t.Fatalf("row %v, want count %d sum %v distinct %d avg %v", r, w.count, sum, len(w.custs), avg)
			}
		}
	}
	all = append(all, appendRandom(t, l, g, 400)...)
	if _, err := e.Create(sp); err != nil {
		t.Fatal(err)
	}
	check(e)
	for i := 0; i < 3; i++ {
		all = append(all, appendRandom(t, l, g, 200)...)
		check(e)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTestEngine(t, l, state)
	all = append(all, appendRandom(t, l, g, 100)...)
	check(e2)
}

var _ = binary.LittleEndian

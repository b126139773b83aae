package projections

// trendAgg is what a trend sums per key and bucket: complaints, late ones,
// and the record time of the latest late one.
type trendAgg struct {
	count, late, restatedAt int64
}

// add adds a cell's figures.
func (a *trendAgg) add(c *trendCell) {
	a.count += c.count
	a.late += c.late
	a.restatedAt = max(a.restatedAt, c.restatedAt)
}

// aggKey is the local ids of a key's values, in the order of the query's
// breakdown.
type aggKey [MaxTrendDims]uint32

// trendAggs is a trend fold's cells that pass a query's where clause,
// summed under the query's breakdown: the first step of an answer.
type trendAggs struct {
	byKey  map[aggKey]map[int32]*trendAgg // key → bucket → figures
	totals map[int32]*trendAgg            // bucket → figures of all keys
	last   int32                          // the last bucket with a cell
	found  bool                           // any cell passed
}

// aggregateTrend sums tf's cells that pass q's where clause by q's
// breakdown, which may name fewer dimensions than tf keys by.
func aggregateTrend(q TrendQuery, tf *trendFold) *trendAggs {
	posBy := make([]int, len(q.By))
	for i, d := range q.By {
		posBy[i] = tf.dimPos(d)
	}
	type cond struct {
		pos int
		ok  map[uint32]bool
	}
	var conds []cond
	for d, vals := range q.Where {
		c := cond{pos: tf.dimPos(d), ok: map[uint32]bool{}}
		for _, v := range vals {
			if id, ok := tf.tab.Lookup(v); ok {
				c.ok[id] = true
			}
		}
		conds = append(conds, c)
	}
	a := &trendAggs{byKey: map[aggKey]map[int32]*trendAgg{}, totals: map[int32]*trendAgg{}}
cells:
	for k, c := range tf.cells {
		for _, cd := range conds {
			if !cd.ok[k.v[cd.pos]] {
				continue cells
			}
		}
		var kk aggKey
		for i, p := range posBy {
			kk[i] = k.v[p]
		}
		m := a.byKey[kk]
		if m == nil {
			m = map[int32]*trendAgg{}
			a.byKey[kk] = m
		}
		for _, x := range []*trendAgg{aggAt(m, k.b), aggAt(a.totals, k.b)} {
			x.add(c)
		}
		if !a.found || k.b > a.last {
			a.last = k.b
		}
		a.found = true
	}
	return a
}

// dimPos returns the position of d among the dimensions f keys by.
func (f *trendFold) dimPos(d Dimension) int {
	pos := 0
	for j, x := range f.dims {
		if x == d {
			pos = j
		}
	}
	return pos
}

// aggAt returns m's figures of bucket b, adding them when missing.
func aggAt(m map[int32]*trendAgg, b int32) *trendAgg {
	x := m[b]
	if x == nil {
		x = &trendAgg{}
		m[b] = x
	}
	return x
}

// figuresAt returns m's figures of bucket b, zero when missing.
func figuresAt(m map[int32]*trendAgg, b int32) trendAgg {
	if a := m[b]; a != nil {
		return *a
	}
	return trendAgg{}
}

package projections

// segmentsOf returns the segments whose active customers a row's rate is
// per: the row's own segment (its value at segPos of the breakdown, when
// the query breaks down by segment), else those of the where clause, else
// all customers ("").
func segmentsOf(q TrendQuery, segPos int, vals []string) []string {
	switch {
	case segPos >= 0:
		return []string{vals[segPos]}
	case len(q.Where[DimSegment]) > 0:
		return q.Where[DimSegment]
	default:
		return []string{""}
	}
}

// activeIn returns the customers of segs active at some time during the
// days [startDay, endDay); known is false when no segment's base is known
// then.
func activeIn(bases map[string]*activeBase, segs []string, startDay, endDay int64) (active int64, known bool) {
	for _, s := range segs {
		if ab := bases[s]; ab != nil {
			if n, ok := ab.at(startDay, endDay); ok {
				active += n
				known = true
			}
		}
	}
	return active, known
}

// segmentPos returns the position of the segment in q's breakdown, or -1.
func segmentPos(q TrendQuery) int {
	segPos := -1
	for i, d := range q.By {
		if d == DimSegment {
			segPos = i
		}
	}
	return segPos
}

package projections

import (
	"sort"

	"github.com/plaint/plaint/domain"
)

// namedKey is one key of a trend answer and its values.
type namedKey struct {
	k    aggKey
	vals []string
}

// keysInRange returns the keys with complaints in buckets lo..hi, in value
// order, or an error when they would make more rows than tf's bound.
func keysInRange(q TrendQuery, tf *trendFold, a *trendAggs, lo, hi int32) ([]namedKey, error) {
	var keys []namedKey
	for k, m := range a.byKey {
		in := false
		for b, x := range m {
			in = in || b >= lo && b <= hi && x.count > 0
		}
		if !in {
			continue
		}
		n := namedKey{k: k}
		for i := range q.By {
			n.vals = append(n.vals, tf.tab.Str(k[i]))
		}
		keys = append(keys, n)
	}
	if n := len(keys) * int(hi-lo+1); tf.limit > 0 && n > tf.limit {
		return nil, &groupsError{de: domain.Errorf(domain.EINVALID,
			"this trend would have %d rows (%d keys × %d buckets), more than %d; ask for fewer buckets, fewer dimensions or a where clause, or raise --max-groups",
			n, len(keys), hi-lo+1, tf.limit)}
	}
	sort.Slice(keys, func(i, j int) bool { return lessStrings(keys[i].vals, keys[j].vals) })
	return keys, nil
}

func lessStrings(a, b []string) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}

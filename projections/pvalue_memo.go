package projections

import (
	"math"
	"strconv"
	"sync"
)

// pvalueMemo remembers p-values: between two positions of a live log most
// rows of a trend keep their counts (new complaints land in the latest
// buckets), and the exact test is most of the cost of an answer.
var pvalueMemo = struct {
	sync.Mutex
	m map[pvalueKey]float64
}{m: map[pvalueKey]float64{}}

type pvalueKey struct {
	k1, k2 int64
	t1, t2 float64
}

// maxPvalueMemo bounds the memo; it is emptied when full.
const maxPvalueMemo = 1 << 16

// memoPValue is roundSig(PoissonRatioPValue(k1, k2, t1, t2), 6), remembered.
func memoPValue(k1, k2 int64, t1, t2 float64) float64 {
	key := pvalueKey{k1, k2, t1, t2}
	pvalueMemo.Lock()
	p, ok := pvalueMemo.m[key]
	pvalueMemo.Unlock()
	if ok {
		return p
	}
	p = roundSig(PoissonRatioPValue(k1, k2, t1, t2), 6)
	pvalueMemo.Lock()
	if len(pvalueMemo.m) >= maxPvalueMemo {
		clear(pvalueMemo.m)
	}
	pvalueMemo.m[key] = p
	pvalueMemo.Unlock()
	return p
}

// roundSig rounds v to n significant digits.
func roundSig(v float64, n int) float64 {
	if v == 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', n, 64), 64)
	return f
}

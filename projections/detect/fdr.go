package detect

import (
	"math"
	"sort"
)

// BenjaminiHochberg returns the Benjamini–Hochberg adjusted p-values
// (q-values) of p, as R's p.adjust(p, "BH"): q_(i) = min over j >= i of
// m/j · p_(j), capped at 1, with m the number of non-NaN p-values. NaN
// p-values (series that were not tested) get a NaN q-value and do not count
// in m. Rejecting every hypothesis with q <= Q controls the false discovery
// rate at Q for independent or positively dependent tests.
func BenjaminiHochberg(p []float64) []float64 {
	q := make([]float64, len(p))
	idx := make([]int, 0, len(p))
	for i, v := range p {
		q[i] = math.NaN()
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	// Sort by p (stable on index, so equal p-values keep a deterministic
	// order), then take the running minimum from the largest down.
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := float64(len(idx))
	run := 1.0
	for r := len(idx) - 1; r >= 0; r-- {
		i := idx[r]
		run = math.Min(run, m/float64(r+1)*p[i])
		q[i] = run
	}
	return q
}

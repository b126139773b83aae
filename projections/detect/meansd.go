package detect

import "math"

// MeanSD returns the mean and the sample standard deviation (n - 1) of xs,
// summed in order, as the EARS baselines and the window's recent level
// read them (and the harness's mean + k·sd baselines of other products).
func MeanSD(xs []float64) (mean, sd float64) {
	for _, v := range xs {
		mean += v
	}
	mean /= float64(len(xs))
	ss := 0.0
	for _, v := range xs {
		ss += (v - mean) * (v - mean)
	}
	return mean, math.Sqrt(ss / float64(len(xs)-1))
}

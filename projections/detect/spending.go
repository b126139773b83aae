package detect

import "math"

// Spending names how a running period's FDR level grows with its exposure:
// the period is looked at again and again as it fills (every midnight, and
// when a complaint arrives), and the level of each look is what a
// group-sequential alpha-spending function allows at that information
// fraction, so that the looks of a week together do not multiply its
// false alarms. The complete period gets the full Q.
type Spending string

const (
	// SpendingLinear is Q·exposure (Pocock-like: early looks are as
	// willing as late ones, per unit of information).
	SpendingLinear Spending = "linear"
	// SpendingOBrienFleming is the Lan–DeMets (1983) O'Brien–Fleming-type
	// function, 2·(1 − Φ(z_{1−Q/2} / √exposure)): almost nothing on the
	// first day of a week, most of Q kept for its end.
	SpendingOBrienFleming Spending = "obrien-fleming"
)

// level is the FDR level of a look at a period with the given exposure.
func (s Spending) level(q, exposure float64) float64 {
	if !(exposure > 0) {
		return 0
	}
	if exposure >= 1 {
		return q
	}
	if s == SpendingLinear {
		return q * exposure
	}
	z := normalQuantile(1-q/2) / math.Sqrt(exposure)
	return math.Erfc(z / math.Sqrt2)
}

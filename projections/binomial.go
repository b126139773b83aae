package projections

import "math"

// PoissonRatioPValue is the two-sided exact conditional test of two Poisson
// counts: k1 events over exposure t1 against k2 over t2. Given n = k1+k2, k1
// is Binomial(n, t1/(t1+t2)) when the rates are equal; the p-value is the
// probability of every outcome no more likely than k1 (the method of R's
// binom.test and poisson.test). It returns 1 when n is 0.
func PoissonRatioPValue(k1, k2 int64, t1, t2 float64) float64 {
	n := k1 + k2
	if n == 0 || k1 < 0 || k2 < 0 {
		return 1
	}
	return binomTwoSided(k1, n, t1/(t1+t2))
}

// binomTwoSided is the two-sided exact binomial test p-value of x successes
// in n trials with success probability p.
func binomTwoSided(x, n int64, p float64) float64 {
	const relErr = 1 + 1e-7
	m := float64(n) * p
	d := logPMF(x, n, p)
	if math.Abs(float64(x)-m) < 1e-12 { // at the mode of a symmetric case
		return 1
	}
	var pv float64
	if float64(x) < m {
		// y = number of outcomes i in [ceil(m), n] with pmf(i) <= pmf(x).
		lo := int64(math.Ceil(m))
		// The pmf decreases on [lo, n]; find the first i with pmf(i) <= d*relErr.
		first := searchInt64(lo, n+1, func(i int64) bool { return logPMF(i, n, p) <= d+math.Log(relErr) })
		pv = binomCDF(x, n, p) + binomUpper(first, n, p)
	} else {
		hi := int64(math.Floor(m))
		// The pmf increases on [0, hi]; find the last i with pmf(i) <= d*relErr.
		last := searchInt64(0, hi+1, func(i int64) bool { return logPMF(i, n, p) > d+math.Log(relErr) }) - 1
		pv = binomUpper(x, n, p)
		if last >= 0 {
			pv += binomCDF(last, n, p)
		}
	}
	return math.Min(1, pv)
}

// searchInt64 returns the smallest i in [lo, hi) with f(i) true, or hi; f
// must be false then true over the range.
func searchInt64(lo, hi int64, f func(int64) bool) int64 {
	for lo < hi {
		mid := lo + (hi-lo)/2
		if f(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

// logPMF is log P(X = k) for X ~ Binomial(n, p).
func logPMF(k, n int64, p float64) float64 {
	if k < 0 || k > n {
		return math.Inf(-1)
	}
	switch p {
	case 0:
		if k == 0 {
			return 0
		}
		return math.Inf(-1)
	case 1:
		if k == n {
			return 0
		}
		return math.Inf(-1)
	}
	return lchoose(n, k) + float64(k)*math.Log(p) + float64(n-k)*math.Log1p(-p)
}

func lchoose(n, k int64) float64 {
	a, _ := math.Lgamma(float64(n) + 1)
	b, _ := math.Lgamma(float64(k) + 1)
	c, _ := math.Lgamma(float64(n-k) + 1)
	return a - b - c
}

// binomCDF is P(X <= k).
func binomCDF(k, n int64, p float64) float64 {
	switch {
	case k < 0:
		return 0
	case k >= n:
		return 1
	}
	return regIncBeta(float64(n-k), float64(k+1), 1-p)
}

// binomUpper is P(X >= k).
func binomUpper(k, n int64, p float64) float64 {
	switch {
	case k <= 0:
		return 1
	case k > n:
		return 0
	}
	return regIncBeta(float64(k), float64(n-k+1), p)
}

// regIncBeta is the regularised incomplete beta function I_x(a, b), by the
// continued fraction of Numerical Recipes (betacf).
func regIncBeta(a, b, x float64) float64 {
	switch {
	case x <= 0:
		return 0
	case x >= 1:
		return 1
	}
	la, _ := math.Lgamma(a + b)
	lb, _ := math.Lgamma(a)
	lc, _ := math.Lgamma(b)
	front := math.Exp(la - lb - lc + a*math.Log(x) + b*math.Log1p(-x))
	if x < (a+1)/(a+b+2) {
		return front * betacf(a, b, x) / a
	}
	return 1 - front*betacf(b, a, 1-x)/b
}

// cfMin keeps the continued fraction's terms away from zero.
const cfMin = 1e-300

// betacf evaluates the continued fraction of the regularized incomplete
// beta function by the modified Lentz method.
func betacf(a, b, x float64) float64 {
	const (
		maxIter = 10000
		eps     = 1e-15
	)
	qab, qap, qam := a+b, a+1, a-1
	c, d := 1.0, 1-qab*x/qap
	if math.Abs(d) < cfMin {
		d = cfMin
	}
	d = 1 / d
	h := d
	for m := 1; m <= maxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		h *= lentzStep(fm*(b-fm)*x/((qam+m2)*(a+m2)), &c, &d)
		del := lentzStep(-(a+fm)*(qab+fm)*x/((a+m2)*(qap+m2)), &c, &d)
		h *= del
		if math.Abs(del-1) < eps {
			break
		}
	}
	return h
}

// lentzStep applies the term aa to the Lentz method's c and d and returns
// the factor it multiplies the fraction by.
func lentzStep(aa float64, c, d *float64) float64 {
	*d = 1 + aa**d
	if math.Abs(*d) < cfMin {
		*d = cfMin
	}
	*c = 1 + aa / *c
	if math.Abs(*c) < cfMin {
		*c = cfMin
	}
	*d = 1 / *d
	return *d * *c
}

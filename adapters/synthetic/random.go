package synthetic

import (
	"math"
	"math/rand/v2"

	"github.com/google/uuid"
)

// random wraps a seeded generator with the draws the simulation needs. Every
// draw comes from it, in a fixed order, so a seed fixes the whole history.
type random struct {
	r *rand.Rand
}

func newRandom(seed int64) *random {
	return &random{r: rand.New(rand.NewPCG(uint64(seed), 0x706c61696e74))} // "plaint"
}

// float returns a number in [0, 1).
func (x *random) float() float64 { return x.r.Float64() }

// chance reports true with probability p.
func (x *random) chance(p float64) bool { return x.r.Float64() < p }

// intn returns a number in [0, n).
func (x *random) intn(n int) int { return x.r.IntN(n) }

// between returns a number in [lo, hi].
func (x *random) between(lo, hi int64) int64 { return lo + x.r.Int64N(hi-lo+1) }

// index picks an index with probability proportional to its weight.
func (x *random) index(weights []float64) int {
	var total float64
	for _, w := range weights {
		total += w
	}
	v := x.r.Float64() * total
	for i, w := range weights {
		if v < w {
			return i
		}
		v -= w
	}
	return len(weights) - 1
}

// pick returns the name of a weighted choice.
func (x *random) pick(ws []weighted) string {
	var total float64
	for _, w := range ws {
		total += w.weight
	}
	v := x.r.Float64() * total
	for _, w := range ws {
		if v < w.weight {
			return w.name
		}
		v -= w.weight
	}
	return ws[len(ws)-1].name
}

// poisson draws a Poisson-distributed count with mean lambda (Knuth's method;
// lambda is small here).
func (x *random) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= x.r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

// lognormal draws exp(N(0, sigma)).
func (x *random) lognormal(sigma float64) float64 { return math.Exp(x.r.NormFloat64() * sigma) }

// exponential draws an exponentially distributed value with the given mean.
func (x *random) exponential(mean float64) float64 { return x.r.ExpFloat64() * mean }

// uuid returns a version 4 UUID drawn from the generator.
func (x *random) uuid() string {
	var u uuid.UUID
	a, b := x.r.Uint64(), x.r.Uint64()
	for i := range 8 {
		u[i] = byte(a >> (8 * i))
		u[8+i] = byte(b >> (8 * i))
	}
	u[6] = u[6]&0x0f | 0x40 // version 4
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	return u.String()
}

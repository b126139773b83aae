package projections

import (
	"fmt"
	"strings"

	"github.com/cockroachdb/apd/v3"
)

// MaxSumExponent bounds the numbers an exact sum takes: a value whose
// magnitude is 10^1000 or more, or below 10^-1000 (other than zero), is an
// error in the answer rather than a sum with thousands of digits.
const MaxSumExponent = 1000

// exactCtx adds without rounding (precision 0 is exact in apd) and traps
// values outside ±10^MaxSumExponent.
var exactCtx = apd.Context{
	Precision:   0,
	MaxExponent: MaxSumExponent,
	MinExponent: -MaxSumExponent,
	Traps:       apd.DefaultTraps,
}

// avgCtx divides for averages: 34 significant digits (decimal128), then
// rounded half-even to AvgDigits decimal places.
var avgCtx = apd.Context{
	Precision:   34,
	MaxExponent: apd.MaxExponent,
	MinExponent: apd.MinExponent,
	Traps:       apd.DefaultTraps,
	Rounding:    apd.RoundHalfEven,
}

// AvgDigits is the number of decimal places averages are rounded to.
const AvgDigits = 4

// decSum is an exact sum of decimals. Integers (money in minor units,
// severities, integer data fields) add into an int64 while it holds them;
// everything else, and an int64 that would overflow, goes to an arbitrary
// precision decimal, so a sum is never wrong and never wraps.
type decSum struct {
	small int64
	big   *apd.Decimal // nil while the sum is small alone
}

// addInt adds v.
func (s *decSum) addInt(v int64) {
	sum := s.small + v // wraps on overflow, which the test below catches
	if v > 0 && sum < s.small || v < 0 && sum > s.small {
		s.spill()
		var d apd.Decimal
		d.SetInt64(v)
		_, _ = exactCtx.Add(s.big, s.big, &d)
		return
	}
	s.small = sum
}

// spill moves the int64 part into big.
func (s *decSum) spill() {
	if s.big == nil {
		s.big = new(apd.Decimal)
	}
	var d apd.Decimal
	d.SetInt64(s.small)
	_, _ = exactCtx.Add(s.big, s.big, &d)
	s.small = 0
}

// addNumber adds the JSON number text num. It returns an error for a number
// outside the range exact sums take.
func (s *decSum) addNumber(num string) error {
	if v, ok := smallInt(num); ok {
		s.addInt(v)
		return nil
	}
	var d apd.Decimal
	if _, _, err := exactCtx.SetString(&d, num); err != nil {
		return fmt.Errorf("%s is beyond the ±10^%d range of exact sums", num, MaxSumExponent)
	}
	if s.big == nil {
		s.big = new(apd.Decimal)
	}
	if _, err := exactCtx.Add(s.big, s.big, &d); err != nil {
		return fmt.Errorf("the sum leaves the ±10^%d range of exact sums", MaxSumExponent)
	}
	return nil
}

// add adds o.
func (s *decSum) add(o decSum) {
	if o.big != nil {
		if s.big == nil {
			s.big = new(apd.Decimal)
		}
		_, _ = exactCtx.Add(s.big, s.big, o.big)
	}
	s.addInt(o.small)
}

// decimal returns the sum.
func (s *decSum) decimal() *apd.Decimal {
	d := new(apd.Decimal).SetInt64(s.small)
	if s.big != nil {
		_, _ = exactCtx.Add(d, d, s.big)
	}
	return d
}

// text returns the sum in plain notation, scaled down by 10^scale (the minor
// digits of a currency), with exactly scale decimal places when scale > 0.
func (s *decSum) text(scale int) string {
	d := s.decimal() // an integer when scale > 0 (minor units)
	d.Exponent -= int32(scale)
	return d.Text('f')
}

// state returns the sum as text for a saved state ("" for zero).
func (s *decSum) state() string {
	if s.big == nil && s.small == 0 {
		return ""
	}
	return s.decimal().Text('f')
}

// fromState loads a sum saved by state.
func (s *decSum) fromState(t string) error {
	*s = decSum{}
	if t == "" {
		return nil
	}
	return s.addNumber(t)
}

// avgText returns sum/n, scaled down by 10^scale, rounded half-even to
// AvgDigits decimal places, without trailing zeros.
func avgText(s *decSum, n int64, scale int) string {
	d := s.decimal()
	d.Exponent -= int32(scale)
	// Enough significant digits for the integer part and AvgDigits more.
	ctx := avgCtx
	if need := d.NumDigits() + int64(d.Exponent) + AvgDigits + 2; need > int64(ctx.Precision) {
		ctx.Precision = uint32(need)
	}
	var q apd.Decimal
	_, _ = ctx.Quo(&q, d, new(apd.Decimal).SetInt64(n))
	_, _ = ctx.Quantize(&q, &q, -AvgDigits)
	t := q.Text('f')
	if strings.Contains(t, ".") {
		t = strings.TrimRight(strings.TrimRight(t, "0"), ".")
	}
	if t == "-0" {
		t = "0"
	}
	return t
}

// smallInt parses num when it is a plain integer of at most 18 digits.
func smallInt(num string) (int64, bool) {
	s := num
	neg := false
	if len(s) > 0 && s[0] == '-' {
		neg, s = true, s[1:]
	}
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		v = -v
	}
	return v, true
}

package customers

import (
	"math/big"
	"math/bits"

	"github.com/plaint/plaint/domain"
)

// Sum is an exact sum of amounts in minor units: a 128-bit two's complement
// integer, which no sum of int64 amounts a log can hold overflows.
type Sum struct {
	hi int64
	lo uint64
}

// SumOf returns the sum holding m.
func SumOf(m domain.Money) Sum {
	s := Sum{lo: uint64(m)}
	if m < 0 {
		s.hi = -1
	}
	return s
}

// Add returns s + t.
func (s Sum) Add(t Sum) Sum {
	lo, c := bits.Add64(s.lo, t.lo, 0)
	hi, _ := bits.Add64(uint64(s.hi), uint64(t.hi), c)
	return Sum{hi: int64(hi), lo: lo}
}

// Neg returns -s.
func (s Sum) Neg() Sum {
	lo, b := bits.Sub64(0, s.lo, 0)
	hi, _ := bits.Sub64(0, uint64(s.hi), b)
	return Sum{hi: int64(hi), lo: lo}
}

// Sub returns s - t.
func (s Sum) Sub(t Sum) Sum { return s.Add(t.Neg()) }

// AddMoney returns s + m·sign (sign is +1 or -1).
func (s Sum) AddMoney(m domain.Money, sign int64) Sum {
	t := SumOf(m)
	if sign < 0 {
		t = t.Neg()
	}
	return s.Add(t)
}

// IsZero reports whether s is zero.
func (s Sum) IsZero() bool { return s.hi == 0 && s.lo == 0 }

// Sign returns -1, 0 or +1.
func (s Sum) Sign() int {
	switch {
	case s.hi < 0:
		return -1
	case s.IsZero():
		return 0
	}
	return 1
}

// Cmp compares s and t.
func (s Sum) Cmp(t Sum) int { return s.Sub(t).Sign() }

// Big returns s as a big integer.
func (s Sum) Big() *big.Int {
	neg := s.hi < 0
	if neg {
		s = s.Neg()
	}
	b := new(big.Int).SetUint64(uint64(s.hi))
	b.Lsh(b, 64)
	b.Or(b, new(big.Int).SetUint64(s.lo))
	if neg {
		b.Neg(b)
	}
	return b
}

// Format renders s as a decimal in the currency's major units ("1234.50").
func (s Sum) Format(currency string) string {
	if s.hi == 0 && s.lo < 1<<63 || s.hi == -1 && s.lo >= 1<<63 {
		return domain.Money(int64(s.lo)).Format(currency)
	}
	return formatBig(s.Big(), currency)
}

// formatBig renders minor units v as a decimal in the currency's major units.
func formatBig(v *big.Int, currency string) string {
	exp := domain.CurrencyExponent(currency)
	neg := v.Sign() < 0
	digits := new(big.Int).Abs(v).String()
	for len(digits) <= exp {
		digits = "0" + digits
	}
	out := digits
	if exp > 0 {
		out = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		out = "-" + out
	}
	return out
}

// scaleRat returns s·num/den rounded half away from zero to minor units,
// formatted in the currency. den must not be zero.
func scaleRat(s Sum, num, den int64, currency string) string {
	p := new(big.Int).Mul(s.Big(), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(p, d, new(big.Int))
	// Round half away from zero: |2r| >= |d|.
	r2 := new(big.Int).Abs(r)
	r2.Lsh(r2, 1)
	if r2.Cmp(new(big.Int).Abs(d)) >= 0 {
		if (p.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return formatBig(q, currency)
}

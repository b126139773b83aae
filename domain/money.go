package domain

import (
	_ "embed"
	"fmt"
	"strconv"
	"strings"
)

// Money is an exact amount in integer minor units of its currency (see
// CurrencyExponent). Sums of Money never drift the way float sums do.
type Money int64

//go:embed iso4217.txt
var iso4217 string

// currencyDigits maps each ISO 4217 code plaint accepts to its minor-unit
// digits, from the embedded list.
var currencyDigits = func() map[string]int {
	m := map[string]int{}
	for _, line := range strings.Split(iso4217, "\n") {
		code, digits, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || strings.HasPrefix(code, "#") {
			continue
		}
		m[code] = int(digits[0] - '0')
	}
	return m
}()

// legacyExponent gives the minor-unit digits plaint used before record format
// 2 where they differ from two: amounts stored then keep these units.
var legacyExponent = map[string]int{
	"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// DefaultCurrency is assumed when an event carries an amount without a currency.
const DefaultCurrency = "USD"

// IsCurrency reports whether code is an ISO 4217 code plaint accepts.
func IsCurrency(code string) bool {
	_, ok := currencyDigits[code]
	return ok
}

// CurrencyDigits returns the number of minor-unit digits ISO 4217 gives the
// currency: the most decimal places an amount in it may carry. Codes not in
// the list get two.
func CurrencyDigits(code string) int {
	if d, ok := currencyDigits[code]; ok {
		return d
	}
	return 2
}

// CurrencyExponent returns the number of decimal digits of the minor units
// Money counts in for the currency: the ISO 4217 digits, except that a
// currency without minor units that plaint counted in hundredths before
// record format 2 stays in hundredths (so that stored amounts keep their
// meaning; Format then shows ".00").
func CurrencyExponent(code string) int {
	if e, ok := legacyExponent[code]; ok {
		return e
	}
	return max(CurrencyDigits(code), 2)
}

// LegacyScale returns the factor that turns an amount stored in a format-1
// record (in the minor units of the time) into today's minor units: 10 or
// 100 for the few currencies ISO gives more than two digits and plaint
// counted in hundredths then, else 1.
func LegacyScale(code string) int64 {
	old := 2
	if e, ok := legacyExponent[code]; ok {
		old = e
	}
	f := int64(1)
	for e := CurrencyExponent(code); e > old; e-- {
		f *= 10
	}
	return f
}

// MaxAmountDigits bounds accepted amounts: their absolute value must be
// below 10^MaxAmountDigits major units (a thousand trillion), which every
// real price, contract or loss stays far below.
const MaxAmountDigits = 15

// maxMinor returns the exclusive bound of accepted amounts in minor units of
// the currency: 10^15 major units, or 10^18 minor units when that is less
// (the currencies with four minor digits), so that int64 always holds it.
func maxMinor(code string) int64 {
	v := int64(1)
	for range min(MaxAmountDigits+CurrencyExponent(code), 18) {
		v *= 10
	}
	return v
}

// CheckAmount returns an error when m is outside the accepted range for the
// currency.
func CheckAmount(m Money, currency string) error {
	if lim := maxMinor(currency); int64(m) >= lim || int64(m) <= -lim {
		return fmt.Errorf("amount %s %s is out of range: amounts must be below %s in absolute value",
			m.Format(currency), currency, Money(lim).Format(currency))
	}
	return nil
}

// ParseMoney parses a decimal amount such as "1234.5" or "-3" into minor units
// of the currency. It rejects more fractional digits than the currency has,
// exponents, and amounts of 10^15 major units or more.
func ParseMoney(s, currency string) (Money, error) {
	exp := CurrencyExponent(currency)
	digits := CurrencyDigits(currency)
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	in := s
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %q is not a decimal number", in)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("amount %q is not a decimal number", in)
			}
		}
	}
	if len(frac) > digits {
		return 0, fmt.Errorf("amount %q has more than %d decimal places for %s", in, digits, currency)
	}
	whole = strings.TrimLeft(whole, "0")
	if len(whole) > MaxAmountDigits {
		return 0, fmt.Errorf("amount %q is out of range: amounts must be below 10^%d", in, MaxAmountDigits)
	}
	frac += strings.Repeat("0", exp-len(frac))
	v, err := strconv.ParseInt("0"+whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q is out of range", in)
	}
	if neg {
		v = -v
	}
	if err := CheckAmount(Money(v), currency); err != nil {
		return 0, fmt.Errorf("amount %q is out of range: amounts must be below %s in absolute value",
			in, Money(maxMinor(currency)).Format(currency))
	}
	return Money(v), nil
}

// Format renders m as a decimal in the currency's major units, e.g. "1234.50".
func (m Money) Format(currency string) string {
	return string(m.AppendFormat(nil, currency))
}

// AppendFormat appends Format(currency) to dst.
func (m Money) AppendFormat(dst []byte, currency string) []byte {
	exp := CurrencyExponent(currency)
	v := uint64(m)
	if m < 0 {
		dst = append(dst, '-')
		v = -v
	}
	var buf [24]byte
	s := strconv.AppendUint(buf[:0], v, 10)
	if exp == 0 {
		return append(dst, s...)
	}
	for len(s) <= exp {
		s = append([]byte{'0'}, s...)
	}
	dst = append(dst, s[:len(s)-exp]...)
	dst = append(dst, '.')
	return append(dst, s[len(s)-exp:]...)
}

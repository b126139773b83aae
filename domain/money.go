package domain

import (
	"fmt"
	"strconv"
	"strings"
)

// Money is an exact amount in integer minor units (cents for EUR and USD).
// Sums of Money never drift the way float sums do.
type Money int64

// currencyExponent gives the number of minor-unit digits of currencies that
// differ from the default of two.
var currencyExponent = map[string]int{
	"JPY": 0, "KRW": 0, "ISK": 0, "CLP": 0, "VND": 0,
	"BHD": 3, "KWD": 3, "OMR": 3, "JOD": 3, "TND": 3,
}

// DefaultCurrency is assumed when an event carries an amount without a currency.
const DefaultCurrency = "USD"

// CurrencyExponent returns the number of minor-unit digits of an ISO 4217 code.
func CurrencyExponent(code string) int {
	if e, ok := currencyExponent[code]; ok {
		return e
	}
	return 2
}

// ParseMoney parses a decimal amount such as "1234.5" or "-3" into minor units
// of the currency. It rejects more fractional digits than the currency has,
// exponents and values that overflow int64.
func ParseMoney(s, currency string) (Money, error) {
	exp := CurrencyExponent(currency)
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty amount")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" && (!hasDot || frac == "") {
		return 0, fmt.Errorf("amount %q is not a decimal number", s)
	}
	if len(frac) > exp {
		return 0, fmt.Errorf("amount %q has more than %d decimal places for %s", s, exp, currency)
	}
	for _, part := range []string{whole, frac} {
		for _, c := range part {
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("amount %q is not a decimal number", s)
			}
		}
	}
	frac += strings.Repeat("0", exp-len(frac))
	if whole == "" {
		whole = "0"
	}
	v, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("amount %q is out of range", s)
	}
	if neg {
		v = -v
	}
	return Money(v), nil
}

// Format renders m as a decimal in the currency's major units, e.g. "1234.50".
func (m Money) Format(currency string) string {
	exp := CurrencyExponent(currency)
	v := int64(m)
	sign := ""
	if v < 0 {
		sign = "-"
		v = -v
	}
	if exp == 0 {
		return sign + strconv.FormatInt(v, 10)
	}
	s := strconv.FormatInt(v, 10)
	if len(s) <= exp {
		s = strings.Repeat("0", exp-len(s)+1) + s
	}
	return sign + s[:len(s)-exp] + "." + s[len(s)-exp:]
}

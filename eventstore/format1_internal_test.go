package eventstore

import (
	"math"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
)

// TestFormat1AmountScalesOnlyCurrenciesThatGainedDigits: a format-1 IQD
// amount (hundredths then, thousandths now) reads ten times larger, a USD
// one as it is, and one that would overflow once scaled is refused.
func TestFormat1AmountScalesOnlyCurrenciesThatGainedDigits(t *testing.T) {
	if a, scaled, err := format1Amount(1234, "IQD"); a != 12340 || !scaled || err != nil {
		t.Fatalf("IQD 12.34: %d %v %v, want 12340 scaled", a, scaled, err)
	}
	if a, scaled, err := format1Amount(1234, "USD"); a != 1234 || scaled || err != nil {
		t.Fatalf("USD 12.34: %d %v %v, want 1234 as it is", a, scaled, err)
	}
	a, scaled, err := format1Amount(domain.Money(math.MaxInt64/2), "IQD")
	if err == nil || scaled || !strings.Contains(err.Error(), "overflows") {
		t.Fatalf("IQD near the int64 bound: %d %v %v, want an overflow error", a, scaled, err)
	}
}

package eventstore

import (
	"fmt"

	"github.com/plaint/plaint/domain"
)

// format1Amount returns amount m of currency cur, as a format-1 record
// stores it, in today's minor units (domain.LegacyScale), and whether the
// currency gained minor digits since (scaled). An amount that does not fit
// once scaled is an error.
func format1Amount(m domain.Money, cur string) (_ domain.Money, scaled bool, _ error) {
	f := domain.LegacyScale(cur)
	if f == 1 {
		return m, false, nil
	}
	a := int64(m) * f
	if a/f != int64(m) {
		return m, false, fmt.Errorf("amount %d %s overflows when scaled to today's minor units", m, cur)
	}
	return domain.Money(a), true, nil
}

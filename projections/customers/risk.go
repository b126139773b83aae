package customers

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// RiskQuery asks the value at risk of a group of customers who complained
// of one category: an alert's affected customers.
type RiskQuery struct {
	Category string
	// Customers are the customers' keys (the log's dictionary ids of their
	// customer_id), as the alert detector counts them.
	Customers []uint32
	// Since is when their complaints began (the alert's period start): a
	// customer who defected after it is lost, no longer at risk.
	Since time.Time
}

// ValueAtRisk answers each query with the definition of the linkage's
// revenue at risk, applied to the query's customers: the value of those
// who have not defected since Since (the revenue they recorded in the 365
// days up to the linkage's as-of, since their last defection) × the
// defection rate the linkage l (by category) observed for the category,
// exactly, rounded half away from zero to the minor unit; per currency,
// sorted by currency. A category the linkage has no row for has no rate:
// its answer is nil. Unknown keys are skipped (no such customer).
func (s *State) ValueAtRisk(l *Linkage, qs []RiskQuery) ([][]Amount, error) {
	if l.By != "category" {
		return nil, fmt.Errorf("value at risk: a linkage by %s, want by category", l.By)
	}
	at, err := time.Parse(time.RFC3339, l.AsOf)
	if err != nil {
		return nil, fmt.Errorf("value at risk: linkage as of %q: %w", l.AsOf, err)
	}
	asOf := at.UnixNano()
	rows := map[string]*LinkRow{}
	for i := range l.Rows {
		rows[l.Rows[i].Category] = &l.Rows[i]
	}
	out := make([][]Amount, len(qs))
	var items []item
	for i, q := range qs {
		r := rows[q.Category]
		if r == nil || r.Complainants == 0 {
			continue
		}
		since := q.Since.UnixNano()
		var value []money
		for _, key := range q.Customers {
			if int(key) >= len(s.custs) || s.custs[key].n == 0 {
				continue
			}
			if items, err = decodeHistory(items[:0], s.custs[key].hist); err != nil {
				return nil, fmt.Errorf("value at risk: customer %d: %w", key, err)
			}
			if defectedBetween(items, since, asOf) {
				continue
			}
			for _, v := range currentValue(nil, items, asOf) {
				value = addMoney(value, v.cur, v.sum)
			}
		}
		amounts := []Amount{}
		for _, m := range value {
			code := s.Strs.Str(m.cur)
			amounts = append(amounts, Amount{Currency: code, Amount: scaleRat(m.sum, r.Defected, r.Complainants, code)})
		}
		slices.SortFunc(amounts, func(a, b Amount) int { return cmp.Compare(a.Currency, b.Currency) })
		out[i] = amounts
	}
	return out, nil
}

// defectedBetween reports a defection in the history with time in
// [from, to].
func defectedBetween(items []item, from, to int64) bool {
	for i := range items {
		if it := &items[i]; it.typ == domain.TypeCustomerDefected && it.t >= from && it.t <= to {
			return true
		}
	}
	return false
}

package detect

// PeriodKind is the length of a series' periods: ISO week or calendar month.
type PeriodKind int

// The period kinds plaint's detector evaluates.
const (
	Week PeriodKind = iota + 1
	Month
)

// String is "week" or "month", as alert payloads name the period.
func (k PeriodKind) String() string {
	switch k {
	case Week:
		return "week"
	case Month:
		return "month"
	}
	return "unknown"
}

// perYear is the number of periods in a year (52 for weeks; reference
// weeks are found by date, so 53-week years are handled).
func (k PeriodKind) perYear() int {
	if k == Month {
		return 12
	}
	return 52
}

package customers

// The metrics kept per month.
const (
	mNew      uint8 = iota + 1 // customer.acquired
	mLost                      // customer.defected
	mRenew                     // customer.renewed
	mRevenue                   // revenue.recorded
	mReferral                  // referral.made
)

// aggKey identifies one aggregate cell: a UTC month, a metric, the segment
// of its events (per the definition), a reason (defections and renewals),
// a competitor (defections) and a currency. Cells with currency 0 count
// events; cells with a currency
// hold that currency's money, and count the events that brought some.
type aggKey struct {
	month  int32
	metric uint8
	seg    uint32
	reason uint32
	comp   uint32 // competitor, of defections
	cur    uint32
}

// cell is one aggregate. For lost customers' count cells, a counts the
// defections with a stated value and b those with no value at all; for
// revenue, a counts the events without a cost and uncosted is their amount.
type cell struct {
	n, a, b  int64
	amount   Sum
	cost     Sum
	uncosted Sum
}

package projections

// memBytes estimates the bytes of memory a fold's state holds, from its
// number of cells and strings. The per-cell figures were measured with
// runtime.MemStats on maps of a million cells (Go 1.26, amd64).
func memBytes(f fold) int64 {
	switch f := f.(type) {
	case *trendFold:
		return int64(len(f.cells))*trendCellBytes + f.tab.bytes()
	case *baseFold:
		n := int64(len(f.cust)) * baseCustomerBytes
		for _, m := range f.acq {
			n += int64(len(m)) * baseDayBytes
		}
		for _, m := range f.def {
			n += int64(len(m)) * baseDayBytes
		}
		return n + f.tab.bytes()
	case *firstsFold:
		var n int64
		for _, m := range f.first {
			n += int64(len(m)) * baseDayBytes
		}
		return n
	case *specFold:
		return int64(len(f.cells))*specCellBytes(f.c) + f.tab.bytes()
	}
	return 0
}

// Measured costs of one cell, customer or day entry.
const (
	trendCellBytes    = 108
	baseCustomerBytes = 64
	baseDayBytes      = 32
)

// specCellBytes estimates one group of spec c: its key, its measures and,
// for distinct measures, an empty set.
func specCellBytes(c *compiledSpec) int64 {
	n := int64(144)
	for _, m := range c.measures {
		n += 24
		if m.kind == "distinct" {
			n += 128
		}
	}
	return n
}

package projections

// memBytes estimates the bytes of memory a fold's state holds (0 for a fold
// that does not say; see Sizer).
func memBytes(f Fold) int64 {
	if s, ok := f.(Sizer); ok {
		return s.MemoryBytes()
	}
	return 0
}

// The per-cell figures below were measured with runtime.MemStats on maps of
// a million cells (Go 1.26, amd64).
const (
	trendCellBytes    = 108
	baseCustomerBytes = 64
	baseDayBytes      = 32
)

// MemoryBytes estimates the trend state from its cells and strings.
func (f *trendFold) MemoryBytes() int64 {
	return int64(len(f.cells))*trendCellBytes + f.tab.Bytes()
}

// MemoryBytes estimates the base from its customers, days and strings.
func (f *baseFold) MemoryBytes() int64 {
	n := int64(len(f.cust)) * baseCustomerBytes
	for _, m := range f.acq {
		n += int64(len(m)) * baseDayBytes
	}
	for _, m := range f.def {
		n += int64(len(m)) * baseDayBytes
	}
	return n + f.tab.Bytes()
}

// MemoryBytes estimates the first-seen state from its buckets.
func (f *firstsFold) MemoryBytes() int64 {
	var n int64
	for _, m := range f.first {
		n += int64(len(m)) * baseDayBytes
	}
	return n
}

// MemoryBytes estimates the spec's groups and strings.
func (f *specFold) MemoryBytes() int64 {
	return int64(len(f.cells))*specCellBytes(f.c) + f.tab.Bytes()
}

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

package projections

import "github.com/plaint/plaint/internal/strtab"

// resolver maps a snapshot's dictionary ids to a table's local ids, caching
// each one. One resolver belongs to one goroutine and one snapshot.
type resolver struct {
	tab    *strtab.Table
	snap   Snapshot
	byDict []uint32 // dictionary id → local id + 1; 0 = not resolved yet
}

func newResolver(tab *strtab.Table, snap Snapshot) *resolver {
	return &resolver{tab: tab, snap: snap, byDict: make([]uint32, snap.DictLen()+1)}
}

// local returns the local id of dictionary id d (0 stays 0).
func (r *resolver) local(d uint32) uint32 {
	if d == 0 {
		return 0
	}
	if int(d) < len(r.byDict) {
		if v := r.byDict[d]; v != 0 {
			return v - 1
		}
	} else {
		r.byDict = append(r.byDict, make([]uint32, int(d)+1-len(r.byDict))...)
	}
	id := r.tab.Intern(r.snap.String(d))
	r.byDict[d] = id + 1
	return id
}

package watermill

import (
	"sync"

	"github.com/plaint/plaint/domain"
)

// scratch is the room handle decodes a group into: the events and their
// frames, reused from group to group instead of allocated for each (a
// group of 1024 events takes 480 kB). Nothing refers to it once handle
// returns: the store reads the events in place only until its append
// returns, and what a rejection keeps is copies of frames.
type scratch struct {
	events []domain.Event
	from   []Frame
}

var scratchPool sync.Pool

// getScratch returns an empty scratch with room for n events.
func getScratch(n int) *scratch {
	sc, _ := scratchPool.Get().(*scratch)
	if sc == nil {
		sc = &scratch{}
	}
	if cap(sc.events) < n {
		sc.events = make([]domain.Event, 0, n)
		sc.from = make([]Frame, 0, n)
	}
	return sc
}

// put clears what the first used events and frames held (their strings,
// the group's payload) and gives sc back to the pool.
func (sc *scratch) put(used int) {
	clear(sc.events[:min(used, cap(sc.events))])
	clear(sc.from[:min(used, cap(sc.from))])
	scratchPool.Put(sc)
}

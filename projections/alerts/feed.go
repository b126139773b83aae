package alerts

import (
	"sync"

	"github.com/plaint/plaint/projections"
)

// Feed holds the detector's alert events as its advance hook hands them
// over (Engine.OnAdvance(Name, feed.Advance)), for the publisher and the
// HTTP stream: readers wait on it instead of asking the engine.
type Feed struct {
	mu      sync.Mutex
	evs     []Event
	changed chan struct{}
}

// NewFeed returns an empty feed.
func NewFeed() *Feed { return &Feed{changed: make(chan struct{})} }

// Advance is the advance hook: it takes the detector's events at the step.
func (f *Feed) Advance(a projections.Advance) {
	ans, ok := a.Answer.(Answer)
	if !ok {
		return
	}
	f.set(ans.Events, a.Rebuilt)
}

// Set gives the feed the detector's events (every event so far, oldest
// first); a list shorter than the feed's, read before the last advance, is
// ignored.
func (f *Feed) Set(evs []Event) { f.set(evs, false) }

// set is Set; with replace (the detector was rebuilt) a shorter list
// replaces the feed's too.
func (f *Feed) set(evs []Event, replace bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(evs) < len(f.evs) && !replace || len(evs) == len(f.evs) && (len(evs) == 0 || evs[len(evs)-1].ID == f.evs[len(f.evs)-1].ID) {
		return
	}
	f.evs = evs
	close(f.changed)
	f.changed = make(chan struct{})
}

// Since returns the events numbered after after (Event.Seq), and a channel
// closed when there are more.
func (f *Feed) Since(after uint64) ([]Event, <-chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if after >= uint64(len(f.evs)) {
		return nil, f.changed
	}
	return f.evs[after:], f.changed
}

// Resume returns the number of the last event of the feed that a
// publisher already published, given the id and time of the last one it
// published: the event with that id, or else (the detector was rebuilt
// with other settings) the last event not after that time.
func (f *Feed) Resume(lastID string, lastSeq uint64, lastTime int64) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lastID == "" {
		return 0
	}
	if lastSeq >= 1 && lastSeq <= uint64(len(f.evs)) && f.evs[lastSeq-1].ID == lastID {
		return lastSeq
	}
	for i := len(f.evs) - 1; i >= 0; i-- {
		if f.evs[i].ID == lastID {
			return uint64(i + 1)
		}
	}
	n := uint64(0)
	for i, ev := range f.evs {
		if ev.Time.UnixNano() <= lastTime {
			n = uint64(i + 1)
		}
	}
	return n
}

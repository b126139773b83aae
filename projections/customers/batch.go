package customers

import (
	"fmt"
	"runtime"
)

// nGroups is how many groups a Batch sorts its facts into by customer key:
// blocks of 64 keys dealt round-robin, so that group g holds customers of
// shard g % nShards only. At a million customers a group is ~4,000 of
// them, whose states and histories fit in a core's cache while its facts
// are folded.
const nGroups = 256

func groupOf(key uint32) int { return int(key>>6) % nGroups }

// Batch is facts in log order, kept grouped by customer as they are added
// (every group in log order), for ApplyBatch. A scan that fills one
// writes each fact once, sequentially into its group, and the fold then
// reads each group through once: the customers it touches in a while are
// few, instead of a million chosen at random. The zero Batch is empty and
// ready; a Batch is not safe for concurrent use.
type Batch struct {
	groups [nGroups][]Fact
	n      int
	top    uint32 // greatest customer key
	maxT   int64  // latest event time
	bad    error  // the first fact that cannot be folded
}

// Grow makes room for about n more facts spread over the customers.
func (b *Batch) Grow(n int) {
	if n < 64*nGroups {
		return
	}
	per := n/nGroups + n/(8*nGroups)
	for g := range b.groups {
		if cap(b.groups[g])-len(b.groups[g]) < per {
			b.groups[g] = append(make([]Fact, 0, len(b.groups[g])+per), b.groups[g]...)
		}
	}
}

// Add appends f, which comes after every fact added before it in the log.
func (b *Batch) Add(f *Fact) {
	if b.bad == nil && (f.Customer == 0 || !Folded(f.Type)) {
		b.bad = fmt.Errorf("fact %d: %s for customer key %d cannot be folded", b.n, f.Type, f.Customer)
	}
	g := &b.groups[groupOf(f.Customer)]
	*g = append(*g, *f)
	b.n++
	b.top = max(b.top, f.Customer)
	b.maxT = max(b.maxT, f.Time)
}

// Len returns how many facts were added.
func (b *Batch) Len() int { return b.n }

// Reset empties b, keeping its room.
func (b *Batch) Reset() {
	for g := range b.groups {
		b.groups[g] = b.groups[g][:0]
	}
	b.n, b.top, b.maxT, b.bad = 0, 0, 0, nil
}

// ApplyBatch folds the facts of b, as ApplyAll folds the same facts in the
// order they were added, and with the same result: only the order between
// different customers differs, which nothing the state holds depends on. A
// batch with a fact that cannot be folded is refused whole.
func (s *State) ApplyBatch(b *Batch) error {
	if b.bad != nil {
		return b.bad
	}
	if b.n == 0 {
		return nil
	}
	s.grow(b.top)
	s.maxT = max(s.maxT, b.maxT)
	s.events += int64(b.n)
	s.gen++
	workers := min(runtime.GOMAXPROCS(0), nShards)
	if b.n < 4096 {
		workers = 1
	}
	err := inWorkers(workers, func(w int) error {
		for g := range b.groups {
			sh := g % nShards
			if sh%workers != w {
				continue
			}
			d, facts := s.shards[sh], b.groups[g]
			for i := range facts {
				if err := s.applyOne(d, &facts[i]); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.noteMonths()
	return nil
}

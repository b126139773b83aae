package customers

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"slices"

	"github.com/plaint/plaint/domain"
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
// few, instead of a million chosen at random. A group holds its facts
// encoded as histories hold items, ~20 bytes a fact with its customer key
// instead of a 64-byte Fact: a build over ten million events writes 200 MB,
// not 640. The zero Batch is empty and ready; a Batch is not safe for
// concurrent use.
//
// A fact in a group is its customer key (4 bytes little endian), the
// item's header byte with bit 7 set when the time is in nanoseconds, the
// zigzag varint of its time less the group's previous fact's (in seconds
// unless bit 7), and the rest of the item as a history has it.
type Batch struct {
	groups [nGroups][]byte
	last   [nGroups]int64 // time of each group's last fact
	n      int
	top    uint32 // greatest customer key
	maxT   int64  // latest event time
	bad    error  // the first fact that cannot be folded
}

// batchNanos flags a batch fact whose time is in nanoseconds.
const batchNanos = 1 << 7

// Grow makes room for about n more facts spread over the customers.
func (b *Batch) Grow(n int) {
	if n < 64*nGroups {
		return
	}
	per := (n/nGroups + n/(8*nGroups)) * 24
	for g := range b.groups {
		b.groups[g] = slices.Grow(b.groups[g], per)
	}
}

// Add appends f, which comes after every fact added before it in the log.
func (b *Batch) Add(f *Fact) {
	if b.bad == nil && (f.Customer == 0 || !Folded(f.Type)) {
		b.bad = fmt.Errorf("fact %d: %s for customer key %d cannot be folded", b.n, f.Type, f.Customer)
	}
	it := itemOf(f)
	gi := groupOf(f.Customer)
	g := binary.LittleEndian.AppendUint32(b.groups[gi], f.Customer)
	h := itemHeader(&it)
	d := it.t - b.last[gi]
	if d%1e9 == 0 {
		d /= 1e9
	} else {
		h |= batchNanos
	}
	g = binary.AppendVarint(append(g, h), d)
	b.groups[gi] = appendItemBody(g, h, &it)
	b.last[gi] = it.t
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
	b.last = [nGroups]int64{}
	b.n, b.top, b.maxT, b.bad = 0, 0, 0, nil
}

// applyGroup folds the facts of group g, whose customers are of shard d.
func (s *State) applyGroup(d *shard, g []byte) error {
	var prev int64
	for len(g) > 0 {
		if len(g) < 6 {
			return errBatch
		}
		key, h := binary.LittleEndian.Uint32(g), g[4]
		dt, k := binary.Varint(g[5:])
		if k <= 0 {
			return errBatch
		}
		if h&batchNanos == 0 {
			dt *= 1e9
		}
		it := item{typ: domain.Type(h & 0x0f), t: prev + dt}
		prev = it.t
		var err error
		if g, err = readItemBody(g[5+k:], h, &it); err != nil {
			return fmt.Errorf("%w: %v", errBatch, err)
		}
		if err := s.applyOne(d, key, &it); err != nil {
			return err
		}
	}
	return nil
}

// errBatch is a Batch that does not read back: a bug, never bad input.
var errBatch = errors.New("customers: batch damaged")

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
			if err := s.applyGroup(s.shards[sh], b.groups[g]); err != nil {
				return err
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

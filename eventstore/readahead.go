package eventstore

import (
	"sync"
	"unsafe"
)

// readAhead is the progress of a read of the log file ahead of a scan
// (PrefetchScan): which chunks of it are in the page cache, and so how many
// bytes from its start all are. A block scan waits behind it (behind), so
// that its page faults find the pages read instead of reading them one
// fault at a time beside the read-ahead, which the disk serves slower.
type readAhead struct {
	size, chunk int64

	mu     sync.Mutex
	cond   sync.Cond
	done   []bool // by chunk
	prefix int64  // bytes from the start of the file all read
	ended  bool   // no more will be read
}

func newReadAhead(size, chunk int64) *readAhead {
	a := &readAhead{size: size, chunk: chunk, done: make([]bool, (size+chunk-1)/chunk)}
	a.cond.L = &a.mu
	return a
}

// read notes that the chunk at offset off is in the page cache.
func (a *readAhead) read(off int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.done[off/a.chunk] = true
	moved := false
	for i := a.prefix / a.chunk; i < int64(len(a.done)) && a.done[i]; i++ {
		a.prefix, moved = min((i+1)*a.chunk, a.size), true
	}
	if moved {
		a.cond.Broadcast()
	}
}

// end notes that no more of the file will be read.
func (a *readAhead) end() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.ended = true
	a.cond.Broadcast()
}

// wait returns once the first n bytes of the file are read, or when no more
// will be.
func (a *readAhead) wait(n int64) {
	n = min(n, a.size)
	a.mu.Lock()
	defer a.mu.Unlock()
	for a.prefix < n && !a.ended {
		a.cond.Wait()
	}
}

// behindMin is the fewest records a block scan must span to keep behind a
// read-ahead (Snapshot.behind): the pieces and halves of a build are longer
// (2^15 records and more), a live fold of the last commits far shorter. A
// variable so that the tests can follow with a small log.
var behindMin uint64 = 1 << 15

// aheadMargin is how far past the end of a value a block scan waits for the
// read-ahead before it moves to the next: the next value and its page.
const aheadMargin = 64 << 10

// behind waits, when the snapshot's file is being read ahead, until the
// read-ahead has passed the value v (a value of the snapshot's memory map)
// by aheadMargin.
func (s *Snapshot) behind(v []byte) {
	if s.ahead == nil || len(v) == 0 {
		return
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(v)))
	if p < s.base {
		return
	}
	s.ahead.wait(int64(p-s.base) + int64(len(v)) + aheadMargin)
}

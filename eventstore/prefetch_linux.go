//go:build linux

package eventstore

import (
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// residentFraction returns the share of path's pages in the page cache.
func residentFraction(path string) float64 {
	f, err := os.Open(path)
	if err != nil {
		return 1
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.Size() == 0 {
		return 1
	}
	m, err := syscall.Mmap(int(f.Fd()), 0, int(fi.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return 1
	}
	defer syscall.Munmap(m)
	page := os.Getpagesize()
	vec := make([]byte, (len(m)+page-1)/page)
	if _, _, e := syscall.Syscall(syscall.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
		return 1
	}
	n := 0
	for _, v := range vec {
		n += int(v & 1)
	}
	return float64(n) / float64(len(vec))
}

// Prefetch reads the log file sequentially into the page cache when most of
// it is not there yet: on a cold cache a sequential read runs about ten times
// faster than the page faults of a scan through the memory map. Call it
// before a scan of much of the log. It returns at once; closing stop ends
// the read early.
func (l *Log) Prefetch(stop <-chan struct{}) { prefetch(l.path, stop, 1, prefetchChunk, false) }

// PrefetchScan is Prefetch for a scan that reads nothing else of the disk
// (a build of a projection): it keeps scanReaders reads of the file's
// chunks in flight, in order, which this disk serves faster than one, and
// reads each into the page cache through a mapping of its own
// (MADV_POPULATE_READ) instead of copying it out, which leaves the CPU to
// the scan. The block scans of views begun while it reads keep behind it
// (readAhead), so that the scan's page faults find pages it read.
func (l *Log) PrefetchScan(stop <-chan struct{}) {
	f, ok := openCold(l.path)
	if !ok {
		return
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return
	}
	// Block scans of views begun from now on keep behind it (readAhead).
	a := newReadAhead(fi.Size(), scanChunk)
	l.ahead.Store(a)
	done := readFileAhead(f, stop, scanReaders, scanChunk, true, a)
	go func() {
		<-done
		l.ahead.CompareAndSwap(a, nil)
	}()
}

// prefetchOpen starts the reads of a writable open: the log and its key
// snapshot read ahead together, when cold, scanReaders reads of each in
// flight, so that the page check's faults and the snapshot's mapping find
// their pages read. Closing stop ends the log's read; the channel returned
// is closed when the snapshot's has ended. Cold, the two files of the 10M
// benchmark log (290 and 268 MB) were read in 0.28-0.29 s so, against
// 0.30-0.44 s by one read of the log at a time beside the snapshot's
// MAP_POPULATE (2026-12-03, 14:25 UTC).
func (l *Log) prefetchOpen(stop <-chan struct{}) <-chan struct{} {
	prefetch(l.path, stop, scanReaders, scanChunk, true)
	if f, ok := openCold(l.keySnapshotPath()); ok {
		return readFileAhead(f, nil, scanReaders, scanChunk, true, nil)
	}
	return nil
}

// Prefetch's one read is of prefetchChunk bytes; PrefetchScan's scanReaders
// reads of scanChunk. Reading the 10M benchmark log (310 MB) cold took
// 0.15-0.24 s by one read of 4 MB at a time, 0.15-0.18 s by four, using
// 0.07-0.11 CPU-s to copy it; mapped and populated 8 × 2 MB at a time,
// 0.14 s and 0.02-0.03 CPU-s (2026-12-03, 12:21 UTC).
const (
	prefetchChunk = 4 << 20
	scanReaders   = 8
	scanChunk     = 2 << 20
)

// madvPopulateRead is Linux's MADV_POPULATE_READ (5.14 and later).
const madvPopulateRead = 22

// prefetch reads the file at path into the page cache, readers reads of
// chunk bytes in flight, unless 90% of it is there already (openCold):
// mapped and populated when populate (where the kernel can; read where it
// cannot), else read.
func prefetch(path string, stop <-chan struct{}, readers int32, chunk int64, populate bool) {
	if f, ok := openCold(path); ok {
		readFileAhead(f, stop, readers, chunk, populate, nil)
	}
}

// openCold opens the file at path when less than 90% of it is in the page
// cache.
func openCold(path string) (*os.File, bool) {
	if path == "" || residentFraction(path) > 0.9 {
		return nil, false
	}
	f, err := os.Open(path)
	return f, err == nil
}

// readFileAhead is prefetch of the open file f, which it closes when done,
// noting each chunk read in a (when not nil) and ending it then; the channel
// it returns is closed then.
func readFileAhead(f *os.File, stop <-chan struct{}, readers int32, chunk int64, populate bool, a *readAhead) <-chan struct{} {
	done := make(chan struct{})
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		if a != nil {
			a.end()
		}
		close(done)
		return done
	}
	size := fi.Size()
	// The readers take the file's chunks in order; the last to end closes it.
	var next atomic.Int64
	var left atomic.Int32
	left.Store(readers)
	for range readers {
		go func() {
			defer func() {
				if left.Add(-1) == 0 {
					f.Close()
					if a != nil {
						a.end()
					}
					close(done)
				}
			}()
			var buf []byte
			pop := populate // until the kernel cannot
			for {
				select {
				case <-stop:
					return
				default:
				}
				off := next.Add(chunk) - chunk
				if off >= size {
					return
				}
				n := min(chunk, size-off)
				if pop && !populateRange(f, off, n) {
					pop = false
				}
				if !pop {
					if buf == nil {
						buf = make([]byte, chunk)
					}
					if _, err := f.ReadAt(buf[:n], off); err != nil {
						return
					}
				}
				if a != nil {
					a.read(off)
				}
			}
		}()
	}
	return done
}

// populateRange reads n bytes of f from off (a multiple of the page size)
// into the page cache by mapping them and populating the mapping, without
// copying them; false when the kernel cannot.
func populateRange(f *os.File, off, n int64) bool {
	m, err := syscall.Mmap(int(f.Fd()), off, int(n), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return false
	}
	defer syscall.Munmap(m)
	_, _, e := syscall.Syscall(syscall.SYS_MADVISE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), madvPopulateRead)
	return e == 0
}

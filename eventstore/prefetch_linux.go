//go:build linux

package eventstore

import (
	"io"
	"os"
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
func (l *Log) Prefetch(stop <-chan struct{}) { prefetch(l.path, stop) }

func prefetch(path string, stop <-chan struct{}) {
	if path == "" || residentFraction(path) > 0.9 {
		return
	}
	go func() {
		f, err := os.Open(path)
		if err != nil {
			return
		}
		defer f.Close()
		buf := make([]byte, 4<<20)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := f.Read(buf); err == io.EOF || err != nil {
				return
			}
		}
	}()
}

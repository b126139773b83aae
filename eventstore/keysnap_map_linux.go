//go:build linux

package eventstore

import (
	"fmt"
	"syscall"
)

// mapKeySnapshot maps the key snapshot at path privately: the pages the
// page cache holds are mapped at once (MAP_POPULATE, read-only so that no
// page is copied; the file is read when cold) and then made writable, so
// that a page an insert writes becomes the process's own copy and the file
// never changes. The snapshot is only ever replaced by a rename (see
// saveKeySnapshot), never written in place, so the mapping stays what was
// checked.
func mapKeySnapshot(path string) (*keyFile, error) {
	f, size, err := openKeySnapshot(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_POPULATE)
	if err != nil {
		return nil, fmt.Errorf("map the key snapshot: %w", err)
	}
	if err := syscall.Mprotect(m, syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
		syscall.Munmap(m)
		return nil, fmt.Errorf("map the key snapshot: %w", err)
	}
	return &keyFile{data: m, unmap: func() { syscall.Munmap(m) }}, nil
}

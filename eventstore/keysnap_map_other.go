//go:build !linux

package eventstore

import (
	"fmt"
	"io"
	"unsafe"
)

// mapKeySnapshot reads the key snapshot at path into memory aligned for its
// slots (systems other than Linux do not map it).
func mapKeySnapshot(path string) (*keyFile, error) {
	f, size, err := openKeySnapshot(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	words := make([]uint64, (size+7)/8)
	b := unsafe.Slice((*byte)(unsafe.Pointer(&words[0])), size)
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("read the key snapshot: %w", err)
	}
	return &keyFile{data: b}, nil
}

//go:build linux || darwin || freebsd

package eventstore

import (
	"fmt"
	"syscall"
)

// DiskSpaceOf returns the space of the file system holding path.
func DiskSpaceOf(path string) (DiskSpace, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return DiskSpace{}, fmt.Errorf("disk space of %s: %w", path, err)
	}
	bs := uint64(st.Bsize)
	return DiskSpace{Free: uint64(st.Bavail) * bs, Total: uint64(st.Blocks) * bs}, nil
}

//go:build !(linux || darwin || freebsd)

package eventstore

import "errors"

// DiskSpaceOf is not known on this system.
func DiskSpaceOf(path string) (DiskSpace, error) {
	return DiskSpace{}, errors.New("disk space: not known on this system")
}

package eventstore

// DiskSpace is the space of the file system holding a path.
type DiskSpace struct {
	Free  uint64 // bytes an unprivileged process may still write
	Total uint64 // the file system's size
}

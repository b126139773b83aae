//go:build !linux

package projections

// prefetch does nothing where the page cache cannot be inspected.
func prefetch(path string, stop <-chan struct{}) {}

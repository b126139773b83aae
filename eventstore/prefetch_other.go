//go:build !linux

package eventstore

// Prefetch does nothing where the page cache cannot be inspected.
func (l *Log) Prefetch(stop <-chan struct{}) {}

// PrefetchScan does nothing where the page cache cannot be inspected.
func (l *Log) PrefetchScan(stop <-chan struct{}) {}

// prefetchOpen does nothing where the page cache cannot be inspected.
func (l *Log) prefetchOpen(stop <-chan struct{}) <-chan struct{} { return nil }

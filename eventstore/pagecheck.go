package eventstore

// The page check (bbolt's Tx.Check of every page) costs about 90 ms per
// million events. After a clean stop the rest of a writable open is loading
// the key snapshot, so the check would set the pace of the open. There it
// runs in the background instead: Open returns once the keys are loaded,
// reads go ahead (they are guarded against damaged pages anyway), and every
// write waits for the check and fails with its ErrCorrupt error, so nothing
// is ever written into a damaged file. Checked lets a server wait for the
// verdict before it reports ready. When the key set is rebuilt from the log
// (no snapshot), the check runs beside the rebuild and Open waits for it, as
// before.

// pageCheck is the state of the page check of a writable open.
type pageCheck struct {
	done chan struct{} // closed when the check has finished
	err  error         // its result, set before done is closed
}

// doneCheck returns a pageCheck that has finished without a problem (a
// read-only open: nothing will be written).
func doneCheck() *pageCheck {
	c := &pageCheck{done: make(chan struct{})}
	close(c.done)
	return c
}

// startPageCheck runs the page check of l on its own goroutine and closes
// readAhead when it has finished. The check walks the pages in the order of
// the tree, so on a cold cache the file must be read ahead sequentially
// beside it (Prefetch, started by the caller with readAhead as its stop):
// its page faults then find the pages read, where alone they read the file
// in the tree's order (a cold check of the 10M-event log took 1.1-1.8 s so,
// BENCHMARKS.md).
func (l *Log) startPageCheck(readAhead chan struct{}) *pageCheck {
	c := &pageCheck{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		defer close(readAhead)
		c.err = l.checkPages()
	}()
	return c
}

// wait waits for the check and returns its result.
func (c *pageCheck) wait() error {
	<-c.done
	return c.err
}

// Checked waits until the page check of a writable open has finished and
// returns its result: nil, or an error wrapping ErrCorrupt that names the
// damaged page. Appends and erasures wait for it themselves; a server calls
// it before it reports ready. A read-only log returns nil at once.
func (l *Log) Checked() error {
	if err := l.check.wait(); err != nil {
		return l.openError(err)
	}
	return nil
}

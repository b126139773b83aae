package projections

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Replay runs sp once over the whole of log, offline, and returns its
// table. progress, when not nil, is called now and then with the records
// read and the records to read. The same log always gives the same table.
func Replay(ctx context.Context, log Log, sp *Spec, progress func(done, total uint64), opts ...Option) (*Table, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	c, err := compileSpec(sp)
	if err != nil {
		return nil, err
	}
	f := newSpecFold(c)
	f.limit = o.maxGroups
	last := log.LastSeq()
	var seen atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	if progress != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					progress(seen.Load(), last)
				}
			}
		}()
	}
	for from := uint64(1); from <= last; from += o.chunk {
		if err := foldRange(ctx, log, f, from, min(last, from+o.chunk-1), &o, &seen); err != nil {
			close(done)
			wg.Wait()
			return nil, err
		}
	}
	close(done)
	wg.Wait()
	if progress != nil {
		progress(last, last)
	}
	t, err := f.table()
	if err != nil {
		return nil, err
	}
	t.AsOfSeq = last
	return t, nil
}

package projections

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// prefetchMin is the smallest range for which a cold log file is read
// ahead sequentially.
const prefetchMin = 1 << 20

// foldRange folds the records from..to (inclusive) of log into f. Ranges of
// o.parallelMin records or more are split into one consecutive part per worker,
// each scanned in its own read transaction, then merged in log order. seen
// counts the records read, for progress.
func foldRange(ctx context.Context, log Log, f Fold, from, to uint64, o *options, seen *atomic.Uint64) error {
	if from > to {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if pr, ok := f.(Preparer); ok {
		if err := pr.Prepare(ctx, to); err != nil {
			return err
		}
	}
	n := to - from + 1
	if pf, ok := log.(prefetcher); ok && n >= prefetchMin {
		stop := make(chan struct{})
		defer close(stop)
		pf.Prefetch(stop)
	}
	workers := o.workers
	if workers < 1 || n < o.parallelMin {
		workers = 1
	}
	parts := make([]Part, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo := from + n*uint64(w)/uint64(workers)
		hi := from + n*uint64(w+1)/uint64(workers) - 1
		parts[w] = f.NewPart()
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			errs[w] = log.ViewRecords(func(s Snapshot) error {
				if s.LastSeq() < hi {
					return fmt.Errorf("log ends at %d, before %d", s.LastSeq(), hi)
				}
				return parts[w].Scan(s, lo, hi, seen)
			})
		}(w)
	}
	wg.Wait()
	for w, err := range errs {
		if err != nil {
			return fmt.Errorf("scan part %d: %w", w, err)
		}
	}
	for _, p := range parts {
		if err := f.Merge(p); err != nil {
			return err
		}
	}
	return nil
}

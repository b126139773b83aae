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
// each scanned in its own read transaction, then merged in log order (a
// Pipeliner's in smaller pieces, merged while the next are scanned: see
// foldPipelined). seen counts the records read, for progress.
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
		pf.PrefetchScan(stop)
	}
	workers := o.workers
	if workers < 1 || n < o.parallelMin {
		workers = 1
	}
	if pl, ok := f.(Pipeliner); ok && workers > 1 && pl.ScansBesideMerge() {
		return foldPipelined(ctx, log, f, from, to, workers, seen)
	}
	if ao, ok := f.(AnyOrder); ok && workers > 1 && n/uint64(2*workers) >= max(o.anyOrderPiece, 1) && ao.PartsInAnyOrder() {
		return foldAnyOrder(ctx, log, f, from, to, workers, max(o.anyOrderPiece, 1), seen)
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
	return mergeParts(f, parts, errs)
}

// Pipeliner is a fold whose parts' Scan read nothing that its Merge writes
// (ScansBesideMerge reports it), so that a build may scan the later parts
// of a range while it merges the earlier ones (foldPipelined): a fold whose
// Merge costs as much as the scan, such as the detector's judgements, then
// keeps both cores busy instead of leaving one idle while it merges.
type Pipeliner interface {
	ScansBesideMerge() bool
}

// pipelinePiece is the number of records of a piece of a pipelined range.
const pipelinePiece = 1 << 18

// foldPipelined is foldRange for a Pipeliner: the range is cut into
// consecutive pieces of about pipelinePiece records (at least two per
// worker), which workers goroutines scan in order, each in its own read
// transaction and at most workers+1 pieces ahead of the merge, while this
// goroutine merges them in log order as each is ready. The fold's Merge
// thus runs beside its parts' Scan, never beside another of its methods.
func foldPipelined(ctx context.Context, log Log, f Fold, from, to uint64, workers int, seen *atomic.Uint64) error {
	n := to - from + 1
	pieces := max(uint64(2*workers), (n+pipelinePiece-1)/pipelinePiece)
	pieces = min(pieces, n)
	type piece struct {
		p    Part
		err  error
		done chan struct{}
	}
	ps := make([]piece, pieces)
	for i := range ps {
		ps[i] = piece{p: f.NewPart(), done: make(chan struct{})}
	}
	var next atomic.Uint64
	// slots holds a token for each piece being scanned or scanned and not
	// yet merged; pieces are taken in order once a token is held, so the
	// first piece not merged is always taken or free to take.
	slots := make(chan struct{}, workers+1)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case slots <- struct{}{}:
				case <-stop:
					return
				}
				i := next.Add(1) - 1
				if i >= pieces {
					<-slots
					return
				}
				lo, hi := from+n*i/pieces, from+n*(i+1)/pieces-1
				ps[i].err = log.ViewRecords(func(s Snapshot) error {
					if s.LastSeq() < hi {
						return fmt.Errorf("log ends at %d, before %d", s.LastSeq(), hi)
					}
					return ps[i].p.Scan(s, lo, hi, seen)
				})
				close(ps[i].done)
			}
		}()
	}
	var err error
	for i := range ps {
		select {
		case <-ps[i].done:
		case <-ctx.Done():
			err = ctx.Err()
		}
		if err != nil {
			break
		}
		if ps[i].err != nil {
			err = fmt.Errorf("scan part %d: %w", i, ps[i].err)
			break
		}
		if err = f.Merge(ps[i].p); err != nil {
			break
		}
		ps[i].p = nil
		<-slots
	}
	close(stop)
	wg.Wait()
	return err
}

// mergeParts ends a parallel fold: the first worker's error if any (errs[w]
// is worker w's), else f merges the parts in order.
func mergeParts(f Fold, parts []Part, errs []error) error {
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

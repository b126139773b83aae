package projections

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// AnyOrder is a fold whose Merge gives the same state whatever order its
// parts come in and however the range was cut among them, and whose parts
// may Scan several ranges, one after another and not consecutive
// (PartsInAnyOrder reports it): counts, sums, least and greatest values. A
// build then cuts a long range into pieces that its workers take in log
// order as each is free (foldAnyOrder), so that they follow the log file's
// read-ahead together instead of one starting mid-file, and a worker slowed
// by a busy core takes fewer pieces.
type AnyOrder interface {
	PartsInAnyOrder() bool
}

// foldAnyOrder is foldRange for an AnyOrder fold: the range is cut into
// consecutive pieces of about piece records (options.anyOrderPiece, by
// default 2^18: about 256 blocks, 7 MB of the benchmark log), which workers
// goroutines take in order, each into its one part, in its one read
// transaction; then the parts are merged.
func foldAnyOrder(ctx context.Context, log Log, f Fold, from, to uint64, workers int, piece uint64, seen *atomic.Uint64) error {
	n := to - from + 1
	pieces := (n + piece - 1) / piece
	parts := make([]Part, workers)
	errs := make([]error, workers)
	var next atomic.Uint64
	var wg sync.WaitGroup
	for w := range workers {
		parts[w] = f.NewPart()
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = log.ViewRecords(func(s Snapshot) error {
				if s.LastSeq() < to {
					return fmt.Errorf("log ends at %d, before %d", s.LastSeq(), to)
				}
				for {
					if err := ctx.Err(); err != nil {
						return err
					}
					i := next.Add(1) - 1
					if i >= pieces {
						return nil
					}
					lo, hi := from+n*i/pieces, from+n*(i+1)/pieces-1
					if err := parts[w].Scan(s, lo, hi, seen); err != nil {
						next.Store(pieces) // the others stop at their next piece
						return fmt.Errorf("records %d to %d: %w", lo, hi, err)
					}
				}
			})
		}()
	}
	wg.Wait()
	return mergeParts(f, parts, errs)
}

package customers

import "sync"

// inWorkers runs fn(0) to fn(workers-1) on goroutines of their own and
// returns, once all have returned, the first error by worker number.
func inWorkers(workers int, fn func(w int) error) error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[w] = fn(w)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

package eventstore

import (
	"context"
	"sync"
)

// AppendBatch stores b.Events, and counts the dead letters of
// b.DeadLetters the log had not counted, through the group
// committer, and returns once every transaction holding them has
// committed (with fsync). It is Append for many events at once: the events
// join the committer's queue together, so one caller's batch and other
// callers' events share transactions, and the caller waits once instead of
// once per event. A batch may be split over consecutive transactions.
//
// The results are in the order of b.Events, then of b.DeadLetters.
// Every event is validated first (unless b is marked Valid): if one is
// invalid, nothing is queued, b.Queued is not called, and the error
// (EINVALID) names its index. After a store failure the error is
// returned; some of the events may have been stored (a retry drops them as
// duplicates). The events are read in place, not copied: b.Events must not
// change until AppendBatch returns.
func (c *Committer) AppendBatch(ctx context.Context, b Batch) ([]Result, error) {
	// A batch rejected as invalid returns before its Queued is armed: its
	// caller keeps its place to store the batch's valid events in it.
	if err := b.validate(); err != nil {
		return nil, err
	}
	if b.Queued != nil {
		q := b.Queued
		var once sync.Once
		b.Queued = func() { once.Do(q) }
		defer b.Queued() // a return before the events joined the queue
	}
	n := len(b.Events) + len(b.DeadLetters)
	if n == 0 {
		return nil, nil
	}
	if b.Epoch != 0 && b.Epoch != c.epoch.Load() {
		return nil, ErrFenced
	}
	ps := make([]*pending, 0, n)
	var queueErr error
	c.closeMu.RLock()
	if c.closed {
		c.closeMu.RUnlock()
		c.failed(b)
		return nil, ErrClosed
	}
	// One batch at a time joins the queue, so that a batch's events stay
	// consecutive in the log: consecutive stream sequences then make one
	// run (streamseq.go) instead of one per event of interleaved batches.
	c.batchMu.Lock()
queue:
	for i := range n {
		p := pendingPool.Get().(*pending)
		if i < len(b.Events) {
			p.ev = &b.Events[i]
			if i < len(b.StreamSeqs) {
				p.streamSeq = b.StreamSeqs[i]
			}
		} else {
			p.deadLetter, p.dead = true, b.DeadLetters[i-len(b.Events)]
		}
		p.epoch = b.Epoch
		select {
		case c.reqs <- p:
			ps = append(ps, p)
		default:
			select {
			case c.reqs <- p:
				ps = append(ps, p)
			case <-ctx.Done():
				*p = pending{done: p.done}
				pendingPool.Put(p)
				queueErr = ctx.Err()
				break queue
			}
		}
	}
	if queueErr != nil {
		c.failed(b) // what of it joined the queue is fenced too
	}
	c.batchMu.Unlock()
	c.closeMu.RUnlock()
	if b.Queued != nil {
		b.Queued()
	}
	// Once queued a request is always completed: wait for every one, so
	// that the caller knows the outcome before acknowledging anything.
	results := make([]Result, len(b.Events)+len(b.DeadLetters))
	err := queueErr
	for i, p := range ps {
		<-p.done
		if p.err != nil && err == nil {
			err = p.err
		}
		if i < len(results) {
			results[i] = p.res
		}
		*p = pending{done: p.done}
		pendingPool.Put(p)
	}
	if err != nil {
		return nil, err
	}
	return results, nil
}

// failed moves the epoch on when b, which has one, failed before all of it
// joined the queue: no batch after it in its chain may then commit.
func (c *Committer) failed(b Batch) {
	if b.Epoch != 0 {
		c.epoch.CompareAndSwap(b.Epoch, b.Epoch+1)
	}
}

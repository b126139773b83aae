package eventstore

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plaint/plaint/domain"
)

// Committer group-commits appends from many goroutines: each caller waits for
// its own event, and all events that arrive while a transaction commits go
// into the next one. Under load this turns one fsync per event into one fsync
// per few thousand events without adding latency when idle.
type Committer struct {
	log      *Log
	reqs     chan *pending
	maxBatch int
	wg       sync.WaitGroup
	stopOnce sync.Once
	stop     chan struct{}

	closeMu  sync.RWMutex // held for reading while submitting, for writing to close
	closed   bool
	batchMu  sync.Mutex // held while one AppendBatch queues its events
	onCommit func(events, duplicates int)
	onBatch  func(size int, took time.Duration)
	epoch    atomic.Uint64 // see Epoch
}

type pending struct {
	// ev is the event: the caller's own in an AppendBatch (it waits until
	// the event is committed), own in an Append.
	ev         *domain.Event
	own        domain.Event
	streamSeq  uint64     // the event's JetStream stream sequence, 0 when none
	epoch      uint64     // its batch's Epoch, 0 when none
	deadLetter bool       // a dead letter to count, not an event
	dead       DeadLetter // the dead letter's stream message (Batch.DeadLetters)
	res        Result
	err        error
	done       chan struct{}
}

// CommitterOption configures a Committer.
type CommitterOption func(*Committer)

// WithMaxBatch bounds the events in one transaction (default 8192).
func WithMaxBatch(n int) CommitterOption { return func(c *Committer) { c.maxBatch = n } }

// WithCommitHook is called after every commit with the number of events
// stored and dropped as duplicates; metrics use it.
func WithCommitHook(fn func(stored, duplicates int)) CommitterOption {
	return func(c *Committer) { c.onCommit = fn }
}

// WithBatchHook calls fn after each batch is committed (or failed) with its
// size (events and dead-letter counts) and the time the append took, for
// metrics.
func WithBatchHook(fn func(size int, took time.Duration)) CommitterOption {
	return func(c *Committer) { c.onBatch = fn }
}

// NewCommitter starts a committer on the log. Close stops it.
func NewCommitter(l *Log, opts ...CommitterOption) *Committer {
	c := &Committer{log: l, maxBatch: 8192, stop: make(chan struct{})}
	c.epoch.Store(1)
	for _, o := range opts {
		o(c)
	}
	c.reqs = make(chan *pending, c.maxBatch)
	c.wg.Add(1)
	go c.run()
	return c
}

var pendingPool = sync.Pool{New: func() any { return &pending{done: make(chan struct{}, 1)} }}

// Epoch returns the committer's epoch: it starts at 1 and moves on with
// every transaction that fails and every batch with an Epoch that fails
// before all of it joined the queue. A batch given an Epoch that has
// passed is not stored (see Batch.Epoch).
func (c *Committer) Epoch() uint64 { return c.epoch.Load() }

// Append stores ev and returns once the transaction holding it has committed.
// An invalid event is rejected at once without affecting others.
func (c *Committer) Append(ctx context.Context, ev domain.Event) (Result, error) {
	if err := domain.Validate(&ev); err != nil {
		return Result{}, err
	}
	return c.submit(ctx, ev, nil)
}

// DeadLettered counts the dead letter of the stream message d, durably, in
// the next transaction, unless the log counted it before (Result.Duplicate;
// see Batch.DeadLetters).
func (c *Committer) DeadLettered(ctx context.Context, d DeadLetter) (Result, error) {
	return c.submit(ctx, domain.Event{}, &d)
}

// submit queues ev, or the dead letter dead when it is not nil, and
// returns its result once the transaction holding it has committed.
func (c *Committer) submit(ctx context.Context, ev domain.Event, dead *DeadLetter) (Result, error) {
	p := pendingPool.Get().(*pending)
	if dead == nil {
		p.own = ev
		p.ev = &p.own
	} else {
		p.deadLetter, p.dead = true, *dead
	}
	c.closeMu.RLock()
	if c.closed {
		c.closeMu.RUnlock()
		return Result{}, ErrClosed
	}
	select {
	case c.reqs <- p:
		c.closeMu.RUnlock()
	case <-ctx.Done():
		c.closeMu.RUnlock()
		return Result{}, ctx.Err()
	}
	// Once queued the request is always completed, so wait without ctx: the
	// caller must not acknowledge anything before knowing the outcome.
	<-p.done
	res, err := p.res, p.err
	*p = pending{done: p.done}
	pendingPool.Put(p)
	return res, err
}

func (c *Committer) run() {
	defer c.wg.Done()
	batch := make([]*pending, 0, c.maxBatch)
	events := make([]*domain.Event, 0, c.maxBatch)
	streams := make([]uint64, 0, c.maxBatch)
	var deads []DeadLetter
	for {
		var first *pending
		select {
		case first = <-c.reqs:
		case <-c.stop:
			// Nothing can be queued any more: drain what was, then stop.
			select {
			case first = <-c.reqs:
			default:
				return
			}
		}
		batch = append(batch[:0], first)
	fill:
		for len(batch) < c.maxBatch {
			select {
			case p := <-c.reqs:
				batch = append(batch, p)
			default:
				break fill
			}
		}
		events, streams, deads = events[:0], streams[:0], deads[:0]
		anyStream := false
		epoch := c.epoch.Load()
		for _, p := range batch {
			if p.epoch != 0 && p.epoch != epoch {
				p.err = ErrFenced // a batch before it failed
				continue
			}
			if p.deadLetter {
				deads = append(deads, p.dead)
			} else {
				events = append(events, p.ev)
				streams = append(streams, p.streamSeq)
				anyStream = anyStream || p.streamSeq != 0
			}
		}
		if !anyStream {
			streams = streams[:0]
		}
		began := time.Now()
		var results []Result
		var err error
		if len(events) > 0 || len(deads) > 0 {
			results, err = c.log.appendValid(events, streams, deads)
		}
		if err != nil {
			c.epoch.Add(1) // before any later transaction
		}
		if c.onBatch != nil {
			c.onBatch(len(batch), time.Since(began))
		}
		i, d, stored, dups := 0, len(events), 0, 0
		for _, p := range batch {
			if p.err == ErrFenced {
				p.done <- struct{}{}
				continue
			}
			p.err = err
			if p.deadLetter && err == nil {
				p.res = results[d] // counted before, or not
				d++
			}
			if !p.deadLetter && err == nil {
				p.res = results[i]
				if p.res.Duplicate {
					dups++
				} else {
					stored++
				}
				i++
			}
			p.done <- struct{}{}
		}
		clear(events) // the callers' events are theirs again
		if err == nil && c.onCommit != nil {
			c.onCommit(stored, dups)
		}
	}
}

// Close stops the committer after the requests already queued are committed.
// It does not close the log.
func (c *Committer) Close() {
	c.stopOnce.Do(func() {
		c.closeMu.Lock()
		c.closed = true
		c.closeMu.Unlock()
		close(c.stop) // no submitter can queue after this; run drains the queue
	})
	c.wg.Wait()
}

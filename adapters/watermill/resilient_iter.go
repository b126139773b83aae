package watermill

import (
	"context"
	"errors"
	"sync"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"
)

// resilientIter is a pull iterator that outlives a restart of JetStream
// (after a full disk, plaint restarts the embedded server's JetStream, see
// adapters/nats.Server.RestartJetStream): when the iterator reports missed
// heartbeats, it makes a new iterator on
// the consumer, waiting longer between tries (to a minute) while it keeps
// failing, instead of ending the subscription. Before each new iterator it
// calls heal, when set, with the heartbeats missed in a row without a
// delivery (see Healing).
type resilientIter struct {
	open   func() (jetstream.MessagesContext, error)
	logger wm.LoggerAdapter
	heal   func(ctx context.Context, misses int)

	// misses are the heartbeats missed in a row since the last delivery,
	// lastMiss when the last was; only Next's caller uses them.
	misses   int
	lastMiss time.Time

	mu      sync.Mutex
	cur     jetstream.MessagesContext
	stopped bool
	drained bool
	wake    chan struct{} // closed by Stop and Drain
}

func newResilientIter(open func() (jetstream.MessagesContext, error), logger wm.LoggerAdapter) (*resilientIter, error) {
	it, err := open()
	if err != nil {
		return nil, err
	}
	return &resilientIter{open: open, logger: logger, cur: it, wake: make(chan struct{})}, nil
}

// transient reports whether an iterator error is worth a new iterator:
// missed heartbeats, what a JetStream restart looks like to a pull. A
// deleted consumer is not (serve stops on it, for a supervisor).
func transient(err error) bool { return errors.Is(err, jetstream.ErrNoHeartbeat) }

// Next returns the next message, making a new iterator after a transient
// error.
func (r *resilientIter) Next(opts ...jetstream.NextOpt) (jetstream.Msg, error) {
	wait := 100 * time.Millisecond
	for {
		r.mu.Lock()
		cur, ended := r.cur, r.stopped || r.drained
		r.mu.Unlock()
		jm, err := cur.Next(opts...)
		if err == nil {
			r.misses = 0
		}
		if err == nil || !transient(err) || ended {
			return jm, err
		}
		if time.Since(r.lastMiss) > missesInARow {
			r.misses = 0
		}
		r.misses++
		r.lastMiss = time.Now()
		r.logger.Error("Pull iterator lost the server (JetStream restarted?); making a new one", err, wm.LogFields{"retry_in": wait.String(), "misses": r.misses})
		if r.heal != nil {
			ctx, cancel := untilWoken(r.wake, healTimeout)
			r.heal(ctx, r.misses)
			cancel()
		}
		for {
			select {
			case <-time.After(wait):
			case <-r.wake:
				return nil, jetstream.ErrMsgIteratorClosed
			}
			it, oerr := r.open()
			if oerr == nil {
				cur.Stop()
				r.mu.Lock()
				if r.stopped || r.drained {
					r.mu.Unlock()
					it.Stop()
					return nil, jetstream.ErrMsgIteratorClosed
				}
				r.cur = it
				r.mu.Unlock()
				break
			}
			wait = min(2*wait, time.Minute)
		}
		wait = 100 * time.Millisecond
	}
}

// haltTimeout bounds how long halt waits for the stopped iterator's
// subscription to close.
const haltTimeout = 5 * time.Second

// halt stops the current iterator, for resume to replace it, and returns
// once its subscription is closed: its unsubscribe is then on the
// connection ahead of anything sent after halt (a consumer reset), so that
// the server delivers nothing sent after halt to the old iterator's pull.
//
// nats.go's Stop only signals the iterator's goroutine, which unsubscribes
// later: a reset sent right after Stop could reach the server first, and
// the server would hand the redelivered messages to the old pull's
// request, still open, to be lost with the iterator and delivered again
// only after the ack wait (30 s by default), after the messages behind
// them.
func (r *resilientIter) halt() {
	r.mu.Lock()
	cur := r.cur
	cur.Stop()
	r.mu.Unlock()
	if !waitClosed(cur, haltTimeout) {
		r.logger.Error("The stopped pull iterator did not close; pulling anew regardless (a delivery to it comes again after the ack wait)",
			errors.New("iterator still subscribed"), wm.LogFields{"waited": haltTimeout.String()})
	}
}

// closer is what nats.go's pull iterator has beyond MessagesContext: a
// channel that is closed once its subscription is. (The channel an
// iterator of Messages returns is closed only if the subscription is
// closed when it is asked for, so waitClosed asks again.)
type closer interface{ Closed() <-chan struct{} }

// waitClosed waits up to timeout until it's subscription is closed, and
// reports whether it closed (true at once when it does not say).
func waitClosed(it jetstream.MessagesContext, timeout time.Duration) bool {
	c, ok := it.(closer)
	if !ok {
		return true
	}
	deadline := time.Now().Add(timeout)
	for wait := 50 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		select {
		case <-c.Closed():
			return true
		default:
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(wait)
	}
}

// resume replaces the current iterator with a new one (what the old one
// still holds is dropped: the consumer delivers it again).
func (r *resilientIter) resume() error {
	it, err := r.open()
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stopped || r.drained {
		it.Stop()
		return jetstream.ErrMsgIteratorClosed
	}
	r.cur.Stop()
	r.cur = it
	return nil
}

// Stop stops the current iterator.
func (r *resilientIter) Stop() { r.end(false) }

// Drain drains the current iterator.
func (r *resilientIter) Drain() { r.end(true) }

// end drains or stops the current iterator; the first call also wakes a
// Next waiting to replace it.
func (r *resilientIter) end(drain bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.stopped && !r.drained {
		close(r.wake)
	}
	if drain {
		r.drained = true
		r.cur.Drain()
	} else {
		r.stopped = true
		r.cur.Stop()
	}
}

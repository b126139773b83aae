package watermill

import (
	"context"
	"sync"
	"time"
)

// turn is a group's place in the order its subscription handed groups out,
// which is the stream's order (redeliveries aside: a message nacked, or not
// acked within the ack wait, comes back after later ones). The Router
// handles groups concurrently, so without turns two groups could join the
// committer's queue in either order; with them the handler of a group
// queues its events only after the group before it queued its own (or was
// settled without), and the log holds the stream's messages in the stream's
// order. The committer still commits the queued groups together. A cluster
// relies on it: every node's log is then in the same order (the alert
// detector's answers depend on it), and a stream position maps to a prefix
// of each node's log (as_of=stream:N).
//
// A group that fails (a failure of plaint itself: its message is nacked)
// would come back after the groups behind it. So a failure holds the
// group's chain (the groups handed out since the subscription last rewound
// its consumer, see chain): no later group of it is stored, and the
// subscription rewinds its consumer to the ack floor once the failure's
// back-off has passed, which delivers the failed group again, and what
// follows it, in order. A group queued already behind the failed one is
// fenced by the committer (eventstore.Batch.Epoch).
type turn struct {
	prev  <-chan struct{} // closed when the group before may be overtaken
	mine  chan struct{}
	once  sync.Once
	chain *chain // nil: failures do not hold the groups after (no Rewind)
}

// closedTurn is the turn before a subscription's first group.
var closedTurn = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// nextTurn returns the turn after the one whose channel is prev, in ch.
func nextTurn(prev <-chan struct{}, ch *chain) *turn {
	return &turn{prev: prev, mine: make(chan struct{}), chain: ch}
}

// wait returns once the group before may be overtaken, or ctx ended.
func (t *turn) wait(ctx context.Context) error {
	if t == nil {
		return nil
	}
	select {
	case <-t.prev:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pass lets the group after go once the group before may be overtaken: what
// a group with nothing to store does (letting it go at once would let the
// group after it queue before the group before it). It returns ctx's error
// when ctx ends first, the group after still held.
func (t *turn) pass(ctx context.Context) error {
	if err := t.wait(ctx); err != nil {
		return err
	}
	t.done()
	return nil
}

// done lets the group after go; it may be called more than once.
func (t *turn) done() {
	if t != nil {
		t.once.Do(func() { close(t.mine) })
	}
}

// held reports whether a group of t's chain failed: t's group must not be
// stored now.
func (t *turn) held() bool {
	if t == nil || t.chain == nil {
		return false
	}
	held, _ := t.chain.heldUntil()
	return held
}

// hold holds t's chain until retryAt (see chain.hold).
func (t *turn) hold(retryAt time.Time) {
	if t != nil && t.chain != nil {
		t.chain.hold(retryAt)
	}
}

// epoch returns the committer epoch of t's chain, current() when the
// chain's first group to append asks (0 without a chain: nothing fenced).
func (t *turn) epoch(current func() uint64) uint64 {
	if t == nil || t.chain == nil {
		return 0
	}
	t.chain.epochOnce.Do(func() { t.chain.epoch = current() })
	return t.chain.epoch
}

// chain is the groups a subscription hands out between two rewinds of its
// consumer (batch mode with a Rewind). Once one of them failed it is held:
// the later ones are not stored, and the subscription rewinds.
type chain struct {
	mu      sync.Mutex
	held    bool
	retryAt time.Time // the latest retry time a failure asked for

	epochOnce sync.Once
	epoch     uint64 // eventstore.Committer.Epoch when the chain first appended
}

// hold holds the chain: a group failed and asks to be retried at retryAt.
func (c *chain) hold(retryAt time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = true
	if retryAt.After(c.retryAt) {
		c.retryAt = retryAt
	}
}

// heldUntil reports whether the chain is held, and when its failed group
// may be retried.
func (c *chain) heldUntil() (bool, time.Time) {
	if c == nil {
		return false, time.Time{}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.held, c.retryAt
}

type turnKey struct{}

// withTurn returns ctx carrying t.
func withTurn(ctx context.Context, t *turn) context.Context {
	return context.WithValue(ctx, turnKey{}, t)
}

// turnOf returns the turn ctx carries, or nil (a message handed out one by
// one, or not by a Subscriber).
func turnOf(ctx context.Context) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	return t
}

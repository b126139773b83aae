package watermill

import (
	"context"
	"sync"
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
type turn struct {
	prev <-chan struct{} // closed when the group before may be overtaken
	mine chan struct{}
	once sync.Once
}

// closedTurn is the turn before a subscription's first group.
var closedTurn = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// nextTurn returns the turn after the one whose channel is prev.
func nextTurn(prev <-chan struct{}) *turn { return &turn{prev: prev, mine: make(chan struct{})} }

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

// done lets the group after go; it may be called more than once.
func (t *turn) done() {
	if t != nil {
		t.once.Do(func() { close(t.mine) })
	}
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

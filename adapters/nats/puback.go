package nats

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ackRouter publishes the Publisher's messages to JetStream, each with a
// reply subject under an inbox of its own, and hands each PubAck that comes
// back (or the server's "no responders" status) to the message it answers.
//
// It does what nats.go's PublishMsgAsync does for the Publisher, for less:
// that costs a future with two channels, a timer and an encoding/json
// decode of the PubAck for every message: about 2 CPU-µs an event in
// `plaint emit` (BENCHMARKS.md, "The publisher's own PubAck routing"). The
// Publisher already bounds what is in flight (Window), keeps the order and
// times the acks out itself.
type ackRouter struct {
	nc     *nats.Conn
	prefix string // the inbox, "." included: the reply subject is prefix + token
	sub    *nats.Subscription
	// slots holds a token per message awaiting its ack, MaxPending at most;
	// a send that finds none free for StallWait fails as stalled.
	slots     chan struct{}
	stallWait time.Duration

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]*pubItem
}

func newAckRouter(nc *nats.Conn, maxPending int, stallWait time.Duration) (*ackRouter, error) {
	r := &ackRouter{
		nc: nc, prefix: nc.NewInbox() + ".", slots: make(chan struct{}, maxPending), stallWait: stallWait,
		waiting: make(map[uint64]*pubItem, maxPending),
	}
	sub, err := nc.Subscribe(r.prefix+"*", r.handle)
	if err != nil {
		return nil, fmt.Errorf("nats: subscribe to the PubAck inbox: %w", err)
	}
	// A dropped ack would only time out and be re-sent, but need not be:
	// the Publisher's Window bounds what can queue here.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		sub.Unsubscribe()
		return nil, fmt.Errorf("nats: PubAck inbox: %w", err)
	}
	// The server has the subscription before the first publish's ack;
	// if the connection is down now, a lost early ack only times out and
	// is re-sent.
	_ = nc.FlushTimeout(2 * time.Second)
	r.sub = sub
	return r, nil
}

// send publishes it with a reply subject that routes its ack to it.res.
// It fails with jetstream.ErrTooManyStalledMsgs when MaxPending messages
// await their acks for StallWait, and with nats.go's error when the
// connection cannot take the message; it then awaits nothing.
func (r *ackRouter) send(it *pubItem) error {
	select {
	case r.slots <- struct{}{}:
	default:
		t := time.NewTimer(r.stallWait)
		select {
		case r.slots <- struct{}{}:
			t.Stop()
		case <-t.C:
			return jetstream.ErrTooManyStalledMsgs
		}
	}
	r.mu.Lock()
	r.next++
	it.token = r.next
	r.waiting[it.token] = it
	r.mu.Unlock()
	var tb [24]byte
	it.msg.Reply = r.prefix + string(strconv.AppendUint(tb[:0], it.token, 36))
	it.sentAt = time.Now()
	if err := r.nc.PublishMsg(it.msg); err != nil {
		r.forget(it)
		return err
	}
	return nil
}

// forget stops awaiting it's ack and reports whether it was still awaited:
// false means the ack came first and is in it.res.
func (r *ackRouter) forget(it *pubItem) bool {
	r.mu.Lock()
	_, ok := r.waiting[it.token]
	if ok {
		delete(r.waiting, it.token)
	}
	r.mu.Unlock()
	if ok {
		<-r.slots
	}
	return ok
}

// handle routes one answer to the message it answers. An answer to a
// message no longer awaited is dropped: the message timed out, and the
// Publisher has sent it again (a repeat the stream then reports as a
// duplicate) or counted it as failed. So is a subject without a token of
// ours, which no send of this router wrote.
func (r *ackRouter) handle(m *nats.Msg) {
	token, err := strconv.ParseUint(m.Subject[len(r.prefix):], 36, 64)
	if err != nil {
		return
	}
	r.mu.Lock()
	it, ok := r.waiting[token]
	if ok {
		delete(r.waiting, token)
	}
	r.mu.Unlock()
	if !ok {
		return
	}
	<-r.slots
	it.res <- readPubAck(m)
}

// close stops routing acks.
func (r *ackRouter) close() { r.sub.Unsubscribe() }

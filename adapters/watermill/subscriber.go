package watermill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/delay"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/internal/problems"
)

// Metadata keys the Subscriber sets on every Watermill message.
const (
	// MetaSubject is the NATS subject the message was published to (one
	// message per JetStream message).
	MetaSubject = "nats_subject"
	// MetaStream and MetaConsumer name the stream and the consumer the
	// message was read from.
	MetaStream   = "nats_stream"
	MetaConsumer = "nats_consumer"
	// MetaStreamSeq is the message's sequence in the stream, MetaDelivered
	// how often the server delivered it, this time included, and
	// MetaTimestamp when the stream stored it, in Unix nanoseconds (one
	// message per JetStream message).
	MetaStreamSeq = "nats_stream_seq"
	MetaDelivered = "nats_delivered"
	MetaTimestamp = "nats_timestamp"
	// MetaContentType is GroupContentType on a message that stands for a
	// group of JetStream messages (batch mode; see ReadGroup).
	MetaContentType = "content_type"
	// MetaBatch is the number of JetStream messages a group holds, and
	// MetaStreamSeqFirst and MetaStreamSeqLast its lowest and highest
	// stream sequence.
	MetaBatch          = "nats_batch"
	MetaStreamSeqFirst = "nats_stream_seq_first"
	MetaStreamSeqLast  = "nats_stream_seq_last"
)

// HeaderUUID is the NATS header holding a Watermill message's UUID, as
// watermill-nats publishers write it (its NATSMarshaler): the Subscriber
// gives a message published by them its UUID back.
const HeaderUUID = "_watermill_message_uuid"

// Defaults of SubscriberConfig and Config. DefaultPullBatch is the
// in-flight window's size: with pulls of 2048 the 1M-event drain into a
// 10M log committed ~700 events a transaction, with 8192 ~1,900, at 3-4%
// less CPU an event (BENCHMARKS.md, "Drain, 2026-12-03").
const (
	DefaultMaxInFlight = 8192
	DefaultPullBatch   = 8192
	DefaultBatch       = 1024
	DefaultBatchWait   = time.Millisecond
)

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// Consumer returns the JetStream pull consumer Subscribe(topic) reads.
	// Required. The consumer's connection must stay open until Close
	// returns. (adapters/nats.Client.IngestConsumer gives plaint's.)
	Consumer func(ctx context.Context, topic string) (jetstream.Consumer, error)
	// Flush, when set, is called by Close after the last acknowledgement
	// was sent, so that the acknowledgements (published asynchronously)
	// have reached the server when Close returns
	// (adapters/nats.Client.Flush, nats.Conn.FlushWithContext).
	Flush func(ctx context.Context) error
	// MaxInFlight bounds the JetStream messages handed to the router and
	// not yet acknowledged or rejected. It should be at least twice the
	// committer's batch, and below the consumer's MaxAckPending minus
	// PullBatch. Default DefaultMaxInFlight.
	MaxInFlight int
	// PullBatch is the number of messages asked for in one pull request;
	// the client keeps up to that many buffered. Default DefaultPullBatch.
	PullBatch int
	// NakDelay is how long the server waits before it redelivers a message
	// whose Watermill message was nacked without a delay of its own (see
	// Subscriber). Default 1s.
	NakDelay time.Duration
	// CloseTimeout bounds how long Close waits for messages already handed
	// out to be acknowledged or nacked. Default 30s.
	CloseTimeout time.Duration
	// Logger receives errors; nil discards them.
	Logger wm.LoggerAdapter
	// Batch, when above 1, turns on batch mode: one Watermill message
	// stands for a group of up to Batch JetStream messages (see
	// GroupContentType), made of whatever the pull iterator has ready,
	// waiting at most BatchWait for more after the first. Acking the
	// Watermill message acks every JetStream message of the group,
	// nacking it naks them all. MaxInFlight still counts JetStream
	// messages. Default 1 (one Watermill message per JetStream message).
	Batch int
	// BatchWait bounds how long a group waits for more messages once it
	// has one. Default DefaultBatchWait.
	BatchWait time.Duration
	// Rewind, when set, makes the consumer deliver again, in order, every
	// message after its ack floor, numbering its deliveries from 1 again
	// (adapters/nats.Client.ResetConsumer, a JetStream consumer reset);
	// those the Subscriber had handed out before count as redeliveries.
	// In batch mode the Subscriber calls it when a delivery is missing
	// (the consumer sequences of its deliveries skip one: a delivery lost
	// with a server that died, or with a pull request that expired or was
	// renewed; or its first delivery is not the consumer's first, so a
	// consumer that delivered before and was not reset is rewound at
	// once), and when a group was nacked (a failure of plaint itself),
	// once every message handed out is settled (and, after a nack, its
	// delay has passed), and then pulls anew: without it the lost message, or the
	// nacked group, would come back after later ones, and the log would
	// not keep the stream's order. Meanwhile the groups handed out after a
	// nacked one are held (see turn.go).
	Rewind func(ctx context.Context) error
	// Heal is what the Subscriber does when its pulls keep missing their
	// heartbeats with no delivery (see Healing); the zero value logs the
	// consumer's info every Every misses.
	Heal Healing
}

func (c *SubscriberConfig) setDefaults() {
	c.MaxInFlight = cmp.Or(c.MaxInFlight, DefaultMaxInFlight)
	c.PullBatch = cmp.Or(c.PullBatch, DefaultPullBatch)
	c.NakDelay = cmp.Or(c.NakDelay, time.Second)
	c.CloseTimeout = cmp.Or(c.CloseTimeout, 30*time.Second)
	if c.Logger == nil {
		c.Logger = wm.NopLogger{}
	}
	c.Batch = cmp.Or(c.Batch, 1)
	c.BatchWait = cmp.Or(c.BatchWait, DefaultBatchWait)
	c.Heal.setDefaults()
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *SubscriberConfig) Validate() error {
	var errs []error
	if c.Consumer == nil {
		errs = append(errs, errors.New("the Consumer is required"))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, errors.New("MaxInFlight must be positive"))
	}
	if c.PullBatch < 1 {
		errs = append(errs, errors.New("PullBatch must be positive"))
	}
	if c.NakDelay < 0 || c.CloseTimeout < 0 || c.BatchWait < 0 {
		errs = append(errs, errors.New("NakDelay, CloseTimeout and BatchWait must not be negative"))
	}
	if c.Batch < 1 {
		errs = append(errs, errors.New("the Batch must be positive"))
	}
	if c.Heal.Every < 1 {
		errs = append(errs, errors.New("Heal.Every must be positive"))
	}
	return problems.Join(ErrConfig, errs)
}

// Subscriber is a Watermill message.Subscriber on JetStream pull consumers
// that keeps up to MaxInFlight messages in flight. A JetStream message is
// acknowledged (asynchronously, with its own Ack: consumers stay
// AckExplicit) when its Watermill message is acked, and negatively
// acknowledged when it is nacked, with the delay Watermill's delay package
// set on the message (delay.Message; the DelayOnError middleware sets one)
// or NakDelay. It is safe for concurrent use.
//
// A Watermill message's payload is the JetStream message's data, its
// metadata the message's headers (but Nats-Msg-Id and the Nats-Expected-*
// ones) with MetaSubject, MetaStream, MetaConsumer, MetaStreamSeq,
// MetaDelivered and MetaTimestamp, and its UUID the HeaderUUID header, or
// <stream>:<sequence> when there is none. In batch mode a Watermill
// message is a group (GroupContentType). A message's context is cancelled
// once the message is acked or nacked and that was sent, or when Close
// gives up waiting for it.
type Subscriber struct {
	cfg SubscriberConfig
	sem chan struct{} // one token per JetStream message in flight

	closing   chan struct{} // closed by Close: stop handing out messages
	closeOnce sync.Once
	abort     chan struct{} // closed when Close gives up waiting
	abortOnce sync.Once
	abortCtx  context.Context
	cancel    context.CancelFunc

	feeders  sync.WaitGroup // one per subscription
	inFlight sync.WaitGroup // one per Watermill message handed out
	mu       sync.Mutex
	closed   bool
	err      error // the first error that ended a subscription

	handedOut atomic.Int64 // JetStream messages handed out, not yet acked or nacked
	abandoned atomic.Int64 // JetStream messages still handed out when Close gave up
	handouts  chan handout // messages handed out, in order, for the ackers
	ackers    sync.WaitGroup
	ackOnce   sync.Once
	ackErrors atomic.Uint64
}

var _ message.Subscriber = (*Subscriber)(nil)

// ackers is the number of goroutines that wait, in per-message mode, for
// handed-out messages to be acked or nacked, each taking the oldest
// unwatched one. Messages finish roughly in the order they were handed out
// (the committer commits them in batches), so a few FIFO ackers replace a
// goroutine per message. In batch mode each group has its own goroutine.
const ackers = 4

// handout is a Watermill message handed to the router, the JetStream
// messages it was made from, and the cancellation of its context.
type handout struct {
	msg    *message.Message
	group  []jetstream.Msg
	cancel context.CancelFunc
	turn   *turn // batch mode: the group's place in the hand-out order
}

// NewSubscriber returns a Subscriber. Close releases it.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Subscriber{
		cfg:      cfg,
		sem:      make(chan struct{}, cfg.MaxInFlight),
		handouts: make(chan handout, cfg.MaxInFlight),
		closing:  make(chan struct{}),
		abort:    make(chan struct{}),
		abortCtx: ctx,
		cancel:   cancel,
	}
	for range ackers {
		s.ackers.Add(1)
		go s.acker()
	}
	return s, nil
}

// Subscribe reads the JetStream consumer the configuration's Consumer
// gives for topic and returns its messages. The channel is closed when ctx
// is cancelled, Close is called or the consumer can no longer be read (Err
// tells why). Message contexts are not cancelled by ctx: work already
// handed out is finished and acked.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	// The lookup ignores ctx's cancellation: a subscription whose ctx is
	// already done just ends at once, like one cancelled later.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cons, err := s.cfg.Consumer(lctx, topic)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	iter, err := newResilientIter(func() (jetstream.MessagesContext, error) {
		// Heartbeats every second: a JetStream restart, or a cluster
		// server killed under the pull, is noticed within 2s and the pull
		// made anew (at 5s a fail-over stalled ingest for 15-20s).
		return cons.Messages(jetstream.PullMaxMessages(s.cfg.PullBatch), jetstream.PullHeartbeat(time.Second))
	}, s.cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("subscribe to %s: %w", topic, err)
	}
	iter.heal = s.healer(topic, cons)
	out := make(chan *message.Message)
	s.feeders.Add(1)
	go s.feed(ctx, topic, iter, out)
	return out, nil
}

// drainOnStop drains iter once ctx ends, the subscriber closes or the
// feeder calls stopped; stopping reports whether the first two happened.
func (s *Subscriber) drainOnStop(ctx context.Context, iter jetstream.MessagesContext) (stopping func() bool, stopped func()) {
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-s.closing:
		case <-done:
		}
		iter.Drain() // Next returns what is buffered, then ErrMsgIteratorClosed
	}()
	stopping = func() bool {
		select {
		case <-ctx.Done():
			return true
		case <-s.closing:
			return true
		default:
			return false
		}
	}
	return stopping, func() { close(done) }
}

// next waits for room in the in-flight window and returns the next message.
// Messages that arrive while stopping are naked at once, so that they are
// redelivered without waiting for the ack wait. It returns false when the
// iterator ends, after recording why.
func (s *Subscriber) next(ctx context.Context, topic string, iter jetstream.MessagesContext, stopping func() bool) (jetstream.Msg, bool) {
	for {
		acquired := false
		if !stopping() {
			select {
			case s.sem <- struct{}{}:
				acquired = true
			case <-ctx.Done():
			case <-s.closing:
			}
		}
		jm, err := iter.Next()
		if err != nil {
			if acquired {
				<-s.sem
			}
			s.iterEnded(topic, iter, err, stopping)
			return nil, false
		}
		if acquired && !stopping() {
			return jm, true
		}
		s.nak(jm, 0)
		if acquired {
			<-s.sem
		}
	}
}

// iterEnded records why the pull iterator ended (an error unless it was
// closed on purpose) and stops it.
func (s *Subscriber) iterEnded(topic string, iter jetstream.MessagesContext, err error, stopping func() bool) {
	if !errors.Is(err, jetstream.ErrMsgIteratorClosed) {
		s.setErr(fmt.Errorf("consume %s: %w", topic, err))
		s.cfg.Logger.Error("Consumer failed", err, wm.LogFields{"topic": topic})
	} else if !stopping() {
		s.setErr(fmt.Errorf("consume %s: %w", topic, err))
	}
	iter.Stop()
}

// messageOf returns the Watermill message of one JetStream message.
func messageOf(jm jetstream.Msg) *message.Message {
	d, _ := parseAck(jm.Reply())
	md := message.Metadata{}
	uuid := ""
	for k, v := range jm.Headers() {
		switch {
		case len(v) == 0:
		case k == HeaderUUID:
			uuid = v[0]
		case k == nats.MsgIdHdr, k == nats.ExpectedStreamHdr, k == nats.ExpectedLastMsgIdHdr,
			k == nats.ExpectedLastSeqHdr, k == nats.ExpectedLastSubjSeqHdr:
		default:
			md[k] = v[0]
		}
	}
	seq := strconv.FormatUint(d.streamSeq, 10)
	if uuid == "" {
		uuid = d.stream + ":" + seq
	}
	md[MetaSubject] = jm.Subject()
	md[MetaStream] = d.stream
	md[MetaConsumer] = d.consumer
	md[MetaStreamSeq] = seq
	md[MetaDelivered] = strconv.FormatUint(d.delivered, 10)
	md[MetaTimestamp] = strconv.FormatInt(d.timestamp, 10)
	msg := message.NewMessage(uuid, jm.Data())
	msg.Metadata = md
	return msg
}

// feed moves messages from the pull iterator to out until it is told to
// stop, then naks what the client still holds so that it is redelivered at
// once instead of after the ack wait. It hands out one Watermill message
// per JetStream message or, in batch mode (Batch above 1), one per group
// (see collect).
func (s *Subscriber) feed(ctx context.Context, topic string, iter jetstream.MessagesContext, out chan<- *message.Message) {
	defer s.feeders.Done()
	defer close(out)
	stopping, stopped := s.drainOnStop(ctx, iter)
	defer stopped()
	prev := (<-chan struct{})(closedTurn)
	var handed uint64    // the last stream sequence handed out
	var seen *deliveries // lost deliveries are looked for, and failed groups retried in place, only with a Rewind
	var ch *chain        // the groups handed out since the last rewind
	if s.cfg.Rewind != nil && s.cfg.Batch > 1 {
		// The first delivery is checked too: one that is not the
		// consumer's first (consumer sequence 1, as after the reset plaint
		// makes at start) may follow deliveries lost before it, to a pull
		// renewed before its first message was read or to a stale pull of
		// an earlier process; it then rewinds the consumer at once.
		seen, ch = &deliveries{reset: true}, &chain{}
	}
	for {
		jm, ok := s.next(ctx, topic, iter, stopping)
		if !ok {
			return
		}
		if s.cfg.Batch == 1 {
			s.handOut(ctx, out, messageOf(jm), []jetstream.Msg{jm}, nil)
			continue
		}
		var group []jetstream.Msg
		var iterErr error
		lost := !seen.follows(jm)
		failed, _ := ch.heldUntil() // a group was nacked: retry it in its place
		if !lost && !failed {
			group, lost, iterErr = s.collect(iter, jm, seen)
		} else {
			<-s.sem // jm comes again after the rewind
		}
		switch {
		case len(group) == 0:
		case stopping():
			for _, jm := range group {
				s.nak(jm, 0)
				<-s.sem
			}
		default:
			t := nextTurn(prev, ch)
			prev = t.mine
			var msg *message.Message
			msg, handed = groupMessage(group, handed)
			s.handOut(ctx, out, msg, group, t)
		}
		if iterErr != nil {
			s.iterEnded(topic, iter, iterErr, stopping)
			return
		}
		if lost || failed {
			why := errLostDelivery
			if failed {
				why = errGroupFailed
			}
			if !s.rewind(ctx, topic, iter, stopping, why, ch) {
				return
			}
			*seen, ch = deliveries{reset: true}, &chain{}
		}
	}
}

// deliveries follows the consumer sequences of a subscription's
// deliveries, to notice a lost one.
type deliveries struct {
	last uint64
	// reset: the consumer was rewound (or the subscription has seen no
	// delivery yet), so its next delivery must be its first (consumer
	// sequence 1, as after a JetStream consumer reset). One that is not
	// follows deliveries lost with another pull, before the reset or
	// before the subscription's first.
	reset bool
}

// follows reports whether jm is the delivery after the last one (or,
// after a reset and at first, the consumer's first), and takes it as the
// last; a nil d takes every one.
func (d *deliveries) follows(jm jetstream.Msg) bool {
	if d == nil {
		return true
	}
	dl, ok := parseAck(jm.Reply())
	if !ok {
		return true
	}
	next := true
	switch {
	case d.last != 0:
		next = dl.consumerSeq == d.last+1
	case d.reset:
		next = dl.consumerSeq == 1
	}
	d.last = dl.consumerSeq
	return next
}

// rewind, after a lost delivery or a failed group (why), waits until every
// message handed out is settled (acked, so that the ack floor is as high as
// it gets), and, when a group of ch failed, until its back-off has passed;
// it then stops the pull (so that no delivery after the rewind goes to
// it), has Rewind move the consumer back to its ack floor, and pulls anew.
// What the old pull still held is dropped: the consumer delivers it again.
// It returns false when the subscription ends meanwhile.
func (s *Subscriber) rewind(ctx context.Context, topic string, iter jetstream.MessagesContext, stopping func() bool, why error, ch *chain) bool {
	// Logged as an error: the ingest logs its Info lines at Debug.
	s.cfg.Logger.Error("Rewinding the consumer to keep the stream's order", why, wm.LogFields{"topic": topic})
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for s.handedOut.Load() > 0 {
		if stopping() {
			return false
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return false
		case <-s.closing:
			return false
		}
	}
	if _, retryAt := ch.heldUntil(); !retryAt.IsZero() {
		select {
		case <-time.After(time.Until(retryAt)):
		case <-ctx.Done():
			return false
		case <-s.closing:
			return false
		}
	}
	ri, _ := iter.(*resilientIter)
	if ri != nil {
		ri.halt()
	}
	for wait := 100 * time.Millisecond; ; wait = min(2*wait, 5*time.Second) {
		err := s.cfg.Rewind(ctx)
		if err == nil {
			break
		}
		s.cfg.Logger.Error("Rewinding the consumer failed; retrying", err, wm.LogFields{"topic": topic, "retry_in": wait.String()})
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		case <-s.closing:
			return false
		}
	}
	if ri != nil {
		if err := ri.resume(); err != nil {
			s.setErr(fmt.Errorf("consume %s: pull again after the rewind: %w", topic, err))
			s.cfg.Logger.Error("Pulling again after the rewind failed", err, wm.LogFields{"topic": topic})
			return false
		}
	}
	return true
}

// handOut hands msg, made of group, to out, and has it settled by an acker
// (one message, t nil) or a goroutine of its own (a group, with its turn,
// which its context carries); when the subscription stops first, the group
// is naked at once.
func (s *Subscriber) handOut(ctx context.Context, out chan<- *message.Message, msg *message.Message, group []jetstream.Msg, t *turn) {
	mctx, cancel := context.WithCancel(s.abortCtx)
	if t != nil {
		mctx = withTurn(mctx, t)
	}
	msg.SetContext(mctx)
	h := handout{msg: msg, group: group, cancel: cancel, turn: t}
	fifo := t == nil
	s.inFlight.Add(1)
	s.handedOut.Add(int64(len(group)))
	select {
	case out <- msg:
		if fifo {
			s.handouts <- h // never blocks: cap = MaxInFlight
		} else {
			// A goroutine per group (a handful are in flight): one group
			// held up, say by a slow dead-letter publish, does not delay
			// the acks of the groups behind it, as a FIFO acker would.
			go s.settle(h)
		}
		return
	case <-ctx.Done():
	case <-s.closing:
	}
	for _, jm := range group {
		s.nak(jm, 0)
	}
	s.release(h)
}

// collect makes a group in batch mode: it starts with jm (already taken,
// with its room in flight) and takes whatever follows within BatchWait, up
// to Batch messages and while there is room in flight, and up to a lost
// delivery (lost: the message after it is dropped, to come again after the
// rewind). It returns the error that ended the iterator, if one did.
func (s *Subscriber) collect(iter jetstream.MessagesContext, jm jetstream.Msg, seen *deliveries) (group []jetstream.Msg, lost bool, err error) {
	group = make([]jetstream.Msg, 1, s.cfg.Batch)
	group[0] = jm
	gctx, cancel := context.WithTimeout(context.Background(), s.cfg.BatchWait)
	defer cancel()
	wait := jetstream.NextContext(gctx) // made once: each makes a closure
	for len(group) < s.cfg.Batch {
		select {
		case s.sem <- struct{}{}:
		default:
			return group, false, nil // the in-flight window is full
		}
		jm, err = iter.Next(wait)
		if err != nil {
			<-s.sem
			if gctx.Err() == nil || !errors.Is(err, gctx.Err()) {
				return group, false, err
			}
			return group, false, nil
		}
		if !seen.follows(jm) {
			<-s.sem
			return group, true, nil
		}
		group = append(group, jm)
	}
	return group, false, nil
}

// acker settles handed-out messages in order until Close.
func (s *Subscriber) acker() {
	defer s.ackers.Done()
	for h := range s.handouts {
		s.settle(h)
	}
}

// settle acknowledges every JetStream message of h (each with its own ack)
// once its Watermill message is acked, or naks them once it is nacked.
func (s *Subscriber) settle(h handout) {
	select {
	case <-h.msg.Acked():
		var failed int
		var ferr error
		for _, jm := range h.group {
			if err := jm.Ack(); err != nil {
				failed++
				ferr = err
			}
		}
		if failed > 0 {
			s.ackErrors.Add(uint64(failed))
			s.cfg.Logger.Error("Ack failed (the messages will be redelivered and dropped as duplicates)", ferr, wm.LogFields{"failed": failed})
		}
	case <-h.msg.Nacked():
		d := s.nakDelay(h.msg)
		// Before release lets the group after go: none of the groups after
		// it is stored until it is, in its place (see turn).
		h.turn.hold(time.Now().Add(d))
		for _, jm := range h.group {
			s.nak(jm, d)
		}
	case <-s.abort:
		// Close gave up: the server redelivers after the ack wait.
	}
	s.release(h)
}

// release gives back the window slots of h, lets the group after it go
// (if its handler has not yet) and cancels its context.
func (s *Subscriber) release(h handout) {
	h.turn.done()
	s.handedOut.Add(-int64(len(h.group)))
	for range h.group {
		<-s.sem
	}
	h.cancel()
	s.inFlight.Done()
}

// nakDelay is the redelivery delay of a nacked message: the one
// Watermill's delay package set on it, or NakDelay.
func (s *Subscriber) nakDelay(msg *message.Message) time.Duration {
	if v := msg.Metadata.Get(delay.DelayedForKey); v != "" {
		if d, err := time.ParseDuration(v); err == nil && d >= 0 {
			return d
		}
	}
	return s.cfg.NakDelay
}

func (s *Subscriber) nak(jm jetstream.Msg, delay time.Duration) {
	var err error
	if delay > 0 {
		err = jm.NakWithDelay(delay)
	} else {
		err = jm.Nak()
	}
	if err != nil {
		s.ackErrors.Add(1)
		s.cfg.Logger.Error("Nak failed (the message will be redelivered after the ack wait)", err, nil)
	}
}

func (s *Subscriber) setErr(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// Err returns the error that ended a subscription other than by Close or
// its context, or nil.
func (s *Subscriber) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// InFlight returns the number of JetStream messages handed out and not yet
// acked or nacked.
func (s *Subscriber) InFlight() int { return int(s.handedOut.Load()) }

// Abandoned returns the number of JetStream messages Close gave up on
// (still handed out after CloseTimeout): the server redelivers them after
// the ack wait.
func (s *Subscriber) Abandoned() int { return int(s.abandoned.Load()) }

// Close stops every subscription, naks the messages not yet handed out,
// and waits (up to CloseTimeout) until every message handed out has been
// acked or nacked and that has been sent to the server (Flush). Messages
// still handed out after CloseTimeout are abandoned (logged, counted in
// Abandoned, their contexts cancelled): the server redelivers them after
// the ack wait, which is not an error of Close. It is idempotent.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeOnce.Do(func() { close(s.closing) })
	s.feeders.Wait()
	done := make(chan struct{})
	go func() {
		s.inFlight.Wait()
		close(done)
	}()
	timer := time.NewTimer(s.cfg.CloseTimeout)
	defer timer.Stop()
	select {
	case <-done:
	case <-timer.C:
		s.abortOnce.Do(func() {
			n := s.InFlight()
			s.abandoned.Store(int64(n))
			s.cfg.Logger.Error("Close gave up on messages in flight (the server redelivers them after the ack wait)",
				fmt.Errorf("%d messages still in flight after %s", n, s.cfg.CloseTimeout), nil)
			close(s.abort)
			s.cancel()
		})
		<-done
	}
	s.ackOnce.Do(func() { close(s.handouts) })
	s.ackers.Wait()
	s.cancel()
	// Acks are published asynchronously: make sure they reached the server.
	if s.cfg.Flush != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.cfg.Flush(ctx); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			return fmt.Errorf("watermill: close: flush acks: %w", err)
		}
	}
	return nil
}

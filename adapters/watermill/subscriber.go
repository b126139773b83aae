// Package watermill is plaint's ingest path: a Watermill Subscriber on a
// JetStream durable pull consumer that keeps many messages in flight, and the
// Ingest that routes them through a Watermill Router into the event log.
//
// The stock watermill-nats subscribers hand over a subscription's next
// message only after the current one is acknowledged, so at most one message
// per subscription is in flight and the event log can commit only a few
// events per fsync. Subscriber instead hands the router up to MaxInFlight
// messages at once (the router runs each handler in its own goroutine), so
// the group committer gathers thousands of events per transaction, and it
// acknowledges each NATS message asynchronously when its Watermill message
// is acknowledged. An asynchronous ack is safe because plaint deduplicates
// (source, id) permanently: a lost ack only causes a redelivery that is
// dropped as a duplicate.
//
// In batch mode (SubscriberConfig.Batch above 1, the Ingest's default) one
// Watermill message stands for a group of JetStream messages, whatever the
// pull iterator has ready up to Batch: the router, the handler goroutine and
// the committer round trip are paid once per group instead of once per
// event, and acking the Watermill message acks every JetStream message of
// the group (each with its own ack: the consumer stays AckExplicit).
package watermill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// Metadata keys the Subscriber sets on every Watermill message.
const (
	// MetaSubject is the NATS subject the message was published to.
	MetaSubject = "nats_subject"
	// MetaBatch is, in batch mode, the number of JetStream messages the
	// Watermill message stands for (NATSMsgs returns them). Such a message
	// has no payload and no MetaSubject.
	MetaBatch = "nats_batch"
)

// Defaults shared by SubscriberConfig and Config. They mirror the names in
// adapters/nats, which this package does not import.
const (
	DefaultStream      = "PLAINT_EVENTS"
	DefaultConsumer    = "plaint"
	DefaultMaxInFlight = 8192
	DefaultPullBatch   = 2048
	DefaultBatch       = 1024
	DefaultBatchWait   = time.Millisecond
)

// SubscriberConfig configures a Subscriber.
type SubscriberConfig struct {
	// JetStream is the JetStream context to consume with. Required. Its
	// connection must stay open until Close returns.
	JetStream jetstream.JetStream
	// Stream is the stream holding the durable consumers named by
	// Subscribe's topic. Default DefaultStream.
	Stream string
	// MaxInFlight bounds the messages handed to the router and not yet
	// acknowledged or rejected. It should be at least twice the committer's
	// batch, and below the consumer's MaxAckPending minus PullBatch.
	// Default DefaultMaxInFlight.
	MaxInFlight int
	// PullBatch is the number of messages asked for in one pull request;
	// the client keeps up to that many buffered. Default DefaultPullBatch.
	PullBatch int
	// NakDelay is how long the server waits before it redelivers a message
	// whose Watermill message was nacked (a failure of plaint itself).
	// Default 1s.
	NakDelay time.Duration
	// nakDelay, when set, gives the delay instead of NakDelay (the
	// Ingest's backoff).
	nakDelay func() time.Duration
	// CloseTimeout bounds how long Close waits for messages already handed
	// out to be acknowledged or nacked. Default 30s.
	CloseTimeout time.Duration
	// Logger receives errors; nil discards them.
	Logger wm.LoggerAdapter
	// Batch, when above 1, turns on batch mode: one Watermill message
	// stands for a group of up to Batch JetStream messages (NATSMsgs
	// returns them), made of whatever the pull iterator has ready, waiting
	// at most BatchWait for more after the first. Acking the Watermill
	// message acks every JetStream message of the group, nacking it naks
	// them all. MaxInFlight still counts JetStream messages. Default 1
	// (one Watermill message per JetStream message).
	Batch int
	// BatchWait bounds how long a group waits for more messages once it
	// has one. Default DefaultBatchWait.
	BatchWait time.Duration
}

func (c *SubscriberConfig) setDefaults() {
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = DefaultMaxInFlight
	}
	if c.PullBatch == 0 {
		c.PullBatch = DefaultPullBatch
	}
	if c.NakDelay == 0 {
		c.NakDelay = time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = wm.NopLogger{}
	}
	if c.Batch == 0 {
		c.Batch = 1
	}
	if c.BatchWait == 0 {
		c.BatchWait = DefaultBatchWait
	}
}

// Validate returns every problem with the configuration, joined.
func (c *SubscriberConfig) Validate() error {
	var errs []error
	if c.JetStream == nil {
		errs = append(errs, errors.New("watermill: JetStream is required"))
	}
	if c.MaxInFlight < 1 {
		errs = append(errs, errors.New("watermill: MaxInFlight must be positive"))
	}
	if c.PullBatch < 1 {
		errs = append(errs, errors.New("watermill: PullBatch must be positive"))
	}
	if c.NakDelay < 0 || c.CloseTimeout < 0 || c.BatchWait < 0 {
		errs = append(errs, errors.New("watermill: NakDelay, CloseTimeout and BatchWait must not be negative"))
	}
	if c.Batch < 1 {
		errs = append(errs, errors.New("watermill: Batch must be positive"))
	}
	return errors.Join(errs...)
}

// Subscriber is a Watermill message.Subscriber on JetStream durable pull
// consumers that keeps up to MaxInFlight messages in flight. A message is
// acknowledged to JetStream (asynchronously, with Ack) when its Watermill
// message is acked, and negatively acknowledged with NakDelay when it is
// nacked. It is safe for concurrent use.
type Subscriber struct {
	cfg SubscriberConfig
	sem chan struct{} // one token per message in flight

	closing   chan struct{} // closed by Close: stop handing out messages
	closeOnce sync.Once
	abort     chan struct{} // closed when Close gives up waiting
	abortOnce sync.Once
	abortCtx  context.Context
	cancel    context.CancelFunc

	feeders  sync.WaitGroup // one per subscription
	inFlight sync.WaitGroup // one per message handed out
	mu       sync.Mutex
	closed   bool
	err      error // the first error that ended a subscription

	handedOut atomic.Int64 // messages handed out, not yet acked or nacked
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

// handout is a message handed to the router and the JetStream message it
// was made from.
type handout struct {
	msg *message.Message
	jm  jetstream.Msg
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

type natsMsgKey struct{}

type natsMsgsKey struct{}

// NATSMsgs returns the group of JetStream messages a Watermill message from
// a Subscriber in batch mode stands for, or nil. Handlers must not
// acknowledge them themselves.
func NATSMsgs(msg *message.Message) []jetstream.Msg {
	m, _ := msg.Context().Value(natsMsgsKey{}).([]jetstream.Msg)
	return m
}

// NATSMsg returns the JetStream message a Watermill message from a
// Subscriber was made from, or nil. Handlers use it for the headers and
// delivery metadata; they must not acknowledge it themselves.
func NATSMsg(msg *message.Message) jetstream.Msg {
	m, _ := msg.Context().Value(natsMsgKey{}).(jetstream.Msg)
	return m
}

// Subscribe consumes the durable consumer named topic on the configured
// stream (it must exist; see adapters/nats.EnsureStreams) and returns the
// messages. The channel is closed when ctx is cancelled, Close is called or
// the consumer can no longer be read (Err tells why). Message contexts are
// not cancelled by ctx: work already handed out is finished and acked.
// A message's UUID is its JetStream ack subject (unique per delivery), its
// MetaSubject metadata the subject it was published to; NATSMsg returns the
// JetStream message itself.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errors.New("watermill: subscriber is closed")
	}
	// The lookup ignores ctx's cancellation: a subscription whose ctx is
	// already done just ends at once, like one cancelled later.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	cons, err := s.cfg.JetStream.Consumer(lctx, s.cfg.Stream, topic)
	if err != nil {
		return nil, fmt.Errorf("subscribe to consumer %s on %s: %w", topic, s.cfg.Stream, err)
	}
	iter, err := newResilientIter(func() (jetstream.MessagesContext, error) {
		// Heartbeats every 5s: a JetStream restart is noticed within 10s.
		return cons.Messages(jetstream.PullMaxMessages(s.cfg.PullBatch), jetstream.PullHeartbeat(5*time.Second))
	}, s.cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("subscribe to consumer %s on %s: %w", topic, s.cfg.Stream, err)
	}
	out := make(chan *message.Message)
	s.feeders.Add(1)
	if s.cfg.Batch > 1 {
		go s.feedBatches(ctx, topic, iter, out)
	} else {
		go s.feed(ctx, topic, iter, out)
	}
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
		s.setErr(fmt.Errorf("consume %s on %s: %w", topic, s.cfg.Stream, err))
		s.cfg.Logger.Error("Consumer failed", err, wm.LogFields{"consumer": topic})
	} else if !stopping() {
		s.setErr(fmt.Errorf("consume %s on %s: %w", topic, s.cfg.Stream, err))
	}
	iter.Stop()
}

// feed moves messages from the pull iterator to out until it is told to
// stop, then naks what the client still holds so that it is redelivered at
// once instead of after the ack wait.
func (s *Subscriber) feed(ctx context.Context, topic string, iter jetstream.MessagesContext, out chan<- *message.Message) {
	defer s.feeders.Done()
	defer close(out)
	stopping, stopped := s.drainOnStop(ctx, iter)
	defer stopped()
	for {
		jm, ok := s.next(ctx, topic, iter, stopping)
		if !ok {
			return
		}
		msg := message.NewMessage(jm.Reply(), jm.Data())
		msg.Metadata[MetaSubject] = jm.Subject()
		msg.SetContext(context.WithValue(s.abortCtx, natsMsgKey{}, jm))
		s.inFlight.Add(1)
		s.handedOut.Add(1)
		select {
		case out <- msg:
			s.handouts <- handout{msg: msg, jm: jm} // never blocks: cap = MaxInFlight
		case <-ctx.Done():
			s.unhand(jm)
		case <-s.closing:
			s.unhand(jm)
		}
	}
}

// feedBatches is feed in batch mode: it hands out one Watermill message per
// group of JetStream messages. A group starts with the next message (waiting
// for it and for room in flight as long as it takes) and takes whatever
// follows within BatchWait, up to Batch messages and while there is room in
// flight.
func (s *Subscriber) feedBatches(ctx context.Context, topic string, iter jetstream.MessagesContext, out chan<- *message.Message) {
	defer s.feeders.Done()
	defer close(out)
	stopping, stopped := s.drainOnStop(ctx, iter)
	defer stopped()
	for {
		jm, ok := s.next(ctx, topic, iter, stopping)
		if !ok {
			return
		}
		group := make([]jetstream.Msg, 1, s.cfg.Batch)
		group[0] = jm
		var iterErr error
		gctx, cancel := context.WithTimeout(context.Background(), s.cfg.BatchWait)
	collect:
		for len(group) < s.cfg.Batch {
			select {
			case s.sem <- struct{}{}:
			default:
				break collect // the in-flight window is full
			}
			jm, err := iter.Next(jetstream.NextContext(gctx))
			if err != nil {
				<-s.sem
				if gctx.Err() == nil || !errors.Is(err, gctx.Err()) {
					iterErr = err
				}
				break
			}
			group = append(group, jm)
		}
		cancel()
		if stopping() {
			for _, jm := range group {
				s.nak(jm, 0)
				<-s.sem
			}
		} else {
			msg := message.NewMessage(group[0].Reply(), nil)
			msg.Metadata[MetaBatch] = strconv.Itoa(len(group))
			msg.SetContext(context.WithValue(s.abortCtx, natsMsgsKey{}, group))
			s.inFlight.Add(1)
			s.handedOut.Add(int64(len(group)))
			select {
			case out <- msg:
				// A goroutine per group (a handful are in flight): one group
				// held up, say by a slow dead-letter publish, does not delay
				// the acks of the groups behind it, as a FIFO acker would.
				go s.settleGroup(msg, group)
			case <-ctx.Done():
				s.unhandGroup(group)
			case <-s.closing:
				s.unhandGroup(group)
			}
		}
		if iterErr != nil {
			s.iterEnded(topic, iter, iterErr, stopping)
			return
		}
	}
}

// unhandGroup is unhand for a group.
func (s *Subscriber) unhandGroup(group []jetstream.Msg) {
	for _, jm := range group {
		s.nak(jm, 0)
		<-s.sem
	}
	s.handedOut.Add(-int64(len(group)))
	s.inFlight.Done()
}

// settleGroup is settle for a group: every message of it is acknowledged
// (each with its own ack: the consumer acks explicitly) once msg is acked,
// or naked once it is nacked.
func (s *Subscriber) settleGroup(msg *message.Message, group []jetstream.Msg) {
	defer s.inFlight.Done()
	select {
	case <-msg.Acked():
		var failed int
		var ferr error
		for _, jm := range group {
			if err := jm.Ack(); err != nil {
				failed++
				ferr = err
			}
		}
		if failed > 0 {
			s.ackErrors.Add(uint64(failed))
			s.cfg.Logger.Error("Ack failed (the messages will be redelivered and dropped as duplicates)", ferr, wm.LogFields{"failed": failed})
		}
	case <-msg.Nacked():
		delay := s.delay()
		for _, jm := range group {
			s.nak(jm, delay)
		}
	case <-s.abort:
		// Close gave up: the server redelivers after the ack wait.
	}
	s.handedOut.Add(-int64(len(group)))
	for range group {
		<-s.sem
	}
}

// unhand naks a message that was about to be handed out when the
// subscription stopped, so that it is redelivered at once.
func (s *Subscriber) unhand(jm jetstream.Msg) {
	s.nak(jm, 0)
	s.handedOut.Add(-1)
	<-s.sem
	s.inFlight.Done()
}

// acker settles handed-out messages in order until Close.
func (s *Subscriber) acker() {
	defer s.ackers.Done()
	for h := range s.handouts {
		s.settle(h.msg, h.jm)
	}
}

// settle acknowledges jm once msg is acked, or naks it once it is nacked.
func (s *Subscriber) settle(msg *message.Message, jm jetstream.Msg) {
	defer s.inFlight.Done()
	defer func() { <-s.sem }()
	defer s.handedOut.Add(-1)
	select {
	case <-msg.Acked():
		if err := jm.Ack(); err != nil {
			s.ackErrors.Add(1)
			s.cfg.Logger.Error("Ack failed (the message will be redelivered and dropped as a duplicate)", err, nil)
		}
	case <-msg.Nacked():
		s.nak(jm, s.delay())
	case <-s.abort:
		// Close gave up: the server redelivers after the ack wait.
	}
}

// delay is the redelivery delay of a nacked message.
func (s *Subscriber) delay() time.Duration {
	if s.cfg.nakDelay != nil {
		return s.cfg.nakDelay()
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

// InFlight returns the number of messages handed out and not yet acked or
// nacked.
func (s *Subscriber) InFlight() int { return int(s.handedOut.Load()) }

// Close stops every subscription, naks the messages not yet handed out,
// and waits (up to CloseTimeout) until every message handed out has been
// acked or nacked and that has been sent to the server. It is idempotent.
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
	var err error
	select {
	case <-done:
	case <-timer.C:
		err = fmt.Errorf("watermill: close: %d messages still in flight after %s", s.InFlight(), s.cfg.CloseTimeout)
		s.abortOnce.Do(func() {
			close(s.abort)
			s.cancel()
		})
		<-done
	}
	s.ackOnce.Do(func() { close(s.handouts) })
	s.ackers.Wait()
	s.cancel()
	// Acks are published asynchronously: make sure they reached the server.
	if nc := s.cfg.JetStream.Conn(); nc != nil && !nc.IsClosed() {
		if ferr := nc.FlushTimeout(5 * time.Second); ferr != nil && err == nil {
			err = fmt.Errorf("watermill: close: flush acks: %w", ferr)
		}
	}
	return err
}

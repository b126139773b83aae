package watermill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"

	"github.com/plaint/plaint/internal/problems"
)

// Store is where the ingest appends events. *eventstore.Committer is the
// implementation: Append returns only after the transaction holding the
// event has committed, and DeadLettered durably counts the dead letter of
// a stream message, unless it counted that message before
// (Result.Duplicate: the message was delivered again).
type Store interface {
	Append(ctx context.Context, ev domain.Event) (eventstore.Result, error)
	DeadLettered(ctx context.Context, d eventstore.DeadLetter) (eventstore.Result, error)
}

var _ Store = (*eventstore.Committer)(nil)

// BatchStore is a Store that also appends many events in one call. In batch
// mode the Ingest appends each group's valid events, and counts its dead
// letters, with one AppendBatch when the Store is a BatchStore (as
// *eventstore.Committer is), and with concurrent Append and DeadLettered
// calls otherwise. AppendBatch returns only after every transaction
// holding the batch has committed; it rejects a batch holding an invalid
// event with an EINVALID error without storing anything and without
// calling the batch's Queued (the group keeps its place in the stream's
// order while its valid events are appended one by one).
type BatchStore interface {
	Store
	AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error)
}

var _ BatchStore = (*eventstore.Committer)(nil)

// Fencer is a BatchStore that fences batches (eventstore.Batch.Epoch), as
// *eventstore.Committer does: with it no group is stored after one queued
// before it failed in the store, which keeps the stream's order through a
// failure of the store (see turn.go).
type Fencer interface {
	BatchStore
	Epoch() uint64
}

var _ Fencer = (*eventstore.Committer)(nil)

// Hooks are optional callbacks for metrics (for example Prometheus
// counters). They are called from many goroutines and must be fast.
type Hooks struct {
	// Received is called for every message taken from the stream.
	Received func()
	// Stored is called for every event appended to the log.
	Stored func()
	// Duplicate is called for every event dropped as already stored that
	// came in a first delivery: a producer sent it again.
	Duplicate func()
	// Redelivered is called for every redelivery whose event was stored
	// already (plaint's own retries, lost acknowledgements): acknowledged,
	// not counted as a duplicate.
	Redelivered func()
	// DeadLettered is called for every message sent to the dead-letter
	// stream, with its reason: once per stream message, even when the
	// message is delivered again (see eventstore.Batch.DeadLetters).
	DeadLettered func(reason string)
	// Error is called for every failure of plaint itself (store or
	// dead-letter publish error); the message is redelivered.
	Error func(err error)
}

// DeadLetterFunc publishes to the dead-letter stream a message plaint
// rejects: the one published to subject with data, at streamSeq in its
// stream (0 when unknown) and stored by the stream at stored (zero when
// unknown), rejected with cause (an EINVALID domain.Error with its
// Reason). The sequence and the time name the stream message: its dead
// letter is the same when it is delivered again. It returns once the
// message is sent; the future says when it was stored.
// adapters/nats.Client.PublishDeadLetter is plaint's.
type DeadLetterFunc func(ctx context.Context, subject string, data []byte, streamSeq uint64, stored time.Time, cause error) (jetstream.PubAckFuture, error)

// Config configures an Ingest.
type Config struct {
	// Consumer is the durable JetStream pull consumer to read
	// (adapters/nats.Client.IngestConsumer). Required. Its connection must
	// stay open until Close returns.
	Consumer jetstream.Consumer
	// DeadLetter publishes what plaint rejects. Required.
	DeadLetter DeadLetterFunc
	// Flush, when set, makes sure the acknowledgements reached the server
	// when the ingest stops (adapters/nats.Client.Flush).
	Flush func(ctx context.Context) error
	// Store receives the events, normally an *eventstore.Committer. Required.
	Store Store
	// Rewind configures the Subscriber (see SubscriberConfig.Rewind).
	Rewind func(ctx context.Context) error
	// Heal is what the Subscriber does when its pulls keep missing their
	// heartbeats (see Healing; its Missed and Step are metric hooks too).
	Heal Healing
	// Decoder decodes and validates messages; the zero value is the default.
	Decoder domain.Decoder
	// MaxInFlight, PullBatch and NakDelay configure the Subscriber (see
	// SubscriberConfig).
	MaxInFlight int
	PullBatch   int
	NakDelay    time.Duration
	// Batch is the most JetStream messages handled as one Watermill
	// message (batch mode, see SubscriberConfig.Batch): each group is
	// decoded, its invalid messages dead-lettered, its valid events
	// appended together, and then every message of it acknowledged; a
	// failure of plaint itself nacks the whole group (what was stored is
	// dropped as duplicates on redelivery). 1 handles every message as its
	// own Watermill message. Default DefaultBatch.
	Batch int
	// BatchWait bounds how long a group waits for more messages once it
	// has one. Default DefaultBatchWait.
	BatchWait time.Duration
	// PublishTimeout bounds a dead-letter publish. Default 10s.
	PublishTimeout time.Duration
	// CloseTimeout bounds how long a stop waits for messages in flight.
	// Default 30s.
	CloseTimeout time.Duration
	// Logger receives errors (plaint's own failures: one line per kind per
	// FailureLogInterval, with the count of those not logged), dead
	// letters (see DeadLetterLogBurst), and the Router's and Subscriber's
	// own lines (the Router's Info lines at Debug). Nil discards them.
	Logger *slog.Logger
	// DeadLetterLogBurst is how many dead letters of one reason are logged
	// one by one (at warn, with the reason and error) in each
	// DeadLetterLogInterval; the others are summed up in one line per
	// reason when the interval ends. Defaults 5 and 1 minute.
	DeadLetterLogBurst    int
	DeadLetterLogInterval time.Duration
	// MaxNakDelay bounds the redelivery delay of a message nacked after a
	// failure of plaint itself: the delay starts at NakDelay and doubles
	// with each consecutive failure, up to MaxNakDelay; a success resets
	// it. Default 1 minute.
	MaxNakDelay time.Duration
	// FailureLogInterval is how often one kind of failure of plaint itself
	// is logged at most. Default 30s.
	FailureLogInterval time.Duration
	// Hooks are optional metric callbacks.
	Hooks Hooks
}

func (c *Config) setDefaults() {
	c.PublishTimeout = cmp.Or(c.PublishTimeout, 10*time.Second)
	c.CloseTimeout = cmp.Or(c.CloseTimeout, 30*time.Second)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	c.Batch = cmp.Or(c.Batch, DefaultBatch)
	c.NakDelay = cmp.Or(c.NakDelay, time.Second)
	c.MaxNakDelay = cmp.Or(c.MaxNakDelay, time.Minute)
	if c.MaxNakDelay < c.NakDelay {
		c.MaxNakDelay = c.NakDelay
	}
	c.FailureLogInterval = cmp.Or(c.FailureLogInterval, 30*time.Second)
	c.DeadLetterLogBurst = cmp.Or(c.DeadLetterLogBurst, 5)
	c.DeadLetterLogInterval = cmp.Or(c.DeadLetterLogInterval, time.Minute)
	c.BatchWait = cmp.Or(c.BatchWait, DefaultBatchWait)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *Config) Validate() error {
	var errs []error
	if c.Consumer == nil {
		errs = append(errs, errors.New("the Consumer is required"))
	}
	if c.DeadLetter == nil {
		errs = append(errs, errors.New("DeadLetter is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("Store is required"))
	}
	if c.MaxInFlight < 0 || c.PullBatch < 0 || c.Batch < 0 {
		errs = append(errs, errors.New("MaxInFlight, PullBatch and Batch must not be negative"))
	}
	if c.NakDelay < 0 || c.PublishTimeout < 0 || c.CloseTimeout < 0 || c.BatchWait < 0 || c.DeadLetterLogInterval < 0 || c.MaxNakDelay < 0 || c.FailureLogInterval < 0 {
		errs = append(errs, errors.New("NakDelay, MaxNakDelay, PublishTimeout, CloseTimeout, BatchWait, FailureLogInterval and DeadLetterLogInterval must not be negative"))
	}
	if c.DeadLetterLogBurst < 0 {
		errs = append(errs, errors.New("DeadLetterLogBurst must not be negative"))
	}
	return problems.Join(ErrConfig, errs)
}

// Stats are the ingest's counters since New.
type Stats struct {
	Received     uint64 `json:"received"`      // messages taken from the stream
	Stored       uint64 `json:"stored"`        // events appended to the log
	Duplicates   uint64 `json:"duplicates"`    // events dropped as already stored: a producer sent them again
	Redelivered  uint64 `json:"redelivered"`   // messages JetStream delivered again whose event was stored (plaint's own retries): acknowledged, not counted as duplicates
	DeadLettered uint64 `json:"dead_lettered"` // messages sent to the dead-letter stream
	Errors       uint64 `json:"errors"`        // failures of plaint itself (messages nacked for redelivery)
	InFlight     int    `json:"in_flight"`     // messages handed to handlers and not yet acked or nacked
}

// Ingest moves events from the JetStream consumer through a Watermill Router
// into the store: decode and validate, append (group-committed, fsynced),
// then acknowledge. Invalid messages go to the dead-letter stream and are
// then acknowledged; a failure of plaint itself nacks the message so that
// it is redelivered, later with each consecutive failure.
//
// The Router's handler only decodes and appends (see handle); what is
// around it is middleware, outermost first: counting what is received
// (countReceived), plaint's own failures and their backoff
// (redeliverLater), Watermill's Recoverer (a panic is plaint's failure),
// and the dead-letter decision (deadLetters).
type Ingest struct {
	cfg    Config
	sub    *Subscriber
	router *message.Router

	received, stored, duplicates, redelivered, deadLettered, errs atomic.Uint64

	mu      sync.Mutex
	started bool
	closed  bool
	cancel  context.CancelFunc
	done    chan struct{} // closed when Run returns

	failures *failureLog
	dlqLog   *deadLetterLog
}

// New returns an Ingest; Run starts it.
func New(cfg Config) (*Ingest, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// The Router's Info lines say how it starts and stops: plaint's
	// operators read them at Debug.
	logger := wm.NewSlogLoggerWithLevelMapping(cfg.Logger, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	sub, err := NewSubscriber(SubscriberConfig{
		Consumer:     func(context.Context, string) (jetstream.Consumer, error) { return cfg.Consumer, nil },
		Flush:        cfg.Flush,
		MaxInFlight:  cfg.MaxInFlight,
		PullBatch:    cfg.PullBatch,
		NakDelay:     cfg.NakDelay,
		CloseTimeout: cfg.CloseTimeout,
		Logger:       logger,
		Batch:        cfg.Batch,
		BatchWait:    cfg.BatchWait,
		Rewind:       cfg.Rewind,
		Heal:         cfg.Heal,
	})
	if err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	in := &Ingest{cfg: cfg, sub: sub, router: router, done: make(chan struct{}),
		dlqLog:   newDeadLetterLog(cfg.Logger, cfg.DeadLetterLogBurst, cfg.DeadLetterLogInterval),
		failures: newFailureLog(cfg.Logger, cfg.NakDelay, cfg.MaxNakDelay, cfg.FailureLogInterval)}
	router.AddMiddleware(in.countReceived, in.redeliverLater, middleware.Recoverer, in.deadLetters)
	router.AddConsumerHandler("plaint-ingest", in.consumerName(), sub, in.handle)
	return in, nil
}

// consumerName names the consumer in errors and as the Router's topic.
func (in *Ingest) consumerName() string {
	if info := in.cfg.Consumer.CachedInfo(); info != nil {
		return info.Stream + "/" + info.Name
	}
	return "consumer"
}

// Run consumes until ctx is cancelled or Close is called, then stops
// gracefully: no new messages are taken, every message in flight is
// finished and acknowledged (or nacked), and the acks are flushed to the
// server. It returns nil after a graceful stop, or the error that stopped
// consumption (for example a deleted consumer). Run may be called once.
func (in *Ingest) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	in.mu.Lock()
	if in.started {
		in.mu.Unlock()
		return ErrStarted
	}
	in.started = true
	in.cancel = cancel
	closed := in.closed
	in.mu.Unlock()
	defer close(in.done)
	if closed {
		return nil
	}
	// Check the consumer first so that a missing one is a clear error
	// instead of a router that stops at once.
	if _, err := in.cfg.Consumer.Info(ctx); err != nil {
		_ = in.sub.Close() // nothing was handed out
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ingest: consumer %s: %w", in.consumerName(), err)
	}
	// The dead-letter summaries are written when their interval ends, even
	// when no more messages come.
	stopSummaries := make(chan struct{})
	summariesDone := make(chan struct{})
	go func() {
		defer close(summariesDone)
		t := time.NewTicker(max(in.cfg.DeadLetterLogInterval/4, 10*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				in.dlqLog.flush(now)
			case <-stopSummaries:
				return
			}
		}
	}()
	runErr := in.router.Run(ctx)
	closeErr := in.sub.Close()
	if n := in.sub.Abandoned(); n > 0 && closeErr == nil {
		closeErr = fmt.Errorf("stop: %d messages still in flight after %s (they are redelivered after the ack wait)", n, in.cfg.CloseTimeout)
	}
	close(stopSummaries)
	<-summariesDone
	in.dlqLog.close()
	if runErr != nil {
		return fmt.Errorf("ingest: router: %w", runErr)
	}
	if err := in.sub.Err(); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if closeErr != nil {
		return fmt.Errorf("ingest: %w", closeErr)
	}
	return nil
}

// Running returns a channel closed once Run has subscribed and handles
// messages.
func (in *Ingest) Running() <-chan struct{} { return in.router.Running() }

// Close stops Run gracefully (see Run) and waits for it to return. It does
// not close the store or the connection: close them after Close, in that
// order (Ingest, then the eventstore.Committer and its Log, then the NATS
// connection), so that the messages in flight are stored and acknowledged.
// It is idempotent and may be called before Run, which then returns at
// once.
func (in *Ingest) Close() error {
	in.mu.Lock()
	started, cancel := in.started, in.cancel
	in.closed = true
	in.mu.Unlock()
	if !started {
		if err := in.sub.Close(); err != nil {
			return fmt.Errorf("ingest: close: %w", err)
		}
		return nil
	}
	cancel()
	<-in.done
	return nil
}

// Stats returns the counters.
func (in *Ingest) Stats() Stats {
	return Stats{
		Received:     in.received.Load(),
		Stored:       in.stored.Load(),
		Duplicates:   in.duplicates.Load(),
		Redelivered:  in.redelivered.Load(),
		DeadLettered: in.deadLettered.Load(),
		Errors:       in.errs.Load(),
		InFlight:     in.sub.InFlight(),
	}
}

// Failing reports whether plaint's own failures (a full disk, a store or
// dead-letter stream that cannot be written) keep the ingest from storing:
// the last message handled failed. It returns when the run of failures
// began.
func (in *Ingest) Failing() (bool, time.Time) {
	failing, since, _ := in.failures.failing()
	return failing, since
}

// LastFailure returns the last failure of plaint itself while Failing, nil
// otherwise.
func (in *Ingest) LastFailure() error {
	_, _, err := in.failures.failing()
	return err
}

package watermill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Headers of a dead-lettered message.
const (
	HeaderReason          = "Plaint-Reason"           // the domain.Error Reason, e.g. "bad_json"
	HeaderError           = "Plaint-Error"            // the error message
	HeaderOriginalSubject = "Plaint-Original-Subject" // the subject it was published to
	HeaderTruncated       = "Plaint-Truncated"        // the original size, when the payload was cut to fit
)

// Defaults of Config naming the dead-letter stream.
const (
	DefaultDLQStream        = "PLAINT_DLQ"
	DefaultDLQSubjectPrefix = "plaint.dlq."
)

// Store is where the ingest appends events. *eventstore.Committer is the
// implementation: Append returns only after the transaction holding the
// event has committed, and DeadLettered durably counts a dead-lettered
// message.
type Store interface {
	Append(ctx context.Context, ev domain.Event) (eventstore.Result, error)
	DeadLettered(ctx context.Context) error
}

var _ Store = (*eventstore.Committer)(nil)

// BatchStore is a Store that also appends many events in one call. In batch
// mode the Ingest appends each group's valid events, and counts its dead
// letters, with one AppendBatch when the Store is a BatchStore (as
// *eventstore.Committer is), and with concurrent Append and DeadLettered
// calls otherwise. AppendBatch returns only after every transaction
// holding the batch has committed; it rejects a batch holding an invalid
// event with an EINVALID error without storing anything.
type BatchStore interface {
	Store
	AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error)
}

var _ BatchStore = (*eventstore.Committer)(nil)

// Hooks are optional callbacks for metrics (for example Prometheus
// counters). They are called from many goroutines and must be fast.
type Hooks struct {
	// Received is called for every message taken from the stream.
	Received func()
	// Stored is called for every event appended to the log.
	Stored func()
	// Duplicate is called for every event dropped as already stored.
	Duplicate func()
	// DeadLettered is called for every message sent to the dead-letter
	// stream, with its reason.
	DeadLettered func(reason string)
	// Error is called for every failure of plaint itself (store or
	// dead-letter publish error); the message is redelivered.
	Error func(err error)
}

// Config configures an Ingest.
type Config struct {
	// JetStream is the JetStream context of an open connection. Required.
	JetStream jetstream.JetStream
	// Store receives the events, normally an *eventstore.Committer. Required.
	Store Store
	// Stream and Consumer name the stream and its durable pull consumer
	// (created by adapters/nats.EnsureStreams). Defaults DefaultStream and
	// DefaultConsumer.
	Stream   string
	Consumer string
	// DLQStream and DLQSubjectPrefix name the dead-letter stream and the
	// prefix of its subjects. Defaults DefaultDLQStream and
	// DefaultDLQSubjectPrefix.
	DLQStream        string
	DLQSubjectPrefix string
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
	// FailureLogInterval, with the count of those not logged) and dead
	// letters (see DeadLetterLogBurst). Nil discards them.
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
	if c.Stream == "" {
		c.Stream = DefaultStream
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if c.DLQStream == "" {
		c.DLQStream = DefaultDLQStream
	}
	if c.DLQSubjectPrefix == "" {
		c.DLQSubjectPrefix = DefaultDLQSubjectPrefix
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = 10 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Batch == 0 {
		c.Batch = DefaultBatch
	}
	if c.NakDelay == 0 {
		c.NakDelay = time.Second
	}
	if c.MaxNakDelay == 0 {
		c.MaxNakDelay = time.Minute
	}
	if c.MaxNakDelay < c.NakDelay {
		c.MaxNakDelay = c.NakDelay
	}
	if c.FailureLogInterval == 0 {
		c.FailureLogInterval = 30 * time.Second
	}
	if c.DeadLetterLogBurst == 0 {
		c.DeadLetterLogBurst = 5
	}
	if c.DeadLetterLogInterval == 0 {
		c.DeadLetterLogInterval = time.Minute
	}
	if c.BatchWait == 0 {
		c.BatchWait = DefaultBatchWait
	}
}

// Validate returns every problem with the configuration, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.JetStream == nil {
		errs = append(errs, errors.New("ingest: JetStream is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("ingest: Store is required"))
	}
	if c.DLQSubjectPrefix != "" && !strings.HasSuffix(c.DLQSubjectPrefix, ".") {
		errs = append(errs, fmt.Errorf("ingest: DLQSubjectPrefix %q must end with '.'", c.DLQSubjectPrefix))
	}
	if c.MaxInFlight < 0 || c.PullBatch < 0 || c.Batch < 0 {
		errs = append(errs, errors.New("ingest: MaxInFlight, PullBatch and Batch must not be negative"))
	}
	if c.NakDelay < 0 || c.PublishTimeout < 0 || c.CloseTimeout < 0 || c.BatchWait < 0 || c.DeadLetterLogInterval < 0 || c.MaxNakDelay < 0 || c.FailureLogInterval < 0 {
		errs = append(errs, errors.New("ingest: NakDelay, MaxNakDelay, PublishTimeout, CloseTimeout, BatchWait, FailureLogInterval and DeadLetterLogInterval must not be negative"))
	}
	if c.DeadLetterLogBurst < 0 {
		errs = append(errs, errors.New("ingest: DeadLetterLogBurst must not be negative"))
	}
	return errors.Join(errs...)
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
// it is redelivered.
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

	decodes    chan *decodeJob
	stopDecode chan struct{}
	decodersWG sync.WaitGroup

	failures *failureLog
	dlqLog   *deadLetterLog
}

// New returns an Ingest; Run starts it.
func New(cfg Config) (*Ingest, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	logger := newQuietLogger(cfg.Logger)
	sub, err := NewSubscriber(SubscriberConfig{
		JetStream:    cfg.JetStream,
		Stream:       cfg.Stream,
		MaxInFlight:  cfg.MaxInFlight,
		PullBatch:    cfg.PullBatch,
		NakDelay:     cfg.NakDelay,
		CloseTimeout: cfg.CloseTimeout,
		Logger:       logger,
		Batch:        cfg.Batch,
		BatchWait:    cfg.BatchWait,
	})
	if err != nil {
		return nil, err
	}
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, logger)
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	in := &Ingest{cfg: cfg, sub: sub, router: router, done: make(chan struct{}),
		decodes: make(chan *decodeJob, 1024), stopDecode: make(chan struct{}),
		dlqLog:   newDeadLetterLog(cfg.Logger, cfg.DeadLetterLogBurst, cfg.DeadLetterLogInterval),
		failures: newFailureLog(cfg.Logger, cfg.NakDelay, cfg.MaxNakDelay, cfg.FailureLogInterval)}
	sub.cfg.nakDelay = in.failures.delay
	handle := in.handle
	if cfg.Batch > 1 {
		handle = in.handleBatch
	}
	handler := func(msg *message.Message) error {
		err := handle(msg)
		if err == nil {
			in.failures.succeeded()
		}
		return err
	}
	router.AddConsumerHandler("plaint-ingest", cfg.Consumer, sub, handler)
	return in, nil
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
		return errors.New("ingest: Run called twice")
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
	if _, err := in.cfg.JetStream.Consumer(ctx, in.cfg.Stream, in.cfg.Consumer); err != nil {
		_ = in.sub.Close() // nothing was handed out
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("ingest: consumer %s on %s: %w", in.cfg.Consumer, in.cfg.Stream, err)
	}
	if in.cfg.Batch <= 1 {
		for range runtime.GOMAXPROCS(0) {
			in.decodersWG.Add(1)
			go in.decoder()
		}
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
	close(stopSummaries)
	<-summariesDone
	in.dlqLog.close()
	close(in.stopDecode)
	in.decodersWG.Wait()
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
// connection), so that the messages in flight are stored and acknowledged. It is idempotent and may be called
// before Run, which then returns at once.
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

// handle is the router's handler for one message. Returning nil acks it,
// returning an error nacks it (redelivery after NakDelay).
func (in *Ingest) handle(msg *message.Message) error {
	in.received.Add(1)
	if h := in.cfg.Hooks.Received; h != nil {
		h()
	}
	subject := msg.Metadata.Get(MetaSubject)
	ev, err := in.decode(subject, msg.Payload)
	if err != nil {
		return in.reject(msg, subject, err)
	}
	if jm := NATSMsg(msg); jm != nil && in.storedBefore(jm, &ev) {
		return nil
	}
	res, err := in.appendOne(msg.Context(), ev, NATSMsg(msg))
	if err != nil {
		if domain.ErrorCode(err) == domain.EINVALID {
			return in.reject(msg, subject, err)
		}
		return in.fail(fmt.Errorf("append %s/%s: %w", ev.Source, ev.ID, err))
	}
	if res.Duplicate {
		in.duplicates.Add(1)
		if h := in.cfg.Hooks.Duplicate; h != nil {
			h()
		}
	} else {
		in.stored.Add(1)
		if h := in.cfg.Hooks.Stored; h != nil {
			h()
		}
	}
	return nil
}

// Container is a Store that can say whether an event is stored
// (*eventstore.Committer is one). With it the ingest acknowledges a message
// JetStream delivers again whose event is stored already without
// appending it, and counts it as Redelivered, not as a duplicate: it is
// plaint's own retry (after a failure, or a lost acknowledgement), not a
// producer's repeated message.
type Container interface {
	Contains(source, id string) bool
}

var _ Container = (*eventstore.Committer)(nil)

// storedBefore reports whether jm is a redelivery whose event is stored,
// and counts it.
func (in *Ingest) storedBefore(jm jetstream.Msg, ev *domain.Event) bool {
	c, ok := in.cfg.Store.(Container)
	if !ok {
		return false
	}
	md, err := jm.Metadata()
	if err != nil || md.NumDelivered <= 1 || !c.Contains(ev.Source, ev.ID) {
		return false
	}
	in.redelivered.Add(1)
	return true
}

// decodeJob is one message for the decoder goroutines.
type decodeJob struct {
	subject string
	payload []byte
	ev      domain.Event
	err     error
	done    chan struct{}
}

var decodeJobs = sync.Pool{New: func() any { return &decodeJob{done: make(chan struct{}, 1)} }}

// decode decodes and validates one message on a decoder goroutine.
//
// The router runs every message's handler on a new goroutine, and a JSON
// decode needs a deep stack: decoding on the handler's goroutine would grow
// (copy) a fresh stack for every message, and the garbage collector would
// scan thousands of grown stacks. A few long-lived decoder goroutines keep
// their grown stacks instead; the handler waits for the result.
func (in *Ingest) decode(subject string, payload []byte) (domain.Event, error) {
	j := decodeJobs.Get().(*decodeJob)
	j.subject, j.payload = subject, payload
	select {
	case in.decodes <- j:
		<-j.done
	case <-in.stopDecode:
		j.ev, j.err = in.cfg.Decoder.Decode(subject, payload)
	}
	ev, err := j.ev, j.err
	*j = decodeJob{done: j.done}
	decodeJobs.Put(j)
	return ev, err
}

// decoder runs decode jobs until the ingest stops.
func (in *Ingest) decoder() {
	defer in.decodersWG.Done()
	for {
		select {
		case j := <-in.decodes:
			j.ev, j.err = in.cfg.Decoder.Decode(j.subject, j.payload)
			j.done <- struct{}{}
		case <-in.stopDecode:
			return
		}
	}
}

// reject publishes msg to the dead-letter stream with the reason and counts
// it durably; only then is the original acknowledged (by returning nil).
func (in *Ingest) reject(msg *message.Message, subject string, cause error) error {
	reason := reasonOf(cause)
	if domain.ErrorCode(cause) != domain.EINVALID {
		return in.fail(fmt.Errorf("decode: %w", cause))
	}
	out, opts := in.deadLetterMsg(subject, msg.Payload, NATSMsg(msg), cause, reason)
	ctx, cancel := context.WithTimeout(msg.Context(), in.cfg.PublishTimeout)
	defer cancel()
	if _, err := in.cfg.JetStream.PublishMsg(ctx, out, opts...); err != nil {
		return in.fail(fmt.Errorf("dead-letter to %s: %w", out.Subject, err))
	}
	if err := in.cfg.Store.DeadLettered(ctx); err != nil {
		return in.fail(fmt.Errorf("count dead letter: %w", err))
	}
	in.deadLettered.Add(1)
	in.dlqLog.record(reason, cause.Error(), subject)
	if h := in.cfg.Hooks.DeadLettered; h != nil {
		h(reason)
	}
	return nil
}

// deadLetterMsg returns the dead letter of a message and its publish
// options.
func (in *Ingest) deadLetterMsg(subject string, payload []byte, jm jetstream.Msg, cause error, reason string) (*nats.Msg, []jetstream.PublishOpt) {
	// plaint.events.complaint.filed → plaint.dlq.complaint.filed, so that a
	// dead letter keeps its event type in its subject.
	token := strings.TrimPrefix(subject, domain.SubjectPrefix)
	if token == subject || token == "" {
		token = "unknown"
	}
	hdr := nats.Header{}
	hdr.Set(HeaderReason, reason)
	hdr.Set(HeaderError, headerValue(cause.Error()))
	hdr.Set(HeaderOriginalSubject, headerValue(subject))
	data := payload
	nc := in.cfg.JetStream.Conn()
	if max := int(nc.MaxPayload()) - 4096; max > 0 && len(data) > max {
		hdr.Set(HeaderTruncated, fmt.Sprint(len(data)))
		data = data[:max]
	}
	opts := []jetstream.PublishOpt{jetstream.WithExpectStream(in.cfg.DLQStream)}
	if jm != nil {
		if md, err := jm.Metadata(); err == nil {
			// A redelivery after a lost ack publishes the same id, which
			// JetStream drops within its duplicate window.
			opts = append(opts, jetstream.WithMsgID(fmt.Sprintf("dlq:%s:%d", md.Stream, md.Sequence.Stream)))
		}
	}
	return &nats.Msg{Subject: in.cfg.DLQSubjectPrefix + token, Header: hdr, Data: data}, opts
}

// reasonOf returns the reason of an EINVALID error.
func reasonOf(cause error) string {
	var de *domain.Error
	if errors.As(cause, &de) && de.Reason != "" {
		return de.Reason
	}
	return "invalid"
}

// fail counts and logs a failure of plaint itself (see failureLog) and
// returns it, so that the message is nacked and redelivered after a delay
// that doubles with each consecutive failure.
func (in *Ingest) fail(err error) error {
	in.errs.Add(1)
	if h := in.cfg.Hooks.Error; h != nil {
		h(err)
	}
	in.failures.failed(err)
	return err
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

// headerValue makes s safe for a NATS header value: one line, bounded.
func headerValue(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
	if len(s) > 1024 {
		s = strings.ToValidUTF8(s[:1024], "")
	}
	return s
}

// quietLogger adapts the router's logging: it drops the per-message error
// lines (the ingest logs its own failures, rate limited) and the
// per-message trace lines, and checks the level before building a debug
// line (watermill's slog adapter builds the attributes first, which costs
// allocations on every message).
type quietLogger struct {
	wm.LoggerAdapter
	slog *slog.Logger
}

func newQuietLogger(l *slog.Logger) quietLogger {
	return quietLogger{wm.NewSlogLoggerWithLevelMapping(l, map[slog.Level]slog.Level{
		slog.LevelInfo: slog.LevelDebug,
	}), l}
}

func (l quietLogger) Error(msg string, err error, fields wm.LogFields) {
	if msg == "Handler returned error" {
		return
	}
	l.LoggerAdapter.Error(msg, err, fields)
}

func (l quietLogger) Info(msg string, fields wm.LogFields) {
	if l.slog.Enabled(context.Background(), slog.LevelDebug) {
		l.LoggerAdapter.Info(msg, fields)
	}
}

func (l quietLogger) Debug(msg string, fields wm.LogFields) {
	if l.slog.Enabled(context.Background(), slog.LevelDebug) {
		l.LoggerAdapter.Debug(msg, fields)
	}
}

func (l quietLogger) Trace(string, wm.LogFields) {}

func (l quietLogger) With(fields wm.LogFields) wm.LoggerAdapter {
	return quietLogger{l.LoggerAdapter.With(fields), l.slog}
}

package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/internal/problems"
)

// Names of the JetStream resources plaint uses.
const (
	// EventsStream captures every published event.
	EventsStream = "PLAINT_EVENTS"
	// EventsSubjects is the subject filter of EventsStream.
	EventsSubjects = "plaint.events.>"
	// DLQStream holds messages plaint could not accept, with the reason.
	DLQStream = "PLAINT_DLQ"
	// DLQSubjects is the subject filter of DLQStream.
	DLQSubjects = "plaint.dlq.>"
	// DLQSubjectPrefix prefixes a dead-lettered message's subject; the
	// original subject without "plaint.events." (for example
	// "complaint.filed"), or "unknown", follows.
	DLQSubjectPrefix = "plaint.dlq."
	// DefaultConsumer is the default name of the durable ingest consumer.
	DefaultConsumer = "plaint"
	// MetaLogID is the consumer metadata key holding the identity of the
	// event log the consumer feeds (eventstore.Log.ID).
	MetaLogID = "plaint_log_id"
)

// StreamConfig configures the streams and the ingest consumer EnsureStreams
// creates. The zero value gives a single-node setup.
type StreamConfig struct {
	// MaxAge bounds how long events stay in EventsStream; 0 means no limit.
	// With limits retention (the default) the stream is a buffer of the last
	// MaxAge of events whether or not plaint stored them: an event no node
	// stored within MaxAge is dropped (watch plaint_ingest_consumer_pending).
	MaxAge time.Duration
	// Interest switches EventsStream to interest retention: an event stays
	// until every consumer (one per plaint node) acknowledged it and is then
	// removed, so a node that is down or failing for long loses nothing. It
	// costs the NATS server ~6 CPU-µs per event (BENCHMARKS.md).
	Interest bool
	// DLQMaxAge bounds how long dead-lettered messages are kept. Default 90 days.
	DLQMaxAge time.Duration
	// Replicas is the stream and consumer replication factor: 1 on one node,
	// 3 on an R3 cluster. Default 1.
	Replicas int
	// Consumer names the durable pull consumer. Default DefaultConsumer. Each
	// plaint node of a cluster uses its own name.
	Consumer string
	// AckWait is how long the server waits for an ack before redelivering.
	// Default 30s.
	AckWait time.Duration
	// MaxAckPending bounds the messages delivered but not yet acknowledged.
	// It must exceed the ingest's in-flight limit plus its pull batch.
	// Default 65536.
	MaxAckPending int
	// DuplicateWindow is the window in which JetStream drops a republished
	// message with the same Nats-Msg-Id. Default 2 minutes. plaint's own
	// deduplication on (source, id) is permanent regardless.
	DuplicateWindow time.Duration
	// LogID is the identity of the event log the consumer feeds, kept in
	// the consumer's metadata (MetaLogID): its acknowledgements say what
	// that log holds, and a different log must not inherit them
	// (ConsumerLogID reads it back).
	LogID string
}

func (c *StreamConfig) setDefaults() {
	c.DLQMaxAge = cmp.Or(c.DLQMaxAge, 90*24*time.Hour)
	c.Replicas = cmp.Or(c.Replicas, 1)
	c.Consumer = cmp.Or(c.Consumer, DefaultConsumer)
	c.AckWait = cmp.Or(c.AckWait, 30*time.Second)
	c.MaxAckPending = cmp.Or(c.MaxAckPending, 65536)
	c.DuplicateWindow = cmp.Or(c.DuplicateWindow, 2*time.Minute)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *StreamConfig) Validate() error {
	var errs []error
	if c.MaxAge < 0 || c.DLQMaxAge < 0 {
		errs = append(errs, errors.New("MaxAge and DLQMaxAge must not be negative"))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("stream Replicas is %d; it must be from 1 to 5", c.Replicas))
	}
	for _, r := range c.Consumer {
		if r <= ' ' || r == '.' || r == '*' || r == '>' || r == '/' || r == '\\' {
			errs = append(errs, fmt.Errorf("consumer name %q may not contain spaces, '.', '*', '>', '/' or '\\'", c.Consumer))
			break
		}
	}
	if c.AckWait < 0 {
		errs = append(errs, errors.New("AckWait must not be negative"))
	}
	if c.MaxAckPending < 0 {
		errs = append(errs, errors.New("MaxAckPending must not be negative"))
	}
	if c.DuplicateWindow < 0 || (c.MaxAge > 0 && c.DuplicateWindow > c.MaxAge) {
		errs = append(errs, errors.New("DuplicateWindow must be from 0 to MaxAge"))
	}
	return problems.Join(ErrConfig, errs)
}

// EventsStreamConfig returns the configuration EnsureStreams gives EventsStream.
// It allows fast batch publishing (BatchPublisher; nats-server 2.14+), which
// a stream made by an earlier plaint gains when EnsureStreams updates it.
func EventsStreamConfig(cfg StreamConfig) jetstream.StreamConfig {
	sc := cfg.stream(EventsStream, "plaint: published events (CloudEvents 1.0 JSON), a buffer in front of the event log", EventsSubjects)
	sc.AllowBatchPublish = true
	if cfg.Interest {
		sc.Retention = jetstream.InterestPolicy
	}
	sc.MaxAge = cfg.MaxAge
	return sc
}

// DLQStreamConfig returns the configuration EnsureStreams gives DLQStream.
func DLQStreamConfig(cfg StreamConfig) jetstream.StreamConfig {
	cfg.setDefaults()
	sc := cfg.stream(DLQStream, "plaint: rejected messages with Plaint-Reason, Plaint-Error and Plaint-Original-Subject headers", DLQSubjects)
	sc.MaxAge = cfg.DLQMaxAge
	return sc
}

// stream returns what every plaint stream shares: file storage, limits
// retention with the oldest messages discarded first, and cfg's replicas
// and duplicate window (defaults filled), for the stream name capturing
// subjects.
func (cfg StreamConfig) stream(name, description, subjects string) jetstream.StreamConfig {
	cfg.setDefaults()
	return jetstream.StreamConfig{
		Name:        name,
		Description: description,
		Subjects:    []string{subjects},
		Storage:     jetstream.FileStorage,
		Retention:   jetstream.LimitsPolicy,
		Discard:     jetstream.DiscardOld,
		Replicas:    cfg.Replicas,
		Duplicates:  cfg.DuplicateWindow,
	}
}

// ConsumerConfig returns the configuration EnsureStreams gives the durable
// ingest consumer. MaxDeliver is unlimited: a message plaint fails to store
// is retried until it is stored, never dropped.
func ConsumerConfig(cfg StreamConfig) jetstream.ConsumerConfig {
	cfg.setDefaults()
	var md map[string]string
	if cfg.LogID != "" {
		md = map[string]string{MetaLogID: cfg.LogID}
	}
	return jetstream.ConsumerConfig{
		Metadata:      md,
		Durable:       cfg.Consumer,
		Description:   "plaint ingest: appends events to the event log",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       cfg.AckWait,
		MaxDeliver:    -1,
		FilterSubject: EventsSubjects,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		MaxAckPending: cfg.MaxAckPending,
		Replicas:      cfg.Replicas,
	}
}

// EnsureStreams creates EventsStream, DLQStream and the durable pull
// consumer on EventsStream, or updates them to cfg. It is idempotent, so
// every start of plaint calls it.
func (c *Client) EnsureStreams(ctx context.Context, cfg StreamConfig) error {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	for _, sc := range []jetstream.StreamConfig{EventsStreamConfig(cfg), DLQStreamConfig(cfg)} {
		if _, err := c.js.CreateOrUpdateStream(ctx, sc); err != nil {
			return fmt.Errorf("ensure stream %s: %w", sc.Name, err)
		}
	}
	if _, err := c.js.CreateOrUpdateConsumer(ctx, EventsStream, ConsumerConfig(cfg)); err != nil {
		return fmt.Errorf("ensure consumer %s on %s: %w", cfg.Consumer, EventsStream, err)
	}
	return nil
}

// ResetConsumer makes the durable consumer redeliver, at once, every message
// from its ack floor on: the messages a previous run of this plaint node
// received but did not acknowledge (a crash, or a stop that raced a pull)
// would otherwise wait for the ack wait. Already stored events among them
// are dropped as duplicates. Call it at start, before consuming, and only
// when this process is the consumer's one user (each node has its own).
// The ingest calls it too when one of its deliveries was lost
// (adapters/watermill.SubscriberConfig.Rewind), so that the lost message
// is stored before later ones instead of after the ack wait.
func (c *Client) ResetConsumer(ctx context.Context, consumer string) error {
	consumer = consumerName(consumer)
	if _, err := c.js.ResetConsumer(ctx, EventsStream, consumer); err != nil {
		return fmt.Errorf("reset consumer %s on %s: %w", consumer, EventsStream, err)
	}
	return nil
}

// ConsumerLogID returns the identity of the event log the durable consumer
// feeds (see StreamConfig.LogID): "" when there is no such consumer yet, or
// it was made before identities existed.
func (c *Client) ConsumerLogID(ctx context.Context, consumer string) (string, error) {
	cons, err := c.IngestConsumer(ctx, consumer)
	if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return cons.CachedInfo().Config.Metadata[MetaLogID], nil
}

// IngestConsumer returns the durable ingest consumer (see EnsureStreams),
// for adapters/watermill to read; "" names DefaultConsumer. An error wraps
// jetstream.ErrConsumerNotFound when there is no such consumer.
func (c *Client) IngestConsumer(ctx context.Context, consumer string) (jetstream.Consumer, error) {
	consumer = consumerName(consumer)
	cons, err := c.js.Consumer(ctx, EventsStream, consumer)
	if err != nil {
		return nil, fmt.Errorf("consumer %s on %s: %w", consumer, EventsStream, err)
	}
	return cons, nil
}

// ConsumerPending returns how many events of EventsStream the durable
// consumer has not had acknowledged yet: those not delivered plus those
// delivered and not acknowledged. The server counts a stored message in a
// moment after it acknowledges its publish, so the figure may lag a
// publish just made; it suits gauges and readiness, not a barrier.
func (c *Client) ConsumerPending(ctx context.Context, consumer string) (uint64, error) {
	cons, err := c.IngestConsumer(ctx, consumer)
	if err != nil {
		return 0, err
	}
	info, err := cons.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("consumer %s on %s: %w", consumerName(consumer), EventsStream, err)
	}
	return info.NumPending + uint64(info.NumAckPending), nil
}

// consumerName returns consumer, or DefaultConsumer when it is empty.
func consumerName(consumer string) string { return cmp.Or(consumer, DefaultConsumer) }

// DeleteConsumer removes the durable consumer, so that EnsureStreams makes
// it anew and it delivers everything EventsStream holds again (for a new
// event log). A consumer that does not exist is no error.
func (c *Client) DeleteConsumer(ctx context.Context, consumer string) error {
	consumer = consumerName(consumer)
	err := c.js.DeleteConsumer(ctx, EventsStream, consumer)
	if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) && !errors.Is(err, jetstream.ErrStreamNotFound) {
		return fmt.Errorf("delete consumer %s on %s: %w", consumer, EventsStream, err)
	}
	return nil
}

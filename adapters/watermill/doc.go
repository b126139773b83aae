// Package watermill is plaint's ingest path: a Watermill Subscriber on
// JetStream pull consumers that keeps many messages in flight, and the
// Ingest that routes them through a Watermill Router into the event log.
//
// # Why not the stock watermill-nats subscriber
//
// The watermill-nats subscribers hand over a subscription's next message
// only after the current one is acknowledged: one message is in flight per
// subscription, so the event log, which fsyncs every commit, could commit
// one event per fsync. Subscriber keeps up to MaxInFlight (8192) messages
// in flight instead, and acknowledges each JetStream message explicitly
// once its Watermill message is acked. On the same backlog, with a handler
// that returns at once (BENCHMARKS.md, "Ingest"), the stock
// subscriber moves 3.1k events/s, Subscriber with one Watermill message per
// JetStream message 56.6k, and in batch mode 149.9k; draining 1M events
// into a log of 10M runs at about 147k events/s in batch mode.
//
// # Messages
//
// With Batch 1 a Watermill message is a JetStream message: its payload is
// the data, its metadata the headers with the subject, stream, consumer,
// stream sequence and delivery count (MetaSubject...), and its UUID the
// one a watermill-nats publisher sent (HeaderUUID). In batch mode (Batch
// above 1, the Ingest's default) a Watermill message is a group of up to
// Batch JetStream messages, whatever the pull iterator has ready: its
// payload holds the group's frames (subject, stream sequence, delivery
// count, timestamp and data of each; see GroupContentType), its metadata
// the group's size and stream-sequence range, and ReadGroup reads it. The
// router, the handler goroutine and the committer round trip are then paid
// once per group instead of once per event. Acking the Watermill message
// acks every JetStream message of the group, each with its own ack (the
// consumer stays AckExplicit); nacking it naks them all.
//
// The Subscriber passes Watermill's own Pub/Sub test suite
// (pubsub/tests.TestPubSub) with one message per JetStream message,
// published by watermill-nats' JetStream publisher, with the features it
// has declared: consumer groups (a durable consumer per group) and
// persistence, but no guaranteed order and no exactly-once delivery (many
// messages are in flight, and a message nacked or not acked in time comes
// back). Its test is subscriber_suite_test.go.
//
// # The Ingest
//
// The Router's handler decodes the events of a message (validating each
// once: the store does not validate them again) and appends the valid ones
// with one AppendBatch. Middleware does the rest: it counts what is
// received, recovers a panic (Watermill's Recoverer), makes the dead-letter
// decision (invalid messages are published to the dead-letter stream and
// counted before the message is acknowledged) and handles plaint's own
// failures (rate-limited logs, and a redelivery delay that doubles with
// each consecutive failure, given to the Subscriber through Watermill's
// delay metadata).
//
// The package names no stream or subject: it reads the consumer it is
// given and publishes dead letters with the function it is given
// (adapters/nats.Client.IngestConsumer and PublishDeadLetter, wired by
// cmd/plaint).
package watermill

// Package watermill is plaint's ingest path: a Watermill Subscriber on
// JetStream pull consumers that keeps many messages in flight, and the
// Ingest that routes them through a Watermill Router into the event log.
//
// # Why not the stock watermill-nats subscriber
//
// The watermill-nats subscribers hand over a subscription's next message
// only after the current one is acknowledged: one message is in flight per
// subscription, so the event log, which fsyncs every commit, commits one
// event per fsync. Subscriber keeps up to MaxInFlight (8192) messages in
// flight instead, and acknowledges each JetStream message explicitly once
// its Watermill message is acked. Measured on the same backlog and machine
// (bench_test.go; BENCHMARKS.md, "Ingest", 2026-12-02, load average 3-4):
//
//   - with the ingest's work (decode, append through the group committer,
//     fsync per commit): the stock JetStream subscriber (v2 pkg/jetstream,
//     AckAsync) stores 457 events/s (BenchmarkDrainStock), Subscriber in
//     batch mode 72,172 events/s (BenchmarkDrainBacklog, 100k events);
//     draining 1M events into a log of 10M runs at about 147k events/s;
//   - with a handler that returns at once (the Router's ceiling): the stock
//     subscriber 10,160 events/s with its default synchronous ack and
//     53,326 with AckAsync, Subscriber 54,224 with one Watermill message per
//     JetStream message and 94,002 in batch mode
//     (BenchmarkCeilingStockRouterAck, BenchmarkCeilingRouterAck).
//
// Without work the stock subscriber keeps up; it is the one message in
// flight under an fsync'ing handler that costs two orders of magnitude.
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
// with one AppendBatch, in the order the groups were handed out (the
// Router handles them concurrently; each waits for the one before to join
// the committer's queue, see turn.go), so that the log keeps the stream's
// order. A failure of plaint itself keeps it too: the failed group is
// nacked, none of the groups after it is stored (those queued already are
// fenced by the committer, eventstore.Batch.Epoch), and once the failure's
// back-off has passed the Subscriber rewinds the consumer to its ack floor
// (SubscriberConfig.Rewind), so that the failed group is retried in its
// place. Middleware does the rest: it counts what is
// received, recovers a panic (Watermill's Recoverer), makes the dead-letter
// decision (invalid messages are published to the dead-letter stream and
// counted before the message is acknowledged) and handles plaint's own
// failures (rate-limited logs, and a redelivery delay that doubles with
// each consecutive failure, given to the Subscriber through Watermill's
// delay metadata).
//
// A pull that misses its heartbeat is made anew; pulls that keep missing
// them with no delivery climb a healing ladder (Healing: log the
// consumer's info, have its leader step down, reconnect to another
// server), which moves nothing of the consumer, so the order and the
// durability rule hold through it.
//
// The package names no stream or subject: it reads the consumer it is
// given and publishes dead letters, steps the consumer's leader down and
// reconnects with the functions it is given
// (adapters/nats.Client.IngestConsumer, PublishDeadLetter,
// StepDownConsumer and Reconnect, wired by cmd/plaint).
package watermill

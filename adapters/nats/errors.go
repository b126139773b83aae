package nats

import (
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// These errors can be returned by the functions of this package, wrapped:
// test for them with errors.Is.
var (
	// ErrConfig is returned when a configuration is invalid, wrapped with
	// every problem (joined): by the Validate methods of ConnConfig,
	// ServerConfig, StreamConfig and PublisherConfig, and so by Connect,
	// StartServer, EnsureStreams and NewPublisher. It is a usage error, as
	// opposed to a server that cannot be reached.
	ErrConfig = errors.New("nats: invalid settings")

	// ErrNoStream is returned when a stream plaint needs does not exist on
	// the server: `plaint serve` creates them (EnsureStreams). It is
	// jetstream.ErrStreamNotFound.
	ErrNoStream = jetstream.ErrStreamNotFound

	// ErrDeadLetterNotFound is returned by GetDeadLetter for an ID the
	// dead-letter stream does not hold (never used, or replayed or aged
	// out).
	ErrDeadLetterNotFound = errors.New("nats: no dead letter with that id")

	// ErrLeaseHeld is returned (wrapped, with the holder) by AcquireLease
	// when another live plaint node reads the consumer: two nodes on one
	// consumer would split the stream between them, each log missing what
	// the other took.
	ErrLeaseHeld = errors.New("another live plaint node holds the consumer")

	// ErrPublisherDone is returned by Publisher.Publish once Wait was
	// called.
	ErrPublisherDone = errors.New("nats: publish after Wait")
)

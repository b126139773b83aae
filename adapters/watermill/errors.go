package watermill

import (
	"errors"
)

// These errors can be returned by the functions of this package, wrapped:
// test for them with errors.Is.
var (
	// ErrConfig is returned when a configuration is invalid, wrapped with
	// every problem (joined): by SubscriberConfig.Validate and
	// Config.Validate, and so by NewSubscriber and New.
	ErrConfig = errors.New("watermill: invalid settings")

	// errLostDelivery is what the log says when the consumer's deliveries
	// skip one and the Subscriber rewinds it (never returned).
	errLostDelivery = errors.New("a delivery of the consumer was lost (a NATS server died with it, or a pull expired)")

	// errGroupFailed is what the log says when a group was nacked (a
	// failure of plaint itself) and the Subscriber rewinds the consumer to
	// store it again in its place (never returned).
	errGroupFailed = errors.New("a group was not stored (a failure of plaint itself): it is retried in its place, before the groups after it")

	// errHeld is what the handler of a group returns when a group before it
	// failed (see turn.go): it is not stored now, but after the rewind, in
	// its place. It is not counted as a failure.
	errHeld = errors.New("a group before this one failed: this one comes again after it")

	// ErrNotGroup is returned by ReadGroup for a message that is not a
	// group of JetStream messages.
	ErrNotGroup = errors.New("watermill: the message is not a group of JetStream messages")

	// ErrBadGroup is returned by Group.Frames for a group payload that does
	// not hold the frames its metadata announces.
	ErrBadGroup = errors.New("watermill: group payload: bad frame")

	// ErrClosed is returned by Subscriber.Subscribe once the subscriber is
	// closed.
	ErrClosed = errors.New("watermill: subscriber is closed")

	// ErrStarted is returned by Ingest.Run when Run was called before.
	ErrStarted = errors.New("watermill: Ingest.Run called twice")
)

package watermill

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/components/delay"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// countReceived is the Router middleware that counts the JetStream
// messages each Watermill message stands for (Stats.Received,
// Hooks.Received).
func (in *Ingest) countReceived(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		n := messagesIn(msg)
		in.received.Add(uint64(n))
		if hook := in.cfg.Hooks.Received; hook != nil {
			for range n {
				hook()
			}
		}
		return h(msg)
	}
}

// redeliverLater is the Router middleware for plaint's own failures (a
// full disk, a store or dead-letter stream that cannot be written, a
// panic): it counts the failure (Stats.Errors, Hooks.Error), logs it rate
// limited (failureLog), and nacks the message with a redelivery delay
// that doubles with each consecutive failure, from NakDelay to
// MaxNakDelay, set with Watermill's delay package (the Subscriber naks
// with it). A success resets the delay.
//
// It nacks the message itself and returns no error: the Router logs every
// error a handler returns, one line per message with no rate limit, and
// the failure is logged here already. (The Router's Ack of a nacked
// message does nothing.)
func (in *Ingest) redeliverLater(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err == nil {
			in.failures.succeeded()
			return out, nil
		}
		if errors.Is(err, errHeld) {
			// Not a failure: a group before it failed, and it comes
			// again after that one (see turn.go).
			delay.Message(msg, delay.For(0))
			msg.Nack()
			return nil, nil
		}
		in.errs.Add(1)
		if hook := in.cfg.Hooks.Error; hook != nil {
			hook(err)
		}
		delay.Message(msg, delay.For(in.failures.failed(err)))
		msg.Nack()
		return nil, nil
	}
}

// deadLetters is the Router middleware that makes the dead-letter
// decision: when the handler rejects messages (a *rejection: each invalid,
// with its reason), it publishes them to the dead-letter stream (every
// publish confirmed) and counts them durably, and only then lets the
// message be acknowledged. A failed publish or count is plaint's failure:
// the message is redelivered (its stored events are dropped as duplicates
// then, and its dead letters published with the same message id, which
// JetStream drops as duplicates too, and not counted again: see
// countDeadLettersDurably).
//
// It is not Watermill's PoisonQueue middleware: that one publishes the
// whole Watermill message, where plaint's handler rejects part of a group,
// and a dead letter must carry plaint's reason and be counted in the log.
func (in *Ingest) deadLetters(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		var rej *rejection
		if !errors.As(err, &rej) {
			return out, err
		}
		ctx := msg.Context()
		if err := in.publishDeadLetters(ctx, rej.letters); err != nil {
			return nil, err
		}
		// Count the dead letters only once they are published, so that a
		// failed publish (the message is redelivered) is not counted.
		fresh, err := in.countDeadLettersDurably(ctx, rej.letters)
		if err != nil {
			return nil, fmt.Errorf("count dead letters: %w", err)
		}
		in.deadLettered.Add(uint64(len(fresh)))
		for _, r := range fresh {
			reason := reasonOf(r.cause)
			in.dlqLog.record(reason, r.cause.Error(), r.f.Subject)
			if hook := in.cfg.Hooks.DeadLettered; hook != nil {
				hook(reason)
			}
		}
		return out, nil
	}
}

// publishDeadLetters publishes the dead letters of rs asynchronously and
// waits until JetStream has confirmed every one (or PublishTimeout passes).
func (in *Ingest) publishDeadLetters(ctx context.Context, rs []rejected) error {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.PublishTimeout)
	defer cancel()
	futs := make([]jetstream.PubAckFuture, len(rs))
	for i, r := range rs {
		f, err := in.cfg.DeadLetter(ctx, r.f.Subject, r.f.Data, r.f.StreamSeq, r.f.Timestamp, r.cause)
		if err != nil {
			return err
		}
		futs[i] = f
	}
	for _, f := range futs {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return fmt.Errorf("dead-letter to %s: %w", f.Msg().Subject, err)
		case <-ctx.Done():
			return fmt.Errorf("dead-letter to %s: no confirmation within %s: %w", f.Msg().Subject, in.cfg.PublishTimeout, ctx.Err())
		}
	}
	return nil
}

// countDeadLettersDurably stores the count of the dead letters rs and
// returns those it counted. The store counts them by their stream message,
// its sequence and the time the stream stored it
// (eventstore.Batch.DeadLetters), and leaves out those it counted before:
// the dead letters of a message delivered again after a rewind, or after
// the server lost its acknowledgement, were published again with the same
// Nats-Msg-Id, which JetStream dropped, and are not counted twice either.
// A BatchStore counts them in one call, a plain Store with concurrent
// DeadLettered calls.
func (in *Ingest) countDeadLettersDurably(ctx context.Context, rs []rejected) ([]rejected, error) {
	ds := make([]eventstore.DeadLetter, len(rs))
	for i, r := range rs {
		ds[i].StreamSeq = r.f.StreamSeq
		if !r.f.Timestamp.IsZero() {
			ds[i].StreamTime = r.f.Timestamp.UnixNano()
		}
	}
	var res []eventstore.Result
	if bs, ok := in.cfg.Store.(BatchStore); ok {
		var err error
		if res, err = bs.AppendBatch(ctx, eventstore.Batch{DeadLetters: ds}); err != nil {
			return nil, err
		}
	} else {
		res = make([]eventstore.Result, len(ds))
		errs := make([]error, len(ds))
		var wg sync.WaitGroup
		for i := range ds {
			wg.Go(func() { res[i], errs[i] = in.cfg.Store.DeadLettered(ctx, ds[i]) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return nil, err
		}
	}
	fresh := rs[:0:0]
	for i, r := range rs {
		if i >= len(res) || !res[i].Duplicate {
			fresh = append(fresh, r)
		}
	}
	return fresh, nil
}

// reasonOf returns the reason of an EINVALID error.
func reasonOf(cause error) string {
	var de *domain.Error
	if errors.As(cause, &de) && de.Reason != "" {
		return de.Reason
	}
	return "invalid"
}

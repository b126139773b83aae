package watermill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// rejected is an invalid message of a group and why.
type rejected struct {
	jm     jetstream.Msg
	cause  error
	reason string
}

// handleBatch is the router's handler in batch mode: msg stands for a group
// of JetStream messages (NATSMsgs). Every message is decoded; the invalid
// ones are published to the dead-letter stream (every publish confirmed),
// then the valid events are appended and the dead letters counted, in one
// AppendBatch when the store has it. Returning nil acks every message of the
// group; returning an error (a failure of plaint itself) naks them all, and
// the events already stored are dropped as duplicates on redelivery.
func (in *Ingest) handleBatch(msg *message.Message) error {
	group := NATSMsgs(msg)
	if group == nil {
		return in.fail(errors.New("batch handler got a message without its JetStream messages"))
	}
	n := len(group)
	in.received.Add(uint64(n))
	if h := in.cfg.Hooks.Received; h != nil {
		for range n {
			h()
		}
	}
	ctx := msg.Context()
	events := make([]domain.Event, 0, n)
	from := make([]jetstream.Msg, 0, n) // the message of each event
	var invalid []rejected
	var decodeErr error // a failure of plaint itself while decoding
	for _, jm := range group {
		ev, err := in.cfg.Decoder.Decode(jm.Subject(), jm.Data())
		if err != nil {
			if domain.ErrorCode(err) != domain.EINVALID {
				decodeErr = cmp.Or(decodeErr, err)
				continue
			}
			invalid = append(invalid, rejected{jm, err, reasonOf(err)})
			continue
		}
		if in.storedBefore(jm, &ev) {
			continue
		}
		events = append(events, ev)
		from = append(from, jm)
	}
	// The valid events first: the dead letters must not delay them. They
	// are stored even when the group is going to be nacked, so that the
	// redelivery of the rest of the group drops them as duplicates.
	if len(events) > 0 {
		late, err := in.appendAll(ctx, events, from)
		if err != nil {
			return err
		}
		invalid = append(invalid, late...)
	}
	if decodeErr != nil {
		return in.fail(fmt.Errorf("decode: %w", decodeErr))
	}
	if len(invalid) == 0 {
		return nil
	}
	// Count the dead letters only once they are published, so that a
	// failed publish (the group is redelivered) is not counted.
	if err := in.publishDeadLetters(ctx, invalid); err != nil {
		return err
	}
	if err := in.countDeadLettersDurably(ctx, len(invalid)); err != nil {
		return in.fail(fmt.Errorf("count dead letters: %w", err))
	}
	in.countDeadLetters(invalid)
	return nil
}

// appendAll appends events, with one AppendBatch when the store has it, and
// returns those the store rejects as invalid.
func (in *Ingest) appendAll(ctx context.Context, events []domain.Event, from []jetstream.Msg) ([]rejected, error) {
	if bs, ok := in.cfg.Store.(BatchStore); ok {
		results, err := bs.AppendBatch(ctx, eventstore.Batch{Events: events, StreamSeqs: streamSeqs(from)})
		switch {
		case err == nil:
			for _, r := range results {
				in.counted(r)
			}
			return nil, nil
		case domain.ErrorCode(err) != domain.EINVALID:
			return nil, in.fail(fmt.Errorf("append %d events: %w", len(events), err))
		}
		// The store rejects an event the decoder accepted: append one by
		// one, so that only that one is dead-lettered.
	}
	return in.appendEach(ctx, events, from)
}

// countDeadLettersDurably stores the count of n more dead letters.
func (in *Ingest) countDeadLettersDurably(ctx context.Context, n int) error {
	if bs, ok := in.cfg.Store.(BatchStore); ok {
		_, err := bs.AppendBatch(ctx, eventstore.Batch{DeadLettered: uint64(n)})
		return err
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { errs[i] = in.cfg.Store.DeadLettered(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// counted counts one append's result.
func (in *Ingest) counted(r eventstore.Result) {
	if r.Duplicate {
		in.duplicates.Add(1)
		if h := in.cfg.Hooks.Duplicate; h != nil {
			h()
		}
		return
	}
	in.stored.Add(1)
	if h := in.cfg.Hooks.Stored; h != nil {
		h()
	}
}

// countDeadLetters counts dead letters whose count is stored.
func (in *Ingest) countDeadLetters(rs []rejected) {
	in.deadLettered.Add(uint64(len(rs)))
	for _, r := range rs {
		in.dlqLog.record(r.reason, r.cause.Error(), r.jm.Subject())
	}
	if h := in.cfg.Hooks.DeadLettered; h != nil {
		for _, r := range rs {
			h(r.reason)
		}
	}
}

// appendEach appends events with concurrent Append calls (so that the
// store can still group-commit them) and returns those the store rejects as
// invalid. Any other failure fails the group.
func (in *Ingest) appendEach(ctx context.Context, events []domain.Event, from []jetstream.Msg) ([]rejected, error) {
	type outcome struct {
		res eventstore.Result
		err error
	}
	outs := make([]outcome, len(events))
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() {
			outs[i].res, outs[i].err = in.appendOne(ctx, events[i], from[i])
		})
	}
	wg.Wait()
	var late []rejected
	for i, o := range outs {
		switch {
		case o.err == nil:
			in.counted(o.res)
		case domain.ErrorCode(o.err) == domain.EINVALID:
			late = append(late, rejected{from[i], o.err, reasonOf(o.err)})
		default:
			return nil, in.fail(fmt.Errorf("append %s/%s: %w", events[i].Source, events[i].ID, o.err))
		}
	}
	return late, nil
}

// publishDeadLetters publishes the dead letters of rs asynchronously and
// waits until JetStream has confirmed every one (or PublishTimeout passes).
func (in *Ingest) publishDeadLetters(ctx context.Context, rs []rejected) error {
	if len(rs) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, in.cfg.PublishTimeout)
	defer cancel()
	futs := make([]jetstream.PubAckFuture, len(rs))
	for i, r := range rs {
		out, opts := in.deadLetterMsg(r.jm.Subject(), r.jm.Data(), r.jm, r.cause, r.reason)
		f, err := in.cfg.JetStream.PublishMsgAsync(out, opts...)
		if err != nil {
			// For example too many publishes outstanding: publish this one
			// synchronously.
			if _, err := in.cfg.JetStream.PublishMsg(ctx, out, opts...); err != nil {
				return in.fail(fmt.Errorf("dead-letter to %s: %w", out.Subject, err))
			}
			continue
		}
		futs[i] = f
	}
	for _, f := range futs {
		if f == nil {
			continue
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return in.fail(fmt.Errorf("dead-letter to %s: %w", f.Msg().Subject, err))
		case <-ctx.Done():
			return in.fail(fmt.Errorf("dead-letter to %s: no confirmation within %s: %w", f.Msg().Subject, in.cfg.PublishTimeout, ctx.Err()))
		}
	}
	return nil
}

// appendOne appends one event, with its stream sequence when the store
// keeps them (a BatchStore).
func (in *Ingest) appendOne(ctx context.Context, ev domain.Event, jm jetstream.Msg) (eventstore.Result, error) {
	bs, ok := in.cfg.Store.(BatchStore)
	if !ok {
		return in.cfg.Store.Append(ctx, ev)
	}
	if err := domain.Validate(&ev); err != nil {
		return eventstore.Result{}, err // as Append rejects it, without AppendBatch's wrapping
	}
	rs, err := bs.AppendBatch(ctx, eventstore.Batch{Events: []domain.Event{ev}, StreamSeqs: []uint64{StreamSeq(jm)}})
	if err != nil {
		return eventstore.Result{}, err
	}
	return rs[0], nil
}

package watermill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

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

// rejection is what the handler returns when messages of msg are invalid
// (every other one is stored): the deadLetters middleware publishes them.
type rejection struct{ letters []rejected }

func (r *rejection) Error() string {
	return fmt.Sprintf("%d invalid messages (the first: %v)", len(r.letters), r.letters[0].cause)
}

// rejected is an invalid message and why.
type rejected struct {
	f     Frame
	cause error
}

// handle is the Router's handler: msg is one JetStream message, or a group
// of them (batch mode). Every message is decoded (and so validated, once);
// the valid events are appended, in one AppendBatch when the store has it,
// and it returns once they are committed; the invalid ones are returned in
// a *rejection for the deadLetters middleware. Any other error is a failure
// of plaint itself: the message is nacked, and the events already stored
// are dropped as duplicates on redelivery. A failed group keeps its turn
// until the Subscriber has held its chain (see turn.go), so that no group
// after it is stored first.
func (in *Ingest) handle(msg *message.Message) error {
	n := messagesIn(msg)
	sc := getScratch(n)
	events, from := sc.events, sc.from // from: the frame of each event
	defer func() { sc.put(len(events)) }()
	var invalid []rejected
	var decodeErr error // a failure of plaint itself while decoding
	for f, err := range framesOf(msg) {
		if err != nil {
			return fmt.Errorf("read %s: %w", msg.UUID, err)
		}
		ev, err := in.cfg.Decoder.Decode(f.Subject, f.Data)
		if err != nil {
			if domain.ErrorCode(err) != domain.EINVALID {
				decodeErr = cmp.Or(decodeErr, err)
				continue
			}
			invalid = append(invalid, rejected{f, err})
			continue
		}
		if in.storedBefore(f, &ev) {
			continue
		}
		events = append(events, ev)
		from = append(from, f)
	}
	// A failure to decode stores nothing of the group: it comes again,
	// whole, in its place.
	if decodeErr != nil {
		return fmt.Errorf("decode: %w", decodeErr)
	}
	// The valid events first: the dead letters must not delay them. A
	// group with none (only dead letters, or only redeliveries of stored
	// events) passes its turn on.
	if len(events) == 0 {
		if err := turnOf(msg.Context()).pass(msg.Context()); err != nil {
			return fmt.Errorf("wait for the group before: %w", err)
		}
	} else {
		late, err := in.appendAll(msg.Context(), events, from)
		if err != nil {
			return err
		}
		invalid = append(invalid, late...)
	}
	if len(invalid) > 0 {
		return &rejection{invalid}
	}
	return nil
}

// messagesIn returns how many JetStream messages msg stands for.
func messagesIn(msg *message.Message) int {
	if n, err := strconv.Atoi(msg.Metadata.Get(MetaBatch)); err == nil && n > 0 {
		return n
	}
	return 1
}

// framesOf returns the JetStream messages msg stands for: the frames of a
// group, or the one message it is.
func framesOf(msg *message.Message) iter.Seq2[Frame, error] {
	if g, err := ReadGroup(msg); err == nil {
		return g.Frames()
	}
	return func(yield func(Frame, error) bool) {
		seq, _ := strconv.ParseUint(msg.Metadata.Get(MetaStreamSeq), 10, 64)
		delivered, _ := strconv.ParseUint(msg.Metadata.Get(MetaDelivered), 10, 64)
		f := Frame{Subject: msg.Metadata.Get(MetaSubject), StreamSeq: seq, Delivered: delivered, Data: msg.Payload}
		if ts, err := strconv.ParseInt(msg.Metadata.Get(MetaTimestamp), 10, 64); err == nil {
			f.Timestamp = time.Unix(0, ts).UTC()
		}
		yield(f, nil)
	}
}

// storedBefore reports whether f is a redelivery whose event is stored,
// and counts it.
func (in *Ingest) storedBefore(f Frame, ev *domain.Event) bool {
	c, ok := in.cfg.Store.(Container)
	if !ok || f.Delivered <= 1 || !c.Contains(ev.Source, ev.ID) {
		return false
	}
	in.countRedelivered()
	return true
}

// countRedelivered counts a redelivery whose event was stored already.
func (in *Ingest) countRedelivered() {
	in.redelivered.Add(1)
	if h := in.cfg.Hooks.Redelivered; h != nil {
		h()
	}
}

// appendAll appends events, with one AppendBatch when the store has it, and
// returns those the store rejects as invalid.
//
// With a BatchStore, in batch mode, the events join the store's queue in
// the order the groups were handed out (see turn): it waits for the group
// before to queue first, and lets the next one go once its own events are
// queued (eventstore.Batch.Queued). It stores nothing when a group before
// failed (errHeld), and with a Fencer neither does the committer when one
// queued before fails after (eventstore.Batch.Epoch). On a failure it keeps
// its turn: the Subscriber holds the chain before it lets the next group
// go. When the store rejects the batch as invalid (an event the decoder
// accepted breaks a rule of the store's), it keeps its turn too while it
// appends the events one by one. (A store without AppendBatch keeps no stream sequences, and its
// appends go concurrently, in no order.)
func (in *Ingest) appendAll(ctx context.Context, events []domain.Event, from []Frame) ([]rejected, error) {
	t := turnOf(ctx)
	bs, ok := in.cfg.Store.(BatchStore)
	if !ok {
		t.done()
		return in.appendEach(ctx, events, from)
	}
	if err := t.wait(ctx); err != nil {
		return nil, fmt.Errorf("wait for the group before: %w", err)
	}
	if t.held() {
		return nil, errHeld
	}
	var epoch uint64
	if f, ok := in.cfg.Store.(Fencer); ok {
		epoch = t.epoch(f.Epoch)
	}
	seqs := make([]uint64, len(from))
	for i, f := range from {
		seqs[i] = f.StreamSeq
	}
	// The decoder validated every event: the store does not again.
	results, err := bs.AppendBatch(ctx, eventstore.Batch{Events: events, StreamSeqs: seqs, Valid: true, Queued: t.done, Epoch: epoch})
	switch {
	case err == nil:
		t.done()
		for i, r := range results {
			in.counted(r, from[i])
		}
		return nil, nil
	case errors.Is(err, eventstore.ErrFenced):
		return nil, errHeld
	case domain.ErrorCode(err) != domain.EINVALID:
		return nil, fmt.Errorf("append %d events: %w", len(events), err)
	}
	// The store rejects an event the decoder accepted: append one by one,
	// in order, so that only that one is dead-lettered. The group keeps its
	// turn until the last is stored or rejected (a store calls no Queued
	// for a batch it rejects as invalid), so that no group after it is
	// stored first; and each append is fenced as the batch was, so that
	// none is stored after a group before it failed.
	var late []rejected
	for i := range events {
		res, err := bs.AppendBatch(ctx, eventstore.Batch{Events: events[i : i+1], StreamSeqs: seqs[i : i+1], Epoch: epoch})
		switch {
		case err == nil:
			in.counted(res[0], from[i])
		case errors.Is(err, eventstore.ErrFenced):
			return nil, errHeld
		case domain.ErrorCode(err) == domain.EINVALID:
			late = append(late, rejected{from[i], err})
		default:
			return nil, fmt.Errorf("append %s/%s: %w", events[i].Source, events[i].ID, err)
		}
	}
	t.done()
	return late, nil
}

// appendEach appends events with concurrent Append calls (so that the
// store can still group-commit them) and returns those the store rejects as
// invalid. Any other failure fails the message.
func (in *Ingest) appendEach(ctx context.Context, events []domain.Event, from []Frame) ([]rejected, error) {
	type outcome struct {
		res eventstore.Result
		err error
	}
	outs := make([]outcome, len(events))
	var wg sync.WaitGroup
	for i := range events {
		wg.Go(func() { outs[i].res, outs[i].err = in.cfg.Store.Append(ctx, events[i]) })
	}
	wg.Wait()
	var late []rejected
	for i, o := range outs {
		switch {
		case o.err == nil:
			in.counted(o.res, from[i])
		case domain.ErrorCode(o.err) == domain.EINVALID:
			late = append(late, rejected{from[i], o.err})
		default:
			return nil, fmt.Errorf("append %s/%s: %w", events[i].Source, events[i].ID, o.err)
		}
	}
	return late, nil
}

// counted counts one append's result for the event of frame f. A
// duplicate that came in a redelivery (f.Delivered above 1) is plaint's own
// retry, counted as redelivered by storedBefore's rule: its copy before was
// still being stored (or the store is no Container), so that rule could not
// see it before the append (see groupMessage for such copies).
func (in *Ingest) counted(r eventstore.Result, f Frame) {
	if r.Duplicate && f.Delivered > 1 {
		in.countRedelivered()
		return
	}
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

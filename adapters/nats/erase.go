package nats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/eventstore"
)

// Erasing a customer's data from JetStream. PLAINT_EVENTS keeps every raw
// message for --stream-max-age and PLAINT_DLQ keeps rejected ones; a plain
// delete only marks a message deleted and leaves its bytes in the stream's
// block files until the block is compacted or removed. A secure delete
// (jetstream.Stream.SecureDeleteMsg) overwrites the message with random
// bytes in the file store and rewrites its block. (A stream whose storage is
// encrypted deletes without overwriting: its bytes are unreadable anyway.)

// EraseReport says what an erasure did to a stream.
type EraseReport struct {
	// Erased messages were overwritten and deleted.
	Erased int `json:"erased"`
	// Gone messages were no longer in the stream (expired after MaxAge, or
	// removed by interest retention once acknowledged).
	Gone int `json:"already_gone"`
	// Scanned messages were read to find the ones to erase.
	Scanned int `json:"scanned,omitempty"`
}

func (r *EraseReport) add(o EraseReport) {
	r.Erased += o.Erased
	r.Gone += o.Gone
	r.Scanned += o.Scanned
}

// EraseMessages securely deletes the messages with the given stream
// sequences from stream.
func (c *Client) EraseMessages(ctx context.Context, stream string, seqs []uint64) (EraseReport, error) {
	var rep EraseReport
	if len(seqs) == 0 {
		return rep, nil
	}
	st, err := c.js.Stream(ctx, stream)
	if err != nil {
		return rep, fmt.Errorf("erase from %s: %w", stream, err)
	}
	for _, seq := range seqs {
		err := st.SecureDeleteMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgDeleteUnsuccessful) {
			// Deleted already? The delete fails the same way for a message
			// that is not there.
			if _, gerr := st.GetMsg(ctx, seq); errors.Is(gerr, jetstream.ErrMsgNotFound) {
				rep.Gone++
				continue
			}
		}
		if err != nil {
			return rep, fmt.Errorf("erase message %d from %s: %w", seq, stream, err)
		}
		rep.Erased++
	}
	return rep, nil
}

// Mentions returns a test for EraseMatching: whether a message's data or
// one of its header values holds one of needles.
func Mentions(needles [][]byte) func(jetstream.Msg) bool {
	return func(m jetstream.Msg) bool {
		for _, n := range needles {
			if len(n) == 0 {
				continue
			}
			if bytes.Contains(m.Data(), n) {
				return true
			}
			for _, vs := range m.Headers() {
				for _, v := range vs {
					if bytes.Contains([]byte(v), n) {
						return true
					}
				}
			}
		}
		return false
	}
}

// EraseMatching reads stream from its first message to the last one it
// held when called (an ordered consumer; nothing is acknowledged or
// changed) and securely deletes every message for which match is true.
func (c *Client) EraseMatching(ctx context.Context, stream string, match func(jetstream.Msg) bool) (EraseReport, error) {
	var rep EraseReport
	var found []uint64
	err := scanStream(ctx, c.js, stream, jetstream.OrderedConsumerConfig{}, func(m jetstream.Msg, md *jetstream.MsgMetadata) bool {
		rep.Scanned++
		if match(m) {
			found = append(found, md.Sequence.Stream)
		}
		return true
	})
	if err != nil {
		return rep, fmt.Errorf("search: %w", err)
	}
	er, err := c.EraseMessages(ctx, stream, found)
	rep.add(er)
	return rep, err
}

// DeadLetterOrigin returns the sequence, in EventsStream, of the message a
// dead letter was made from: plaint publishes each dead letter with the
// message id dlq:<stream>:<sequence>[:<stored>] (JetStream keeps it in the
// Nats-Msg-Id header; see PublishDeadLetter), and the original stays in
// the events stream until it expires.
func DeadLetterOrigin(m jetstream.Msg) (uint64, bool) {
	rest, ok := strings.CutPrefix(m.Headers().Get(jetstream.MsgIDHeader), deadLetterIDPrefix)
	if !ok {
		return 0, false
	}
	rest, _, _ = strings.Cut(rest, ":")
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil && seq > 0
}

// EraseCustomer erases from JetStream what it keeps of the customer of
// plan, before the log erases them: the copies of their events in
// EventsStream (by the stream sequences the log recorded, and, for events
// stored without one, by searching the stream for messages that name the
// customer and whose event stored says the log holds), and every dead
// letter in DLQStream that mentions one of the erased values, with its
// original in EventsStream. It returns what it did to each stream, also
// when it fails part way.
func (c *Client) EraseCustomer(ctx context.Context, plan *eventstore.ForgetPlan, stored func(source, id string) bool) (events, deadLetters EraseReport, err error) {
	events, err = c.EraseMessages(ctx, EventsStream, plan.StreamSeqs)
	if err != nil {
		return events, deadLetters, err
	}
	// The id as a JSON string: a bare one would match longer ids.
	quoted, _ := json.Marshal(plan.CustomerID)
	if plan.Unmapped > 0 {
		mentions := Mentions([][]byte{quoted})
		more, err := c.EraseMatching(ctx, EventsStream, func(m jetstream.Msg) bool {
			if !mentions(m) {
				return false
			}
			var e struct{ ID, Source string }
			return json.Unmarshal(m.Data(), &e) == nil && stored(e.Source, e.ID)
		})
		events.Erased, events.Gone, events.Scanned = events.Erased+more.Erased, events.Gone+more.Gone, more.Scanned
		if err != nil {
			return events, deadLetters, err
		}
	}
	// Dead letters: the quoted id, and the customer's other erased values.
	needles := [][]byte{quoted}
	kept := plan.Kept()
	for i, n := range plan.Needles() {
		if i > 0 && !kept[i] {
			needles = append(needles, n)
		}
	}
	if !kept[0] {
		needles = append(needles, []byte(plan.CustomerID))
	}
	mentions := Mentions(needles)
	var origins []uint64
	deadLetters, err = c.EraseMatching(ctx, DLQStream, func(m jetstream.Msg) bool {
		if !mentions(m) {
			return false
		}
		if seq, ok := DeadLetterOrigin(m); ok {
			origins = append(origins, seq)
		}
		return true
	})
	if err != nil {
		return events, deadLetters, err
	}
	// Their originals stay in the events stream too.
	og, err := c.EraseMessages(ctx, EventsStream, origins)
	events.Erased, events.Gone = events.Erased+og.Erased, events.Gone+og.Gone
	return events, deadLetters, err
}

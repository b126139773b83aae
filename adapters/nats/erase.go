package nats

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
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
func EraseMessages(ctx context.Context, js jetstream.JetStream, stream string, seqs []uint64) (EraseReport, error) {
	var rep EraseReport
	if len(seqs) == 0 {
		return rep, nil
	}
	st, err := js.Stream(ctx, stream)
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
func EraseMatching(ctx context.Context, js jetstream.JetStream, stream string, match func(jetstream.Msg) bool) (EraseReport, error) {
	var rep EraseReport
	var found []uint64
	err := scanStream(ctx, js, stream, jetstream.OrderedConsumerConfig{}, func(m jetstream.Msg, md *jetstream.MsgMetadata) bool {
		rep.Scanned++
		if match(m) {
			found = append(found, md.Sequence.Stream)
		}
		return true
	})
	if err != nil {
		return rep, fmt.Errorf("search: %w", err)
	}
	er, err := EraseMessages(ctx, js, stream, found)
	rep.add(er)
	return rep, err
}

// DeadLetterOrigin returns the sequence, in EventsStream, of the message a
// dead letter was made from: plaint publishes each dead letter with the
// message id dlq:<stream>:<sequence> (JetStream keeps it in the
// Nats-Msg-Id header), and the original stays in the events stream until
// it expires.
func DeadLetterOrigin(m jetstream.Msg) (uint64, bool) {
	rest, ok := strings.CutPrefix(m.Headers().Get(jetstream.MsgIDHeader), "dlq:"+EventsStream+":")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseUint(rest, 10, 64)
	return seq, err == nil && seq > 0
}

package watermill

import (
	"encoding/binary"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
)

// GroupContentType is the MetaContentType of a Watermill message that
// stands for a group of JetStream messages (batch mode). Its payload is the
// group's frames, one per JetStream message in delivery order:
//
//	frame = uvarint(len(subject)) subject
//	        uvarint(stream sequence) uvarint(deliveries) varint(timestamp, Unix ns)
//	        uvarint(len(data)) data
//
// and its metadata says what it holds: MetaBatch (the number of frames),
// MetaStream and MetaConsumer, MetaStreamSeqFirst and MetaStreamSeqLast
// (the lowest and highest stream sequence of the group). Headers of the
// JetStream messages are not carried. ReadGroup reads such a message.
const GroupContentType = "application/vnd.plaint.jetstream-group.v1"

// Frame is one JetStream message of a group: where it was published, where
// the stream keeps it, and its data.
type Frame struct {
	Subject   string
	StreamSeq uint64 // its sequence in MetaStream
	// Delivered is how often the server delivered it, this time included:
	// above 1 for a redelivery.
	Delivered uint64
	Timestamp time.Time // when the stream stored it
	Data      []byte    // a slice of the Watermill message's payload
}

// appendFrame appends the frame of a JetStream message delivered as d.
func appendFrame(b []byte, subject string, d delivery, data []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(subject)))
	b = append(b, subject...)
	b = binary.AppendUvarint(b, d.streamSeq)
	b = binary.AppendUvarint(b, d.delivered)
	b = binary.AppendVarint(b, d.timestamp)
	b = binary.AppendUvarint(b, uint64(len(data)))
	return append(b, data...)
}

// groupMessage returns the Watermill message of a group of JetStream
// messages: its frames as payload, what it holds as metadata. Its UUID is
// <stream>:<first frame's sequence>:<its deliveries>+<frames>, unique: a
// message is in one group at a time, and each redelivery counts.
//
// A message at or below handed (the last stream sequence handed out
// before), or at or below one before it in the group, is delivered again:
// the consumer delivers the stream in order, so only a message handed out
// before comes again below it (after a rewind, or when the server
// redelivers one of its own accord). Its frame counts at least two
// deliveries, so that the ingest treats it as a redelivery; the server's
// count does not say so after a rewind, which numbers deliveries from 1
// again, nor when it delivers again a message whose delivery to a stopped
// pull failed, which it does not count. It returns the message and the
// last stream sequence handed out with it (the highest of handed and the
// group's).
func groupMessage(group []jetstream.Msg, handed uint64) (*message.Message, uint64) {
	size := 0
	for _, jm := range group {
		size += len(jm.Subject()) + len(jm.Data()) + 4*binary.MaxVarintLen64
	}
	payload := make([]byte, 0, size)
	var first delivery
	lo, hi := ^uint64(0), uint64(0)
	for i, jm := range group {
		d, _ := parseAck(jm.Reply())
		if d.streamSeq <= handed {
			d.delivered = max(d.delivered, 2)
		}
		handed = max(handed, d.streamSeq)
		if i == 0 {
			first = d
		}
		lo, hi = min(lo, d.streamSeq), max(hi, d.streamSeq)
		payload = appendFrame(payload, jm.Subject(), d, jm.Data())
	}
	n := strconv.Itoa(len(group))
	los, his := strconv.FormatUint(lo, 10), strconv.FormatUint(hi, 10)
	id := first.stream + ":" + strconv.FormatUint(first.streamSeq, 10) + ":" + strconv.FormatUint(first.delivered, 10) + "+" + n
	msg := message.NewMessage(id, payload)
	msg.Metadata = message.Metadata{
		MetaContentType:    GroupContentType,
		MetaBatch:          n,
		MetaStream:         first.stream,
		MetaConsumer:       first.consumer,
		MetaStreamSeqFirst: los,
		MetaStreamSeqLast:  his,
	}
	return msg, handed
}

// Group is the content of a group message (see GroupContentType).
type Group struct {
	payload []byte
	n       int
}

// ReadGroup returns the group a Watermill message holds, ErrNotGroup when
// it holds none.
func ReadGroup(msg *message.Message) (Group, error) {
	if msg.Metadata.Get(MetaContentType) != GroupContentType {
		return Group{}, ErrNotGroup
	}
	n, err := strconv.Atoi(msg.Metadata.Get(MetaBatch))
	if err != nil || n < 1 {
		return Group{}, fmt.Errorf("watermill: group message %s: %s %q is not a size", msg.UUID, MetaBatch, msg.Metadata.Get(MetaBatch))
	}
	return Group{payload: msg.Payload, n: n}, nil
}

// Len returns the number of frames, as MetaBatch says.
func (g Group) Len() int { return g.n }

// Frames returns the frames in order. A payload that does not hold Len
// well-formed frames ends the sequence with an error. A frame's Subject
// is the previous frame's string when it is the same (no allocation).
func (g Group) Frames() iter.Seq2[Frame, error] {
	return func(yield func(Frame, error) bool) {
		b := g.payload
		var prev string
		for i := range g.n {
			f, rest, ok := readFrame(b, prev)
			if !ok {
				yield(Frame{}, fmt.Errorf("%w %d of %d", ErrBadGroup, i+1, g.n))
				return
			}
			if !yield(f, nil) {
				return
			}
			b, prev = rest, f.Subject
		}
		if len(b) > 0 {
			yield(Frame{}, fmt.Errorf("%w: %d bytes after the last of %d frames", ErrBadGroup, len(b), g.n))
		}
	}
}

// readFrame reads the frame at the start of b; its Subject is prev when
// the two are the same.
func readFrame(b []byte, prev string) (f Frame, rest []byte, ok bool) {
	var sub []byte
	if sub, b, ok = cutBytes(b); !ok {
		return f, nil, false
	}
	f.Subject = prev
	if string(sub) != prev {
		f.Subject = string(sub)
	}
	var k int
	if f.StreamSeq, k = binary.Uvarint(b); k <= 0 {
		return f, nil, false
	}
	b = b[k:]
	if f.Delivered, k = binary.Uvarint(b); k <= 0 {
		return f, nil, false
	}
	b = b[k:]
	ts, k := binary.Varint(b)
	if k <= 0 {
		return f, nil, false
	}
	b = b[k:]
	f.Timestamp = time.Unix(0, ts).UTC()
	if f.Data, b, ok = cutBytes(b); !ok {
		return f, nil, false
	}
	return f, b, true
}

// cutBytes reads a length-prefixed byte string from b.
func cutBytes(b []byte) (s, rest []byte, ok bool) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, b, false
	}
	b = b[k:]
	return b[:n:n], b[n:], true
}

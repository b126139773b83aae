package watermill

import (
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// StreamSeq returns the stream sequence of a message delivered by a
// JetStream consumer, read from its ack subject without allocating, or 0
// when jm is nil or not a JetStream delivery. The log keeps it beside the
// event (eventstore.Batch.StreamSeqs), so that erasing a customer can erase
// JetStream's copies of their events.
//
// The ack subject is $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>... from
// older servers and $JS.ACK.<domain>.<account hash>.<stream>.<consumer>.
// <delivered>.<sseq>... (11 tokens or more) from newer ones; it is parsed
// the way jetstream.Msg.Metadata parses it.
func StreamSeq(jm jetstream.Msg) uint64 {
	if jm == nil {
		return 0
	}
	return streamSeqOf(jm.Reply())
}

// streamSeqOf reads the stream sequence from an ack subject.
func streamSeqOf(reply string) uint64 {
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return 0
	}
	pos := 3 // the sequence's token after "$JS.ACK." in the old form
	switch n := strings.Count(reply, ".") + 1; {
	case n == 9:
	case n >= 11:
		pos = 5
	default:
		return 0
	}
	for range pos {
		_, rest, _ = strings.Cut(rest, ".")
	}
	tok, _, _ := strings.Cut(rest, ".")
	var seq uint64
	for i := 0; i < len(tok); i++ {
		c := tok[i]
		if c < '0' || c > '9' {
			return 0
		}
		seq = seq*10 + uint64(c-'0')
	}
	return seq
}

// streamSeqs returns the stream sequence of each message.
func streamSeqs(msgs []jetstream.Msg) []uint64 {
	out := make([]uint64, len(msgs))
	for i, jm := range msgs {
		out[i] = StreamSeq(jm)
	}
	return out
}

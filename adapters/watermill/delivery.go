package watermill

import (
	"strconv"
	"strings"
)

// delivery is what the ack subject of a JetStream delivery says about it.
type delivery struct {
	stream, consumer string // substrings of the ack subject: no allocation
	delivered        uint64 // how often the server delivered it, this time included
	streamSeq        uint64 // its sequence in the stream
	consumerSeq      uint64 // its delivery's sequence in the consumer (every delivery has one, redeliveries too)
	timestamp        int64  // when the stream stored it, Unix nanoseconds
}

// parseAck reads a delivery from an ack subject, without allocating when
// it is well formed; false when reply is not a JetStream ack subject.
//
// The ack subject is $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.
// <tm>.<pending> from older servers and $JS.ACK.<domain>.<account hash>.
// <stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>... (11
// tokens or more) from newer ones; it is parsed the way
// jetstream.Msg.Metadata parses it.
func parseAck(reply string) (delivery, bool) {
	var d delivery
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return d, false
	}
	switch n := strings.Count(reply, ".") + 1; {
	case n == 9:
	case n >= 11:
		_, rest, _ = strings.Cut(rest, ".") // the domain
		_, rest, _ = strings.Cut(rest, ".") // the account hash
	default:
		return d, false
	}
	var tok [6]string
	for i := range tok {
		tok[i], rest, _ = strings.Cut(rest, ".")
	}
	d.stream, d.consumer = tok[0], tok[1]
	delivered, err1 := strconv.ParseUint(tok[2], 10, 64)
	seq, err2 := strconv.ParseUint(tok[3], 10, 64)
	ts, err3 := strconv.ParseUint(tok[5], 10, 64)
	cseq, err4 := strconv.ParseUint(tok[4], 10, 64)
	d.delivered, d.streamSeq, d.timestamp, d.consumerSeq = delivered, seq, int64(ts), cseq
	return d, err1 == nil && err2 == nil && err3 == nil && err4 == nil && d.stream != "" && d.consumer != ""
}

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
	// One pass over the subject, the token count included, and the numbers
	// read digit by digit: ParseUint and the Count before were most of the
	// 140 ns a message this took. What the fast way does not take (a number
	// that is not one, too many digits) goes the general way, so that
	// every subject reads as it did.
	rest, ok := strings.CutPrefix(reply, "$JS.ACK.")
	if !ok {
		return delivery{}, false
	}
	var tok [9]string // the tokens after $JS.ACK., the ninth holding the rest
	n, start := 0, 0
	for i := 0; i < len(rest) && n < len(tok)-1; i++ {
		if rest[i] == '.' {
			tok[n], start = rest[start:i], i+1
			n++
		}
	}
	tok[n] = rest[start:]
	n++
	var t []string
	switch n {
	case 7: // $JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>
		t = tok[:7]
	case 9: // $JS.ACK.<domain>.<account hash>.<stream>.<consumer>...: 11 tokens or more
		t = tok[2:9]
	default:
		return parseAckSlow(reply)
	}
	delivered, ok1 := decimal(t[2])
	seq, ok2 := decimal(t[3])
	cseq, ok3 := decimal(t[4])
	ts, ok4 := decimal(t[5])
	if !ok1 || !ok2 || !ok3 || !ok4 || t[0] == "" || t[1] == "" {
		return parseAckSlow(reply)
	}
	return delivery{stream: t[0], consumer: t[1], delivered: delivered, streamSeq: seq, consumerSeq: cseq, timestamp: int64(ts)}, true
}

// decimal reads a number of 1 to 19 decimal digits (it cannot overflow).
func decimal(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + uint64(c)
	}
	return v, true
}

// parseAckSlow is parseAck the general way, with strconv.
func parseAckSlow(reply string) (delivery, bool) {
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

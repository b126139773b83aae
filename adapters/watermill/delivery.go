package watermill

import "strings"

// delivery is what the ack subject of a JetStream delivery says about it.
type delivery struct {
	stream, consumer string // substrings of the ack subject: no allocation
	delivered        uint64 // how often the server delivered it, this time included
	streamSeq        uint64 // its sequence in the stream
	timestamp        int64  // when the stream stored it, Unix nanoseconds
}

// parseAck reads a delivery from an ack subject without allocating; false
// when reply is not a JetStream ack subject.
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
	delivered, ok1 := parseUint(tok[2])
	seq, ok2 := parseUint(tok[3])
	ts, ok3 := parseUint(tok[5])
	d.delivered, d.streamSeq, d.timestamp = delivered, seq, int64(ts)
	return d, ok1 && ok2 && ok3 && d.stream != "" && d.consumer != ""
}

// parseUint reads a decimal number without allocating.
func parseUint(s string) (uint64, bool) {
	if s == "" || len(s) > 19 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

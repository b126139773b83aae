package watermill

// ParseAck exposes the ack subject parser to the tests.
func ParseAck(reply string) (stream, consumer string, delivered, streamSeq uint64, ok bool) {
	d, ok := parseAck(reply)
	return d.stream, d.consumer, d.delivered, d.streamSeq, ok
}

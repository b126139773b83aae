package watermill

// StreamSeqOf exposes the ack subject parser to the tests.
var StreamSeqOf = streamSeqOf

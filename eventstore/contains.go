package eventstore

// Contains is Log.Contains on the committer's log. The ingest asks it for a
// message JetStream delivers again (after its own failure, or a lost
// acknowledgement): an event found stored is then acknowledged without
// being counted as a duplicate, which a producer's repeated message is.
func (c *Committer) Contains(source, id string) bool { return c.log.Contains(source, id) }

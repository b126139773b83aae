package eventstore

// Contains reports whether an event with this (source, id) is stored. The
// ingest asks it for a message JetStream delivers again (after its own
// failure, or a lost acknowledgement): an event found stored is then
// acknowledged without being counted as a duplicate, which a producer's
// repeated message is.
func (l *Log) Contains(source, id string) bool {
	k := keyOf(source, id)
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys != nil && l.keys.has(k)
}

// Contains is Log.Contains on the committer's log.
func (c *Committer) Contains(source, id string) bool { return c.log.Contains(source, id) }

package domain

// AppendResult says what became of one appended event.
type AppendResult struct {
	Seq       uint64 // the sequence it was stored at; 0 for a duplicate
	Duplicate bool   // its (source, id) was already in the log
}

// EventLog is the port to plaint's append-only event log. eventstore.Log is
// the implementation; eventstore/logtest holds the contract every
// implementation must pass.
type EventLog interface {
	// Append stores events durably, in order, in one transaction. Events whose
	// (source, id) was ever stored, or that repeat within the call, are
	// reported as duplicates and not stored again.
	Append(events ...Event) ([]AppendResult, error)
	// LastSeq returns the sequence of the last committed event, 0 when empty.
	LastSeq() uint64
	// ReadFrom calls fn for every event with sequence >= from, in order.
	ReadFrom(from uint64, fn func(seq uint64, ev Event) error) error
	// Close releases the log.
	Close() error
}

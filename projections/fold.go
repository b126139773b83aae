package projections

import (
	"context"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// fold is the state of one projection and the way records change it. A
// build splits a range of the log into consecutive parts scanned in
// parallel, then merges them in log order, so every fold's merge must give
// the same state as one sequential scan.
type fold interface {
	// newPart returns an empty partial state for a sub-range of the log.
	newPart() part
	// merge adds p, which covers the records right after those already in
	// the state.
	merge(p part)
	// marshal and unmarshal save and load the state.
	marshal() ([]byte, error)
	unmarshal(b []byte) error
}

// preparer is a fold that needs something before a range is folded into
// it; foldRange calls prepare with the range's last sequence first.
type preparer interface {
	prepare(ctx context.Context, to uint64) error
}

// part is the state of one sub-range of the log while it is scanned.
type part interface {
	// scan folds the records from..to (inclusive) of s, adding the number
	// of records read to seen now and then.
	scan(s *eventstore.Snapshot, from, to uint64, seen *atomic.Uint64) error
}

// progressEvery is how many records a scan reads between progress updates.
const progressEvery = 1 << 16

// decodeCurrent decodes r and upcasts it to the current schema.
func decodeCurrent(s *eventstore.Snapshot, r eventstore.Record) (domain.Event, error) {
	ev, err := s.Decode(r)
	if err != nil {
		return ev, err
	}
	Upcast(&ev)
	return ev, nil
}

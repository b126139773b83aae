package logtest

import (
	"fmt"

	"github.com/plaint/plaint/eventstore"
)

// StreamOrderBreaks returns how many events of s were stored from a stream
// message at or before the one stored just before them (0: the log is in
// the stream's order), and the first limit of those places, each said in a
// sentence. An event without a stream sequence is an error.
func StreamOrderBreaks(s *eventstore.Snapshot, limit int) (breaks int, places []string, err error) {
	var prev uint64
	for seq := uint64(1); seq <= s.LastSeq(); seq++ {
		st, ok := s.StreamSeq(seq)
		if !ok {
			return breaks, places, fmt.Errorf("event %d has no stream sequence", seq)
		}
		if st <= prev {
			breaks++
			if len(places) < limit {
				places = append(places, fmt.Sprintf("event %d is stream message %d, after stream message %d", seq, st, prev))
			}
		}
		prev = st
	}
	return breaks, places, nil
}

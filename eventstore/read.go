package eventstore

import (
	"fmt"

	"github.com/plaint/plaint/domain"
)

// ReadFrom calls fn for every event with sequence >= from, decoded, in order,
// from one consistent snapshot.
func (l *Log) ReadFrom(from uint64, fn func(seq uint64, ev domain.Event) error) error {
	return l.View(func(s *Snapshot) error {
		return s.Scan(from, 0, func(seq uint64, r Record) error {
			ev, err := s.Decode(r)
			if err != nil {
				return fmt.Errorf("read %d: %w", seq, err)
			}
			return fn(seq, ev)
		})
	})
}

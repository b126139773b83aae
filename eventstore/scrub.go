package eventstore

import (
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/scrub"
)

// metaScrubbed holds how many erasures (customer.forgotten events) the
// file's free pages have been scrubbed after. An erasure whose scrub did not
// finish (a crash, a backup that kept old pages in use for too long) is
// scrubbed at the next writable open.
var metaScrubbed = []byte("scrubbed_erasures")

// scrubFree overwrites the free pages of the log file with zeros (see
// internal/scrub), holding the append lock with each step of at most
// maxHold, then records that every erasure so far is scrubbed. It returns
// the pages overwritten and the longest hold.
func (l *Log) scrubFree(ctx context.Context, maxHold, wait time.Duration) (int, time.Duration, error) {
	l.mu.Lock()
	erasures := l.counters.byType[domain.TypeCustomerForgotten]
	l.mu.Unlock()
	rep, err := scrub.FreePages(ctx, l.db, scrub.Options{MaxHold: maxHold, Wait: wait, Lock: &l.mu})
	if err != nil {
		return rep.Pages, rep.MaxHold, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err = l.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(metaScrubbed, binary.BigEndian.AppendUint64(nil, erasures))
	})
	if err != nil {
		return rep.Pages, rep.MaxHold, fmt.Errorf("scrub: %w", err)
	}
	return rep.Pages, rep.MaxHold, nil
}

// scrubIfPending finishes the scrub of an erasure that did not finish, at
// open.
func (l *Log) scrubIfPending() error {
	var done uint64
	err := l.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketMeta).Get(metaScrubbed); len(v) == 8 {
			done = binary.BigEndian.Uint64(v)
		}
		return nil
	})
	if err != nil || done >= l.counters.byType[domain.TypeCustomerForgotten] {
		return err
	}
	if err := l.check.wait(); err != nil {
		return err
	}
	if _, _, err := l.scrubFree(context.Background(), time.Second, time.Minute); err != nil {
		return fmt.Errorf("finish the scrub of an erasure: %w", err)
	}
	return nil
}

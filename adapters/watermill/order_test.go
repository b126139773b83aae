package watermill_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

// holdFirstStore is a BatchStore whose first AppendBatch is held until a
// later one has committed, or for at most hold: without the ingest's turns
// the later group commits first.
type holdFirstStore struct {
	inner     plaintwm.BatchStore
	hold      time.Duration
	calls     atomic.Int64
	committed chan struct{} // closed when a later call returned
}

func (h *holdFirstStore) Append(ctx context.Context, ev domain.Event) (eventstore.Result, error) {
	return h.inner.Append(ctx, ev)
}

func (h *holdFirstStore) DeadLettered(ctx context.Context) error { return h.inner.DeadLettered(ctx) }

func (h *holdFirstStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	if h.calls.Add(1) == 1 {
		// A bounded hold, not a wait for work: with the turns no later
		// group reaches the store before this one queued.
		select {
		case <-h.committed:
		case <-time.After(h.hold):
		}
		return h.inner.AppendBatch(ctx, b)
	}
	res, err := h.inner.AppendBatch(ctx, b)
	select {
	case <-h.committed:
	default:
		close(h.committed)
	}
	return res, err
}

// TestBatchesAreStoredInStreamOrder holds the first group of a backlog in
// the store while the Router hands the next groups to other goroutines:
// the log still holds the messages in the stream's order (each event's
// stream sequence above the one before), which every node of a cluster
// relies on (the same log order on each, and as_of=stream:N).
func TestBatchesAreStoredInStreamOrder(t *testing.T) {
	e := newEnv(t)
	const n = 600
	for i := range n {
		e.publishEvent(complaint("crm", fmt.Sprint(i)))
	}
	store := &holdFirstStore{inner: e.com, hold: 2 * time.Second, committed: make(chan struct{})}
	e.start(plaintwm.Config{Store: store, Batch: 50})
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n) })
	if c := store.calls.Load(); c < 3 {
		t.Fatalf("%d groups: the test needs several", c)
	}
	err := e.log.View(func(s *eventstore.Snapshot) error {
		var prev uint64
		for seq := uint64(1); seq <= s.LastSeq(); seq++ {
			st, ok := s.StreamSeq(seq)
			if !ok {
				return fmt.Errorf("event %d has no stream sequence", seq)
			}
			if st <= prev {
				return fmt.Errorf("event %d is stream message %d, after stream message %d: the log is not in the stream's order", seq, st, prev)
			}
			prev = st
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

package eventstore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"github.com/plaint/plaint/domain"
)

// TestABatchQueuedBehindAFailedOneIsFenced queues three batches of one
// chain (one epoch), each in a transaction of its own, and fails the
// first one's transaction: the two behind it, queued already, are not
// stored (ErrFenced), where without their Epoch they would commit ahead of
// the failed one's retry. A batch of the old epoch is fenced at once; one
// of the new epoch is stored, and so is an append without an epoch.
func TestABatchQueuedBehindAFailedOneIsFenced(t *testing.T) {
	l := mustOpenLog(t, filepath.Join(t.TempDir(), "events.db"))
	defer l.Close()
	c := NewCommitter(l, WithMaxBatch(1))
	defer c.Close()
	evs := snapEvents("crm", 0, 5)
	epoch := c.Epoch()
	type outcome struct {
		id  string
		err error
	}
	out := make(chan outcome, 3)
	appendOne := func(i int, queued chan struct{}) {
		_, err := c.AppendBatch(context.Background(), Batch{Events: evs[i : i+1], Epoch: epoch, Queued: func() { close(queued) }})
		out <- outcome{evs[i].ID, err}
	}
	// The committer is held in the first transaction while the others
	// queue behind it.
	l.mu.Lock()
	q0, q1, q2 := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go appendOne(0, q0)
	<-q0
	go appendOne(1, q1)
	<-q1
	go appendOne(2, q2)  // waits for room in the queue (it holds one)
	l.closed.Store(true) // the first transaction fails
	l.mu.Unlock()
	got := map[string]error{}
	for range 3 {
		o := <-out
		got[o.id] = o.err
	}
	<-q2
	if !errors.Is(got["0"], ErrClosed) || !errors.Is(got["1"], ErrFenced) || !errors.Is(got["2"], ErrFenced) {
		t.Fatalf("outcomes %v: want the first failed, the others fenced", got)
	}
	l.closed.Store(false)
	if c.Epoch() == epoch {
		t.Fatal("the epoch did not move on with the failed transaction")
	}
	if _, err := c.AppendBatch(context.Background(), Batch{Events: evs[3:4], Epoch: epoch}); !errors.Is(err, ErrFenced) {
		t.Fatalf("a batch of the passed epoch: %v, want ErrFenced", err)
	}
	if _, err := c.AppendBatch(context.Background(), Batch{Events: evs[4:5], Epoch: c.Epoch()}); err != nil {
		t.Fatalf("a batch of the new epoch: %v", err)
	}
	if _, err := c.Append(context.Background(), evs[1]); err != nil {
		t.Fatalf("an append without an epoch: %v", err)
	}
	var ids []string
	if err := l.ReadFrom(1, func(_ uint64, ev domain.Event) error { ids = append(ids, ev.ID); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := []string{"4", "1"}; !slices.Equal(ids, want) {
		t.Fatalf("the log holds %v, want %v", ids, want)
	}
}

// TestABatchRejectedAsInvalidIsNotQueued rejects a batch holding an invalid
// event without calling its Queued (its caller keeps its place, to store
// the valid events there), and calls it for a valid batch and for one of a
// passed epoch (which never queues).
func TestABatchRejectedAsInvalidIsNotQueued(t *testing.T) {
	l := mustOpenLog(t, filepath.Join(t.TempDir(), "events.db"))
	defer l.Close()
	c := NewCommitter(l)
	defer c.Close()
	evs := snapEvents("crm", 0, 3)
	bad := slices.Clone(evs[:2])
	bad[1].Data.CustomerID = ""
	queued := 0
	count := func() { queued++ }
	if _, err := c.AppendBatch(context.Background(), Batch{Events: bad, Queued: count}); domain.ErrorCode(err) != domain.EINVALID || queued != 0 {
		t.Fatalf("an invalid batch: %v, Queued called %d times; want EINVALID and none", err, queued)
	}
	if _, err := c.AppendBatch(context.Background(), Batch{Events: evs[:2], Queued: count}); err != nil || queued != 1 {
		t.Fatalf("a valid batch: %v, Queued called %d times; want once", err, queued)
	}
	if _, err := c.AppendBatch(context.Background(), Batch{Events: evs[2:], Epoch: c.Epoch() + 1, Queued: count}); !errors.Is(err, ErrFenced) || queued != 2 {
		t.Fatalf("a fenced batch: %v, Queued called %d times; want ErrFenced and once more", err, queued)
	}
}

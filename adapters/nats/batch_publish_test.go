package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/adapters/nats/natstest"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// newBatchFixture is an embedded server with plaint's streams (the events
// stream taking fast batches, as EnsureStreams makes it).
func newBatchFixture(t *testing.T) *publishFixture {
	t.Helper()
	f := newPublishFixture(t, false)
	natstest.EnsureStreams(t, f.c, plaintnats.StreamConfig{})
	return f
}

// publishEvents publishes testEvent(i) for each i in ids.
func publishEvents(ctx context.Context, t *testing.T, p *plaintnats.BatchPublisher, ids ...[]int) {
	t.Helper()
	for _, part := range ids {
		for _, i := range part {
			ev := testEvent(i)
			if err := p.PublishEvent(ctx, &ev); err != nil {
				t.Fatalf("publish %d: %v", i, err)
			}
		}
	}
}

// span returns lo, lo+1, ..., hi-1.
func span(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// storedIDs returns how often each Nats-Msg-Id is in the events stream,
// checking that it holds want messages.
func (f *publishFixture) storedIDs(t *testing.T, want int) map[string]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if got := f.storedCount(t); got != uint64(want) {
		t.Fatalf("the stream holds %d messages, want %d", got, want)
	}
	cons, err := f.js.OrderedConsumer(ctx, plaintnats.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int{}
	for n := 0; n < want; {
		batch, err := cons.Fetch(min(want-n, 1000), jetstream.FetchMaxWait(10*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		for m := range batch.Messages() {
			ids[m.Headers().Get(jetstream.MsgIDHeader)]++
			n++
		}
		if batch.Error() != nil {
			t.Fatal(batch.Error())
		}
	}
	return ids
}

// checkOnce fails unless ids holds each of testEvent(0..n-1)'s ids once.
func checkOnce(t *testing.T, ids map[string]int, n int) {
	t.Helper()
	for i := range n {
		ev := testEvent(i)
		if c := ids[plaintnats.MsgID(&ev)]; c != 1 {
			t.Errorf("event %d is stored %d times", i, c)
		}
	}
	if len(ids) != n {
		t.Errorf("the stream holds %d distinct ids, want %d", len(ids), n)
	}
}

// TestBatchPublisherStoresAHistoryOnce: a history published in fast batches,
// with events repeated inside a batch and in later batches, arrives complete
// and each event once; nothing went through the per-message path (which
// would have reported the repeats as duplicates).
func TestBatchPublisherStoresAHistoryOnce(t *testing.T) {
	f := newBatchFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := f.c.NewBatchPublisher(ctx, plaintnats.BatchPublisherConfig{BatchSize: 1000, Flow: 100, MaxOutstandingAcks: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Batching() {
		t.Fatal("the events stream made by EnsureStreams does not take batches")
	}
	// Every tenth event comes again a few events later, mostly in the same
	// batch; the 200 events around the second batch's start come again
	// after the first 5000, the first of them starting the sixth batch.
	var history []int
	for i := range 5000 {
		history = append(history, i)
		if i%10 == 9 {
			history = append(history, i-4)
		}
	}
	publishEvents(ctx, t, p, history[:5000], span(900, 1100), history[5000:])
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 5700 || st.Acked != 5700 || st.Failed != 0 || st.Retries != 0 || st.Duplicates != 0 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
	if !p.Batching() {
		t.Error("batching was given up")
	}
	checkOnce(t, f.storedIDs(t, 5000), 5000)
}

// TestBatchPublisherResendsAFailedBatch: the server drops an open batch (its
// stream stops taking batches for a moment, which ends the batches in
// progress); the batch's events are re-sent one by one, those it had stored
// already are dropped as duplicates, and the history arrives complete and
// each event once.
func TestBatchPublisherResendsAFailedBatch(t *testing.T) {
	f := newBatchFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := f.c.NewBatchPublisher(ctx, plaintnats.BatchPublisherConfig{BatchSize: 1000, Linger: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	// 1000 committed, 500 stored in the open second batch.
	publishEvents(ctx, t, p, span(0, 1500))
	deadline := time.Now().Add(20 * time.Second)
	for f.storedCount(t) < 1500 {
		if time.Now().After(deadline) {
			t.Fatalf("the stream holds %d of the first 1500 events after 20s", f.storedCount(t))
		}
		time.Sleep(10 * time.Millisecond)
	}
	setBatches(ctx, t, f.js, false)
	setBatches(ctx, t, f.js, true)
	publishEvents(ctx, t, p, span(1500, 2000))
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 2000 || st.Acked != 2000 || st.Failed != 0 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
	// At least the open batch's 500 stored events were re-sent and dropped.
	if st.Retries < 500 || st.Duplicates < 500 {
		t.Errorf("retries %d, duplicates %d: the failed batch was not re-sent", st.Retries, st.Duplicates)
	}
	checkOnce(t, f.storedIDs(t, 2000), 2000)
}

// setBatches turns the events stream's AllowBatchPublish on or off.
func setBatches(ctx context.Context, t *testing.T, js jetstream.JetStream, on bool) {
	t.Helper()
	st, err := js.Stream(ctx, plaintnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	cfg := st.CachedInfo().Config
	cfg.AllowBatchPublish = on
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
}

// TestBatchPublisherWithoutBatchesPublishesEachMessage: on a stream that does
// not take batches every event goes through the per-message Publisher,
// whose acks report the repeats as duplicates.
func TestBatchPublisherWithoutBatchesPublishesEachMessage(t *testing.T) {
	f := newBatchFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	setBatches(ctx, t, f.js, false)
	p, err := f.c.NewBatchPublisher(ctx, plaintnats.BatchPublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Batching() {
		t.Fatal("batching on a stream that does not allow it")
	}
	publishEvents(ctx, t, p, span(0, 300), span(0, 30))
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != 330 || st.Acked != 330 || st.Duplicates != 30 || st.Failed != 0 {
		t.Errorf("stats = %+v", st)
	}
	checkOnce(t, f.storedIDs(t, 300), 300)
}

package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

// publishFixture is an embedded server, a client connection and a stream
// capturing plaint.events.>.
type publishFixture struct {
	c  *plaintnats.Client
	js jetstream.JetStream
}

func newPublishFixture(t *testing.T, withStream bool) *publishFixture {
	t.Helper()
	s := natstest.Server(t)
	_, js := natstest.Connect(t, s.ClientURL())
	f := &publishFixture{c: natstest.Client(t, s.ClientURL()), js: js}
	if withStream {
		f.createStream(t)
	}
	return f
}

func (f *publishFixture) createStream(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := f.js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: "PLAINT_EVENTS", Subjects: []string{"plaint.events.>"}, Storage: jetstream.FileStorage,
		Duplicates: 2 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *publishFixture) storedCount(t *testing.T) uint64 {
	t.Helper()
	return natstest.StreamMsgs(t, f.js, plaintnats.EventsStream)
}

func testEvent(i int) domain.Event {
	return domain.Event{
		ID: fmt.Sprintf("ev-%06d", i), Source: "test/publisher", Type: domain.TypeComplaintFiled,
		Time:   time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute),
		Schema: domain.CurrentSchema, Subject: "C-1",
		Data: domain.Data{CustomerID: "C-1", Category: "billing", Severity: 2},
	}
}

func publishN(t *testing.T, p *plaintnats.Publisher, n int) (plaintnats.PublishStats, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	for i := range n {
		ev := testEvent(i)
		if err := p.PublishEvent(ctx, &ev); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	return p.Wait(ctx)
}

func TestPublisherStoresEveryEvent(t *testing.T) {
	f := newPublishFixture(t, true)
	var calls atomic.Int64
	var last atomic.Value
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{
		Window: 256, ProgressEvery: time.Millisecond,
		Progress: func(s plaintnats.PublishStats) { calls.Add(1); last.Store(s) },
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	st, err := publishN(t, p, n)
	if err != nil {
		t.Fatal(err)
	}
	if st.Published != n || st.Acked != n || st.Failed != 0 || st.Duplicates != 0 || st.Pending != 0 {
		t.Fatalf("stats %+v, want %d published and acked", st, n)
	}
	if got := f.storedCount(t); got != n {
		t.Fatalf("stream holds %d messages, want %d", got, n)
	}
	if calls.Load() == 0 || last.Load().(plaintnats.PublishStats).Acked != n {
		t.Fatalf("progress not reported with final counts: %d calls, last %+v", calls.Load(), last.Load())
	}
}

// TestPublisherRetriesStalls publishes much faster than the server acks: the
// Publisher may hold only 2 messages awaiting their acks and a send stalls
// after a microsecond without room (an ack's round trip is far longer), so
// most sends fail with "stalled" at first. Every event must still be
// stored exactly once.
func TestPublisherRetriesStalls(t *testing.T) {
	f := newPublishFixture(t, true)
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{
		Window: 512, MaxPending: 2, StallWait: time.Microsecond,
		RetryBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond, MaxAttempts: 1000,
	})
	if err != nil {
		t.Fatal(err)
	}
	const n = 5000
	st, err := publishN(t, p, n)
	if err != nil {
		t.Fatal(err)
	}
	if st.Retries == 0 {
		t.Errorf("no stall was retried; the test did not exercise the stall path (stats %+v)", st)
	}
	if st.Acked != n || st.Failed != 0 {
		t.Fatalf("stats %+v, want %d acked and none failed", st, n)
	}
	if got := f.storedCount(t); got != n {
		t.Fatalf("stream holds %d messages, want %d", got, n)
	}
}

func TestPublisherCountsDuplicates(t *testing.T) {
	f := newPublishFixture(t, true)
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	ev := testEvent(1)
	for range 3 {
		if err := p.PublishEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Acked != 3 || st.Duplicates != 2 {
		t.Fatalf("stats %+v, want 3 acked of which 2 duplicates", st)
	}
	if got := f.storedCount(t); got != 1 {
		t.Fatalf("stream holds %d messages, want 1", got)
	}
}

func TestPublisherReportsEventsItCouldNotPublish(t *testing.T) {
	f := newPublishFixture(t, false) // no stream: nobody answers
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{
		MaxAttempts: 2, RetryBackoff: time.Millisecond, AckTimeout: 2 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := publishN(t, p, 7)
	var pe *plaintnats.PublishError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a *PublishError", err)
	}
	if pe.Failed != 7 || st.Failed != 7 || st.Acked != 0 {
		t.Fatalf("failed %d, stats %+v; want 7 failed", pe.Failed, st)
	}
	if want := "7 event(s) could not be published; first: test/publisher/ev-"; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not start with %q", err, want)
	}
}

// TestPublisherRetriesUntilTheStreamExists starts publishing before the
// stream exists (as when emit starts before serve has set up JetStream) and
// creates it once retries are seen: nothing is lost.
func TestPublisherRetriesUntilTheStreamExists(t *testing.T) {
	f := newPublishFixture(t, false)
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{
		MaxAttempts: 1000, RetryBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const n = 200
	for i := range n {
		ev := testEvent(i)
		if err := p.PublishEvent(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	for p.Stats().Retries == 0 {
		select {
		case <-ctx.Done():
			t.Fatal("no retry seen before the deadline")
		case <-time.After(5 * time.Millisecond):
		}
	}
	f.createStream(t)
	st, err := p.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Acked != n || f.storedCount(t) != n {
		t.Fatalf("stats %+v, stored %d; want %d", st, f.storedCount(t), n)
	}
}

func TestPublisherWaitHonoursContext(t *testing.T) {
	f := newPublishFixture(t, false)
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{MaxAttempts: 1000, RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ev := testEvent(1)
	if err := p.PublishEvent(context.Background(), &ev); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	st, err := p.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || st.Failed != 1 {
		t.Fatalf("err %v, stats %+v; want deadline exceeded and 1 failed", err, st)
	}
}

// TestPublisherKeepsEachMessageWhileTheCallerReusesItsBuffer publishes 3000
// events encoded one after the other into the same buffer, with a window of
// 8, so that many are in flight while the buffer is overwritten. The stream
// must hold each event once, with its own payload, in the order published.
func TestPublisherKeepsEachMessageWhileTheCallerReusesItsBuffer(t *testing.T) {
	f := newPublishFixture(t, true)
	p, err := f.c.NewPublisher(plaintnats.PublisherConfig{Window: 8})
	if err != nil {
		t.Fatal(err)
	}
	const n = 3000
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Second)
	defer cancel()
	var buf []byte
	for i := range n {
		ev := testEvent(i)
		buf = ev.AppendJSON(buf[:0])
		if err := p.Publish(ctx, ev.Type.Subject(), plaintnats.MsgID(&ev), buf); err != nil {
			t.Fatal(err)
		}
	}
	st, err := p.Wait(ctx)
	if err != nil || st.Acked != n || st.Duplicates != 0 || st.Retries != 0 {
		t.Fatalf("stats %+v, err %v; want %d acked once each", st, err, n)
	}
	cons, err := f.js.OrderedConsumer(ctx, plaintnats.EventsStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	it, err := cons.Messages()
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	if got := f.storedCount(t); got != n {
		t.Fatalf("stream holds %d messages, want %d", got, n)
	}
	for i := range n {
		msg, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		ev := testEvent(i)
		if want := ev.AppendJSON(nil); string(msg.Data()) != string(want) {
			t.Fatalf("message %d is\n%s\nwant\n%s", i+1, msg.Data(), want)
		}
		if id := msg.Headers().Get(jetstream.MsgIDHeader); id != plaintnats.MsgID(&ev) {
			t.Fatalf("message %d has Nats-Msg-Id %q, want %q", i+1, id, plaintnats.MsgID(&ev))
		}
	}
}

// TestPublisherTimesOutMessagesNobodyAcks publishes where a plain subscriber
// takes the messages and never answers (no stream, so no PubAck, and no
// "no responders" either): each send times out after AckTimeout, is sent
// once more, and then counts as failed, with the timeout as its reason.
func TestPublisherTimesOutMessagesNobodyAcks(t *testing.T) {
	s := natstest.Server(t)
	nc, _ := natstest.Connect(t, s.ClientURL())
	var got atomic.Int64
	sub, err := nc.Subscribe("plaint.events.>", func(*nats.Msg) { got.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Unsubscribe()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	c := natstest.Client(t, s.ClientURL())
	p, err := c.NewPublisher(plaintnats.PublisherConfig{MaxAttempts: 2, RetryBackoff: time.Millisecond, AckTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st, err := publishN(t, p, 20)
	var pe *plaintnats.PublishError
	if !errors.As(err, &pe) || pe.Failed != 20 || st.Acked != 0 || st.Retries != 20 {
		t.Fatalf("err %v, stats %+v; want 20 failed after one retry each", err, st)
	}
	if !strings.Contains(err.Error(), jetstream.ErrAsyncPublishTimeout.Error()) {
		t.Fatalf("error %q does not name the timeout", err)
	}
	// Each send reached the subscriber; its handler runs on its own time.
	testutil.WaitFor(t, 10*time.Second, "the subscriber to take 40 messages", func() bool { return got.Load() >= 40 })
	if n := got.Load(); n != 40 {
		t.Fatalf("the subscriber took %d messages, want 40 (two sends each)", n)
	}
}

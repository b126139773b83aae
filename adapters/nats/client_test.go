package nats_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

func TestClientFindsTheIngestConsumerAndWhatItHasPending(t *testing.T) {
	s := natstest.Server(t)
	c := natstest.Client(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.CheckEventsStream(ctx); !errors.Is(err, plaintnats.ErrNoStream) {
		t.Fatalf("CheckEventsStream without streams = %v, want ErrNoStream", err)
	}
	natstest.EnsureStreams(t, c, plaintnats.StreamConfig{})
	if err := c.CheckEventsStream(ctx); err != nil {
		t.Fatal(err)
	}
	_, js := natstest.Connect(t, s.ClientURL())
	for range 3 {
		if _, err := js.Publish(ctx, domain.TypeComplaintFiled.Subject(), []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := c.IngestConsumer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if info := cons.CachedInfo(); info.Stream != plaintnats.EventsStream || info.Name != plaintnats.DefaultConsumer {
		t.Fatalf("consumer %s on %s", info.Name, info.Stream)
	}
	// The server counts a stored message into a consumer's pending a
	// moment after it acknowledges the publish, so the count is awaited.
	testutil.WaitFor(t, 10*time.Second, "ConsumerPending to reach 3", func() bool {
		n, err := c.ConsumerPending(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		return n == 3
	})
	// Once reached, it stays: nothing reads the consumer.
	if n, err := c.ConsumerPending(ctx, ""); err != nil || n != 3 {
		t.Fatalf("ConsumerPending = %d, %v; want 3", n, err)
	}
	if _, err := c.IngestConsumer(ctx, "missing"); !errors.Is(err, jetstream.ErrConsumerNotFound) {
		t.Fatalf("IngestConsumer(missing) = %v, want ErrConsumerNotFound", err)
	}
	if err := c.Connected(); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Connected(); err == nil {
		t.Fatal("Connected after Close is nil")
	}
}

// TestDeadLettersKeepTheirTypeReasonAndOrigin: a dead letter goes to
// plaint.dlq.<event type>, with the reason, the error and the original
// subject in its headers; a large body is cut to fit, saying its size; the
// same stream message dead-lettered again (a redelivery) is stored once,
// the message at the same sequence of a stream made anew (stored at
// another time) is stored too, and DeadLetterOrigin finds the original
// from both.
func TestDeadLettersKeepTheirTypeReasonAndOrigin(t *testing.T) {
	s, c := natstest.ServerWithStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stored := time.Date(2026, 12, 4, 9, 0, 0, 123, time.UTC)
	publish := func(subject string, data []byte, seq uint64, stored time.Time, cause error) {
		t.Helper()
		f, err := c.PublishDeadLetter(ctx, subject, data, seq, stored, cause)
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-f.Ok():
		case err := <-f.Err():
			t.Fatal(err)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	missing := &domain.Error{Code: domain.EINVALID, Reason: domain.ReasonMissingField, Field: "data.customer_id", Message: "is required\nfor complaint.filed"}
	publish(domain.TypeComplaintFiled.Subject(), []byte(`{"id":"1"}`), 41, stored, missing)
	publish(domain.TypeComplaintFiled.Subject(), []byte(`{"id":"1"}`), 41, stored, missing) // a redelivery
	big := bytes.Repeat([]byte("a"), 1<<20)
	publish("elsewhere.thing", big, 0, time.Time{}, errors.New("too big"))
	publish(domain.TypeComplaintFiled.Subject(), []byte(`{"id":"2"}`), 41, stored.Add(time.Hour), missing) // a stream made anew
	publish(domain.TypeComplaintFiled.Subject(), []byte(`{"id":"3"}`), 43, time.Time{}, missing)           // the id of earlier versions
	letters, err := c.ListDeadLetters(ctx, plaintnats.DLQFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(letters) != 4 {
		t.Fatalf("%d dead letters, want 4 (the redelivery dropped, the new stream's kept): %+v", len(letters), letters)
	}
	first, second := letters[0], letters[1]
	if string(letters[2].Body) != `{"id":"2"}` {
		t.Fatalf("third dead letter %+v, want the new stream's message", letters[2])
	}
	if first.Reason != domain.ReasonMissingField || first.OriginalSubject != domain.TypeComplaintFiled.Subject() ||
		first.Error != "data.customer_id: is required for complaint.filed" || string(first.Body) != `{"id":"1"}` {
		t.Fatalf("first dead letter %+v", first)
	}
	if second.Reason != "invalid" || second.OriginalSubject != "elsewhere.thing" || second.Truncated != len(big) || second.Size >= len(big) {
		t.Fatalf("second dead letter: reason %q, subject %q, truncated %d, size %d", second.Reason, second.OriginalSubject, second.Truncated, second.Size)
	}
	_, js := natstest.Connect(t, s.ClientURL())
	st, err := js.Stream(ctx, plaintnats.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := st.GetMsg(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	if raw.Subject != "plaint.dlq.complaint.filed" {
		t.Fatalf("dead-lettered to %s", raw.Subject)
	}
	cons, err := js.OrderedConsumer(ctx, plaintnats.DLQStream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		t.Fatal(err)
	}
	// The dead letters in their order, with the origin each must give
	// (0: none) and the subject and message id they must have.
	want := []struct {
		origin         uint64
		subject, msgID string
	}{
		{41, "plaint.dlq.complaint.filed", "dlq:PLAINT_EVENTS:41:" + strconv.FormatInt(stored.UnixNano(), 10)},
		{0, "plaint.dlq.unknown", ""}, // a subject outside plaint.events., no stream sequence
		{41, "plaint.dlq.complaint.filed", "dlq:PLAINT_EVENTS:41:" + strconv.FormatInt(stored.Add(time.Hour).UnixNano(), 10)},
		{43, "plaint.dlq.complaint.filed", "dlq:PLAINT_EVENTS:43"}, // the form of earlier versions
	}
	for i, w := range want {
		m, err := cons.Next()
		if err != nil {
			t.Fatal(err)
		}
		seq, ok := plaintnats.DeadLetterOrigin(m)
		if id := m.Headers().Get(jetstream.MsgIDHeader); m.Subject() != w.subject || id != w.msgID || seq != w.origin || ok != (w.origin != 0) {
			t.Fatalf("dead letter %d: subject %s, id %q, DeadLetterOrigin %d, %v; want %+v", i, m.Subject(), id, seq, ok, w)
		}
	}
}

package watermill_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/delay"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
)

// newGroupSubscriber returns a Subscriber on the env's durable consumer,
// in batch mode when batch is above 1.
func (e *env) newGroupSubscriber(batch int) *plaintwm.Subscriber {
	e.t.Helper()
	cons := e.wire(plaintwm.Config{}).Consumer
	sub, err := plaintwm.NewSubscriber(plaintwm.SubscriberConfig{
		Consumer: func(context.Context, string) (jetstream.Consumer, error) { return cons, nil },
		Flush:    e.client.Flush, Batch: batch, BatchWait: 200 * time.Millisecond, NakDelay: time.Hour,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { sub.Close() })
	return sub
}

// TestBatchModeMessagesHoldTheirGroup: a Watermill message in batch mode
// holds its JetStream messages in its payload and says what it holds in its
// metadata; a nack redelivers them with the delay Watermill's delay package
// set, and their delivery count says so.
func TestBatchModeMessagesHoldTheirGroup(t *testing.T) {
	e := newEnv(t)
	const n = 40
	for i := range n {
		e.publish(fmt.Sprintf("plaint.events.test.%d", i%3), []byte(fmt.Sprintf(`{"n":%d}`, i)))
	}
	sub := e.newGroupSubscriber(64)
	msgs, err := sub.Subscribe(context.Background(), "ingest")
	if err != nil {
		t.Fatal(err)
	}
	read := func() *message.Message {
		t.Helper()
		select {
		case m := <-msgs:
			return m
		case <-time.After(20 * time.Second):
			t.Fatal("no message")
			return nil
		}
	}
	msg := read()
	md := msg.Metadata
	if md.Get(plaintwm.MetaContentType) != plaintwm.GroupContentType || md.Get(plaintwm.MetaStream) != plaintnats.EventsStream ||
		md.Get(plaintwm.MetaConsumer) != plaintnats.DefaultConsumer || md.Get(plaintwm.MetaStreamSeqFirst) != "1" {
		t.Fatalf("metadata %v", md)
	}
	g, err := plaintwm.ReadGroup(msg)
	if err != nil {
		t.Fatal(err)
	}
	if md.Get(plaintwm.MetaStreamSeqLast) != strconv.Itoa(g.Len()) || md.Get(plaintwm.MetaBatch) != strconv.Itoa(g.Len()) {
		t.Fatalf("metadata %v for %d frames", md, g.Len())
	}
	i := 0
	for f, err := range g.Frames() {
		if err != nil {
			t.Fatal(err)
		}
		if f.Subject != fmt.Sprintf("plaint.events.test.%d", i%3) || string(f.Data) != fmt.Sprintf(`{"n":%d}`, i) ||
			f.StreamSeq != uint64(i+1) || f.Delivered != 1 || time.Since(f.Timestamp) > time.Minute {
			t.Fatalf("frame %d = %+v %s", i, f, f.Data)
		}
		i++
	}
	// A nack with Watermill's delay metadata: the group comes back after it.
	delay.Message(msg, delay.For(10*time.Millisecond))
	msg.Nack()
	var again *message.Message
	for again == nil {
		m := read()
		if m.Metadata.Get(plaintwm.MetaStreamSeqFirst) == "1" {
			again = m
			continue
		}
		m.Ack()
	}
	g, _ = plaintwm.ReadGroup(again)
	for f, err := range g.Frames() {
		if err != nil || f.Delivered != 2 {
			t.Fatalf("redelivered frame %+v (%v); want delivered twice", f, err)
		}
	}
	if again.UUID == msg.UUID {
		t.Fatalf("the redelivered group has the UUID of the first delivery (%s)", msg.UUID)
	}
	again.Ack()
	select {
	case <-again.Context().Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the context of an acked message was not cancelled")
	}
}

// TestPerMessageModeMetadataNamesTheStreamMessage: a Watermill message in
// per-message mode carries its JetStream message's data and names it in
// its metadata: subject, stream, consumer, sequence, delivery count and
// when the stream stored it (what counts its dead letter once).
func TestPerMessageModeMetadataNamesTheStreamMessage(t *testing.T) {
	e := newEnv(t)
	before := time.Now()
	e.publish("plaint.events.test.0", []byte(`{"n":0}`))
	sub := e.newGroupSubscriber(1)
	msgs, err := sub.Subscribe(context.Background(), "ingest")
	if err != nil {
		t.Fatal(err)
	}
	var msg *message.Message
	select {
	case msg = <-msgs:
	case <-time.After(20 * time.Second):
		t.Fatal("no message")
	}
	defer msg.Ack()
	md := msg.Metadata
	ts, err := strconv.ParseInt(md.Get(plaintwm.MetaTimestamp), 10, 64)
	if err != nil || time.Unix(0, ts).Before(before.Add(-time.Second)) || time.Unix(0, ts).After(time.Now()) {
		t.Fatalf("timestamp %q (%v): want the time the stream stored the message", md.Get(plaintwm.MetaTimestamp), err)
	}
	if string(msg.Payload) != `{"n":0}` || md.Get(plaintwm.MetaSubject) != "plaint.events.test.0" || md.Get(plaintwm.MetaStream) != plaintnats.EventsStream ||
		md.Get(plaintwm.MetaConsumer) != plaintnats.DefaultConsumer || md.Get(plaintwm.MetaStreamSeq) != "1" || md.Get(plaintwm.MetaDelivered) != "1" {
		t.Fatalf("payload %s, metadata %v", msg.Payload, md)
	}
}

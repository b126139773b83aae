package nats_test

import (
	"context"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

func TestEnsureStreamsIsIdempotentAndApplies(t *testing.T) {
	s := natstest.Server(t)
	_, js := natstest.Connect(t, s.ClientURL())
	client := natstest.Client(t, s.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := client.EnsureStreams(ctx, plaintnats.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	// Publish, then ensure again with another MaxAge: nothing is lost.
	if _, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	if err := client.EnsureStreams(ctx, plaintnats.StreamConfig{MaxAge: 7 * 24 * time.Hour}); err != nil {
		t.Fatalf("second EnsureStreams: %v", err)
	}
	st, err := js.Stream(ctx, plaintnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c := info.Config
	if c.Storage != jetstream.FileStorage || c.Retention != jetstream.LimitsPolicy ||
		c.MaxAge != 7*24*time.Hour || c.Duplicates != 2*time.Minute || c.Replicas != 1 ||
		len(c.Subjects) != 1 || c.Subjects[0] != "plaint.events.>" {
		t.Errorf("events stream config = %+v", c)
	}
	if info.State.Msgs != 1 {
		t.Errorf("events stream holds %d messages after the update, want 1", info.State.Msgs)
	}
	dlq, err := js.Stream(ctx, plaintnats.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	if dc := dlq.CachedInfo().Config; dc.Storage != jetstream.FileStorage || dc.Subjects[0] != "plaint.dlq.>" {
		t.Errorf("dlq stream config = %+v", dc)
	}
	cons, err := js.Consumer(ctx, plaintnats.EventsStream, plaintnats.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	cc := cons.CachedInfo().Config
	if cc.Durable != "plaint" || cc.AckPolicy != jetstream.AckExplicitPolicy || cc.MaxDeliver != -1 ||
		cc.AckWait != 30*time.Second || cc.MaxAckPending != 65536 {
		t.Errorf("consumer config = %+v", cc)
	}
}

// TestEnsureStreamsLetsAnOlderStreamTakeBatches: an events stream made
// before fast batches (AllowBatchPublish off) gains it when EnsureStreams
// runs again, keeping its messages.
func TestEnsureStreamsLetsAnOlderStreamTakeBatches(t *testing.T) {
	f := newPublishFixture(t, false)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	old := plaintnats.EventsStreamConfig(plaintnats.StreamConfig{})
	old.AllowBatchPublish = false
	if _, err := f.js.CreateStream(ctx, old); err != nil {
		t.Fatal(err)
	}
	if _, err := f.js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	natstest.EnsureStreams(t, f.c, plaintnats.StreamConfig{})
	st, err := f.js.Stream(ctx, plaintnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	if !st.CachedInfo().Config.AllowBatchPublish {
		t.Error("the older stream does not take batches after EnsureStreams")
	}
	if n := st.CachedInfo().State.Msgs; n != 1 {
		t.Errorf("the stream holds %d messages after the update, want 1", n)
	}
}

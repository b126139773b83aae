package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/testutil"
)

// TestClusterStepDownAndReconnectLeaveTheConsumerServing checks the effect
// of the two rungs of the ingest's healing ladder that this package climbs,
// on a 3-server cluster with the R3 consumer: StepDownConsumer moves the
// consumer's leadership to another server, and the consumer then delivers
// what it holds, from its first message; Reconnect moves the connection to
// another server, and the consumer delivers the rest there.
func TestClusterStepDownAndReconnectLeaveTheConsumerServing(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	c.WaitReady()
	client := natstest.Client(t, c.URL(0))
	natstest.EnsureStreams(t, client, plaintnats.StreamConfig{Replicas: 3})
	_, js := natstest.Connect(t, c.URLs())
	for i := range 20 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := js.Publish(ctx, "plaint.events.complaint.filed", fmt.Appendf(nil, `{"n":%d}`, i))
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	var leader int
	testutil.WaitFor(t, natstest.ClusterReadyTimeout, "a consumer leader", func() bool {
		leader = c.ConsumerLeader(plaintnats.EventsStream, plaintnats.DefaultConsumer)
		return leader >= 0
	})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := client.StepDownConsumer(ctx, ""); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, natstest.ClusterReadyTimeout, "another consumer leader", func() bool {
		now := c.ConsumerLeader(plaintnats.EventsStream, plaintnats.DefaultConsumer)
		return now >= 0 && now != leader
	})
	fetch := func(want uint64) {
		t.Helper()
		testutil.WaitFor(t, natstest.ClusterReadyTimeout, fmt.Sprintf("delivery %d", want), func() bool {
			cons, err := client.IngestConsumer(ctx, "")
			if err != nil {
				return false
			}
			b, err := cons.Fetch(1, jetstream.FetchMaxWait(2*time.Second))
			if err != nil {
				return false
			}
			m, ok := <-b.Messages()
			if !ok {
				return false
			}
			md, err := m.Metadata()
			if err != nil {
				t.Fatal(err)
			}
			if md.Sequence.Consumer != want || md.Sequence.Stream != want {
				t.Fatalf("delivery %+v, want consumer and stream sequence %d", md.Sequence, want)
			}
			if err := m.DoubleAck(ctx); err != nil {
				t.Fatal(err)
			}
			return true
		})
	}
	fetch(1)

	if err := client.Reconnect(); err != nil {
		t.Fatal(err)
	}
	testutil.WaitFor(t, 30*time.Second, "the connection on another server", func() bool {
		return client.Connected() == nil && client.ConnectedURL() != c.URL(0)
	})
	fetch(2)
}

// TestStepDownConsumerWithoutReplicasIsRefused: on a single server the
// consumer has no replicas to lead it, and the step-down says so.
func TestStepDownConsumerWithoutReplicasIsRefused(t *testing.T) {
	_, client := natstest.ServerWithStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := client.StepDownConsumer(ctx, "")
	if !errors.Is(err, plaintnats.ErrStepDown) {
		t.Fatalf("step-down on a single server: %v, want ErrStepDown", err)
	}
	t.Logf("refused: %v", err)
}

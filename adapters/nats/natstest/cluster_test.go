package natstest_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
)

// TestClusterSurvivesTheLossOfTheStreamLeader starts a 3-server cluster,
// creates plaint's streams with 3 replicas, kills the server leading
// PLAINT_EVENTS between two batches of publishes and restarts it: every
// acknowledged message is in the stream, on a new leader, and the restarted
// server rejoins.
func TestClusterSurvivesTheLossOfTheStreamLeader(t *testing.T) {
	c := natstest.StartCluster(t, 3)
	c.WaitReady()
	client := natstest.Client(t, c.URLs())
	natstest.EnsureStreams(t, client, plaintnats.StreamConfig{Replicas: 3})
	_, js := natstest.Connect(t, c.URLs())

	publish := func(from, to int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), natstest.ClusterReadyTimeout)
		defer cancel()
		for i := from; i < to; i++ {
			// A publish during an election gets no answer: retried, as
			// plaint's publisher does, and deduplicated by its id.
			for {
				_, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{}`), jetstream.WithMsgID(fmt.Sprintf("m-%d", i)))
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
		}
	}
	publish(0, 100)
	leader := c.WaitStreamLeader(plaintnats.EventsStream)
	c.Kill(leader)
	if got := c.WaitStreamLeader(plaintnats.EventsStream); got == leader {
		t.Fatalf("the killed server %d still leads", leader)
	}
	publish(100, 200)
	if n := natstest.StreamMsgs(t, js, plaintnats.EventsStream); n != 200 {
		t.Errorf("stream holds %d messages, want 200", n)
	}
	c.Restart(leader)
	c.WaitReady()
	start := time.Now()
	for natstest.StreamMsgs(t, js, plaintnats.EventsStream) != 200 && time.Since(start) < natstest.ClusterReadyTimeout {
		time.Sleep(50 * time.Millisecond) // polling a condition
	}
	if n := natstest.StreamMsgs(t, js, plaintnats.EventsStream); n != 200 {
		t.Errorf("stream holds %d messages after the restart, want 200", n)
	}
}

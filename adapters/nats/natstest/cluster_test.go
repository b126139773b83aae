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
		deadline := time.Now().Add(natstest.ClusterReadyTimeout)
		for i := from; i < to; i++ {
			// A publish during an election, or one sent to the killed
			// server just before it died, gets no answer: each attempt
			// waits a few seconds, not the whole deadline, and is retried,
			// as plaint's publisher does, deduplicated by its id.
			for {
				err := publishOnce(js, fmt.Sprintf("m-%d", i))
				if err == nil {
					break
				}
				if time.Now().After(deadline) {
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

// publishOnce publishes one message with id and waits at most 3 seconds for
// the stream's acknowledgement.
func publishOnce(js jetstream.JetStream, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{}`), jetstream.WithMsgID(id))
	return err
}

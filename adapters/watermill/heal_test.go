package watermill_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

// TestPullsNobodyAnswersAreHealedByTheLadder forces what a node of a
// 100,586-event TestClusterFailover run lived through for 4.5 minutes: a
// consumer that exists (on a 3-server cluster, R3) and answers its info,
// and pulls of which none is served, no message and no heartbeat. The
// server the ingest's connection is on delivers its pulls nowhere
// (natstest.Cluster.BlackHole), as a server whose routes lost the
// consumer leader's interest would. Without the ladder's step-down and
// reconnect the ingest stores nothing however long it pulls; with them it
// inspects, asks the leader to step down (which does not help here), then
// reconnects to another server, and stores every event, in the stream's
// order.
func TestPullsNobodyAnswersAreHealedByTheLadder(t *testing.T) {
	const events = 300
	c := natstest.StartCluster(t, 3)
	c.WaitReady()
	client := natstest.Client(t, c.URL(0))
	natstest.EnsureStreams(t, client, plaintnats.StreamConfig{Replicas: 3})
	_, js := natstest.Connect(t, c.URLs())
	for i := range events {
		ev := complaint("heal", fmt.Sprintf("e-%d", i))
		publishRetrying(t, js, ev.Type.Subject(), payload(t, ev))
	}
	on := serverOf(t, c, client)
	c.BlackHole(on, fmt.Sprintf("$JS.API.CONSUMER.MSG.NEXT.%s.%s", plaintnats.EventsStream, plaintnats.DefaultConsumer))

	l, err := eventstore.Open(filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	com := eventstore.NewCommitter(l)
	t.Cleanup(func() {
		com.Close()
		if err := l.Close(); err != nil {
			t.Error(err)
		}
	})
	logs := &testutil.Buffer{}
	start := func(heal plaintwm.Healing) (*plaintwm.Ingest, <-chan error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cons, err := client.IngestConsumer(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		in, err := plaintwm.New(plaintwm.Config{
			Consumer: cons, DeadLetter: client.PublishDeadLetter, Flush: client.Flush, Store: com,
			Rewind: func(ctx context.Context) error { return client.ResetConsumer(ctx, "") },
			Heal:   heal,
			Logger: slog.New(slog.NewTextHandler(logs, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { errc <- in.Run(context.Background()) }()
		select {
		case <-in.Running():
		case err := <-errc:
			t.Fatalf("Run returned before running: %v", err)
		}
		return in, errc
	}
	stop := func(in *plaintwm.Ingest, errc <-chan error) {
		t.Helper()
		if err := in.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-errc; err != nil {
			t.Errorf("Run: %v", err)
		}
	}

	// Without the step-down and the reconnect: misses, nothing stored.
	var missed atomic.Int64
	in, errc := start(plaintwm.Healing{Every: 1, Missed: func() { missed.Add(1) }})
	testutil.WaitFor(t, 60*time.Second, "four missed heartbeats", func() bool { return missed.Load() >= 4 })
	if n := l.LastSeq(); n != 0 {
		t.Fatalf("the pulls were answered (%d events stored): the black hole forced nothing", n)
	}
	stop(in, errc)

	// With them.
	var mu sync.Mutex
	var steps []string
	storedAt := map[string]uint64{}
	heal := plaintwm.Healing{
		Every:     1,
		StepDown:  func(ctx context.Context) error { return client.StepDownConsumer(ctx, "") },
		Reconnect: client.Reconnect,
		Server:    client.ConnectedURL,
		Step: func(step string) {
			mu.Lock()
			defer mu.Unlock()
			steps = append(steps, step)
			if _, ok := storedAt[step]; !ok {
				storedAt[step] = l.LastSeq()
			}
		},
	}
	leader := c.ConsumerLeader(plaintnats.EventsStream, plaintnats.DefaultConsumer)
	in, errc = start(heal)
	defer stop(in, errc)
	testutil.WaitFor(t, 90*time.Second, fmt.Sprintf("%d events stored", events), func() bool { return l.LastSeq() == events })
	mu.Lock()
	t.Logf("rungs climbed: %v; events stored when each was first climbed: %v; consumer leader was server %d, is %d; connected to %s (was server %d)",
		steps, storedAt, leader, c.ConsumerLeader(plaintnats.EventsStream, plaintnats.DefaultConsumer), client.ConnectedURL(), on)
	if want := []string{plaintwm.HealInspect, plaintwm.HealStepDown, plaintwm.HealReconnect}; len(steps) < 3 || !slices.Equal(steps[:3], want) {
		t.Errorf("rungs %v, want %v first", steps, want)
	}
	if n, ok := storedAt[plaintwm.HealReconnect]; !ok || n != 0 {
		t.Errorf("%d events were stored before the reconnect (or it never came): the pulls were not stuck", n)
	}
	mu.Unlock()
	if got := serverOf(t, c, client); got == on {
		t.Errorf("the connection is still on server %d, where the pulls go nowhere", on)
	}
	// Every event once, in the stream's order.
	checkStreamOrder(t, l)
	// The inspect rung said where the consumer stood.
	var inspected string
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "the consumer as the server sees it") {
			inspected = line
			break
		}
	}
	t.Logf("the inspect rung: %s", inspected)
	for _, want := range []string{"leader=S-", "replicas=", "num_waiting=", "num_pending=", "step=inspect", "misses=1"} {
		if !strings.Contains(inspected, want) {
			t.Errorf("the inspect rung's line %q lacks %s", inspected, want)
		}
	}
}

// serverOf returns the index of the cluster's server the client is
// connected to.
func serverOf(t *testing.T, c *natstest.Cluster, client *plaintnats.Client) int {
	t.Helper()
	for i := range c.Size() {
		if client.ConnectedURL() == c.URL(i) {
			return i
		}
	}
	t.Fatalf("the client is connected to %s, none of the cluster's servers", client.ConnectedURL())
	return -1
}

// publishRetrying publishes to a cluster, trying again while it elects
// its leaders (each try waits 3 s at most).
func publishRetrying(t *testing.T, js jetstream.JetStream, subject string, data []byte) {
	t.Helper()
	deadline := time.Now().Add(natstest.ClusterReadyTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := js.Publish(ctx, subject, data)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("publish to %s: %v", subject, err)
		}
	}
}

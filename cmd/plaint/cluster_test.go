package main

import (
	"context"
	"strings"
	"testing"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
)

// clusterStart bounds how long a plaint node on the test cluster may take
// to come up: a cluster started with it elects its meta leader first
// (production Raft timeouts, 4 to 9 s per election).
const clusterStart = 3 * natstest.ClusterReadyTimeout

// TestClusterConcurrentStartOfTwoNodes starts a 3-server NATS cluster and,
// at the same moment, two plaint nodes with --replicas 3 on it (what
// compose, systemd or Kubernetes do): both wait for JetStream, create or
// find the R3 streams and their consumers, and become ready; neither exits.
func TestClusterConcurrentStartOfTwoNodes(t *testing.T) {
	// The nodes start first, before the cluster's servers listen: they
	// wait for it, then for its meta leader.
	c := natstest.NewCluster(t, 3)
	var nodes [2]*server
	for i := range nodes {
		nodes[i] = spawnServer(t, t.TempDir(), "--nats-url", c.URLs(), "--replicas", "3", "--consumer", []string{"node1", "node2"}[i])
	}
	c.StartAll()
	for _, n := range nodes {
		n.await(clusterStart, clusterStart)
	}
	for i, n := range nodes {
		if n.cmd.ProcessState != nil {
			t.Fatalf("node %d exited", i+1)
		}
		if !strings.Contains(n.output(), "waiting for NATS") {
			t.Errorf("node %d started before the cluster and logged no wait:\n%s", i+1, n.output())
		}
	}
	_, js := natstest.Connect(t, c.URLs())
	for _, name := range []string{plaintnats.EventsStream, plaintnats.DLQStream} {
		st, err := js.Stream(context.Background(), name)
		if err != nil {
			t.Fatal(err)
		}
		if r := st.CachedInfo().Config.Replicas; r != 3 {
			t.Errorf("stream %s has %d replicas, want 3", name, r)
		}
	}
}

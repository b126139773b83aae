package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

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

// TestClusterNodeIDAndConsumerLease runs a node with --node-id alpha: the
// id names its consumer and shows in /healthz, /v1/stats and its log lines.
// A second live node with the same id is refused with exit code 4 and says
// why; the first node, SIGKILLed and restarted on its data directory,
// takes its own lease over at once instead of waiting for it to expire.
func TestClusterNodeIDAndConsumerLease(t *testing.T) {
	ns := natstest.Server(t)
	data := t.TempDir()
	a := startServer(t, data, "--nats-url", ns.ClientURL(), "--node-id", "alpha")
	var health struct {
		NodeID string `json:"node_id"`
	}
	healthJSON(t, a.http+"/healthz", &health)
	if health.NodeID != "alpha" {
		t.Errorf("/healthz node_id = %q, want alpha", health.NodeID)
	}
	st, err := a.stats()
	if err != nil {
		t.Fatal(err)
	}
	node, _ := st["node"].(map[string]any)
	if st["node_id"] != "alpha" || node["consumer"] != "alpha" {
		t.Errorf("/v1/stats node_id = %v, node = %v; want alpha and consumer alpha", st["node_id"], node)
	}
	if _, ok := node["lag"]; !ok {
		t.Errorf("/v1/stats node has no lag: %v", node)
	}
	if !strings.Contains(a.output(), "node=alpha") {
		t.Errorf("log lines do not name the node:\n%s", a.output())
	}
	client := natstest.Client(t, ns.ClientURL())
	if _, err := client.IngestConsumer(context.Background(), "alpha"); err != nil {
		t.Errorf("no consumer named after the node: %v", err)
	}

	cmd := exec.Command(plaintBin, "serve", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--nats-url", ns.ClientURL(), "--node-id", "alpha")
	out, err := runWithin(t, cmd, 2*time.Minute)
	if code := exitCodeOfRun(err); code != 4 || !strings.Contains(string(out), "holds the consumer") || !strings.Contains(string(out), "--node-id") {
		t.Errorf("a second node alpha: exit %d, want 4 saying another node holds the consumer:\n%s", code, out)
	}

	a.kill()
	started := time.Now()
	a = startServer(t, data, "--nats-url", ns.ClientURL(), "--node-id", "alpha")
	if strings.Contains(a.output(), "waiting one lease TTL") {
		t.Errorf("the restarted node waited for its own lease:\n%s", a.output())
	}
	if d := time.Since(started); d > leaseTTL {
		t.Errorf("the restart took %s, more than the lease TTL %s", d, leaseTTL)
	}
}

// healthJSON decodes the JSON answer of a GET of url into v.
func healthJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

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
	// The cluster starts only once both nodes are waiting for it: on a busy
	// machine a node's process can take longer to start than the cluster.
	for i, n := range nodes {
		waitFor(t, clusterStart, fmt.Sprintf("node %d to wait for NATS", i+1), func() bool {
			return strings.Contains(n.output(), "waiting for NATS")
		})
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
	for _, name := range []string{plaintnats.EventsStream, plaintnats.DLQStream, "KV_" + plaintnats.NodesBucket} {
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

// clusterEvents is the number of events TestClusterFailover publishes:
// PLAINT_CLUSTER_EVENTS (make test-cluster CLUSTER_EVENTS=100000 for the
// issue's full figure), else a shortened run that keeps CI in its budget.
func clusterEvents(t *testing.T) int {
	if s := os.Getenv("PLAINT_CLUSTER_EVENTS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 30 {
			t.Fatalf("PLAINT_CLUSTER_EVENTS=%q: want a number of events, at least 30", s)
		}
		return n
	}
	return 30_000
}

// trendsOf returns a node's month-by-category trend answer, byte for byte.
func trendsOf(t *testing.T, n *server) []byte {
	t.Helper()
	resp, err := http.Get(n.http + "/v1/trends?by=category&from=2025-01&to=2025-12&format=json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("trends of %s: %d %v\n%s", n.http, resp.StatusCode, err, b)
	}
	return b
}

// waitEvents waits until the node's log holds want events.
func waitEvents(t *testing.T, n *server, want uint64) {
	t.Helper()
	waitFor(t, 5*time.Minute, fmt.Sprintf("%s to hold %d events", n.http, want), func() bool { return n.statUint("events") >= want })
}

// TestClusterFailover publishes events to a 3-server R3 cluster read by two
// plaint nodes and, mid-load, kills the server leading PLAINT_EVENTS and
// SIGKILLs one node, then restarts both. Every acknowledged event ends in
// each node's log exactly once (the count is the published set, which the
// log's (source, id) index keeps unique) and the nodes' trend answers are
// byte-identical. A third node started after the load catches up from the
// stream; a fourth, once the stream no longer holds the oldest events (as
// with retention shorter than the history), catches up from the first
// node's `plaint backup` plus the stream, as the README's procedure says;
// both answer identically.
func TestClusterFailover(t *testing.T) {
	total := clusterEvents(t)
	c := natstest.StartCluster(t, 3)
	c.WaitReady()
	args := func(id string) []string {
		return []string{"--nats-url", c.URLs(), "--replicas", "3", "--node-id", id}
	}
	d2 := t.TempDir()
	n1 := spawnServer(t, t.TempDir(), args("node1")...)
	n2 := spawnServer(t, d2, args("node2")...)
	n1.await(clusterStart, clusterStart)
	n2.await(clusterStart, clusterStart)

	_, pub := patientPublisher(t, c.URLs())
	var sent atomic.Int64
	pubErr := make(chan error, 1)
	go func() {
		for i := range total {
			ev := crashEvent(i)
			if err := pub.PublishEvent(context.Background(), &ev); err != nil {
				pubErr <- err
				return
			}
			sent.Store(int64(i + 1))
		}
		_, err := pub.Wait(context.Background())
		pubErr <- err
	}()

	waitFor(t, 5*time.Minute, "a third of the events sent", func() bool { return sent.Load() >= int64(total/3) })
	leader := c.WaitStreamLeader(plaintnats.EventsStream)
	c.Kill(leader)
	n2.kill()
	t.Logf("killed NATS server %d (the stream leader) and node2 after %d events sent", leader+1, sent.Load())
	waitFor(t, 5*time.Minute, "two thirds of the events sent", func() bool { return sent.Load() >= int64(2*total/3) })
	c.Restart(leader)
	n2 = spawnServer(t, d2, args("node2")...)
	n2.await(clusterStart, clusterStart)
	select {
	case err := <-pubErr:
		if err != nil {
			t.Fatalf("publishing: %v", err)
		}
	case <-time.After(5 * time.Minute):
		t.Fatal("the publisher did not finish in 5 minutes")
	}

	nodes := []*server{n1, n2}
	for _, n := range nodes {
		waitEvents(t, n, uint64(total))
	}
	// A node started after the load catches up from the stream.
	n3 := startServer(t, t.TempDir(), args("node3")...)
	waitEvents(t, n3, uint64(total))
	nodes = append(nodes, n3)

	// Retention shorter than the history: the stream loses its first half.
	// A new node restored from node1's backup gets the rest from the stream.
	_, js := natstest.Connect(t, c.URLs())
	st, err := js.Stream(context.Background(), plaintnats.EventsStream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(t.TempDir(), "node1.db")
	if code, out, errOut := runMain(t, "--server", n1.http, "backup", "--out", backup); code != 0 {
		t.Fatalf("plaint backup from node1: exit %d\n%s%s", code, out, errOut)
	}
	if err := st.Purge(context.Background(), jetstream.WithPurgeSequence(info.State.FirstSeq+info.State.Msgs/2)); err != nil {
		t.Fatal(err)
	}
	d4 := t.TempDir()
	if err := os.Rename(backup, filepath.Join(d4, logFile)); err != nil {
		t.Fatal(err)
	}
	n4 := startServer(t, d4, args("node4")...)
	waitEvents(t, n4, uint64(total))
	nodes = append(nodes, n4)

	want := trendsOf(t, n1)
	for i, n := range nodes {
		if got := n.statUint("events"); got != uint64(total) {
			t.Errorf("node%d holds %d events, want exactly the %d published", i+1, got, total)
		}
		if got := trendsOf(t, n); !bytes.Equal(got, want) {
			t.Errorf("node%d's trends differ from node1's:\n%s\nnode1:\n%s", i+1, got, want)
		}
	}
}

// TestServeStoppedWhileWaitingForNATSExitsCleanly sends SIGTERM to a node
// that still waits for its NATS servers (none listens yet): that is a stop
// asked for, so serve says so and exits 0, not 1 with "context canceled".
func TestServeStoppedWhileWaitingForNATSExitsCleanly(t *testing.T) {
	s := spawnServer(t, t.TempDir(), "--nats-url", "nats://"+freePort(t))
	waitFor(t, clusterStart, "serve to wait for NATS", func() bool { return strings.Contains(s.output(), "waiting for NATS") })
	s.term()
	if !strings.Contains(s.output(), "stopped before it was ready") {
		t.Fatalf("serve did not say it stopped while waiting:\n%s", s.output())
	}
}

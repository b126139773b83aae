package main

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/benchenv"
)

// BenchmarkClusterDrain is issue 13's figures. PLAINT_BENCH_EVENTS events
// (default 100k; 1M for BENCHMARKS.md) are published into PLAINT_EVENTS
// before any plaint node reads it, then drained:
//   - single: one plaint node on one NATS server (R1), both as the cluster
//     phase runs them (the servers in the test process, plaint a subprocess);
//   - cluster: two plaint nodes started together on a 3-server cluster with
//     R3 streams (drain_events/s counts each node's events: both hold all);
//   - catchup: a third node started on the cluster afterwards;
//   - failover: while the two nodes ingest a new batch as it is published,
//     the server leading PLAINT_EVENTS is killed: the longest pause of
//     node1's ingest, of the publisher's acknowledgements, and the slowest
//     /v1/trends answer of node1 meanwhile.
func BenchmarkClusterDrain(b *testing.B) {
	events := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 100_000)
	for i := 0; i < b.N; i++ {
		// Single node, R1.
		ns := natstest.Server(b)
		single := natstest.Client(b, ns.ClientURL())
		natstest.EnsureStreams(b, single, plaintnats.StreamConfig{})
		publishCrashEvents(b, single, 0, events)
		start := time.Now()
		n0 := spawnServer(b, b.TempDir(), "--nats-url", ns.ClientURL(), "--node-id", "single", "--ready-lag", "0")
		n0.await(clusterStart, clusterStart)
		holdAll(b, n0, events)
		b.ReportMetric(float64(events)/time.Since(start).Seconds(), "single_drain_events/s")
		n0.term()
		ns.Shutdown()

		// Two nodes on a 3-server R3 cluster.
		c := natstest.StartCluster(b, 3)
		c.WaitReady()
		client := natstest.Client(b, c.URLs())
		natstest.EnsureStreams(b, client, plaintnats.StreamConfig{Replicas: 3})
		pubStart := time.Now()
		publishCrashEvents(b, client, 0, events)
		b.ReportMetric(float64(events)/time.Since(pubStart).Seconds(), "r3_publish_events/s")
		args := func(id string) []string {
			return []string{"--nats-url", c.URLs(), "--replicas", "3", "--node-id", id, "--ready-lag", "0"}
		}
		start = time.Now()
		n1 := spawnServer(b, b.TempDir(), args("node1")...)
		n2 := spawnServer(b, b.TempDir(), args("node2")...)
		n1.await(clusterStart, clusterStart)
		n2.await(clusterStart, clusterStart)
		var wg sync.WaitGroup
		for _, n := range []*server{n1, n2} {
			wg.Add(1)
			go func() { defer wg.Done(); holdAll(b, n, events) }()
		}
		wg.Wait()
		b.ReportMetric(float64(2*events)/time.Since(start).Seconds(), "cluster_drain_events/s")
		b.ReportMetric(time.Since(start).Seconds(), "cluster_drain_s")

		// A node added later.
		start = time.Now()
		n3 := spawnServer(b, b.TempDir(), args("node3")...)
		n3.await(clusterStart, clusterStart)
		holdAll(b, n3, events)
		b.ReportMetric(time.Since(start).Seconds(), "catchup_s")
		n3.term()

		// Fail-over under live ingest.
		ingestGap, ackGap, queryMax := failover(b, c, client, n1, events)
		b.ReportMetric(ingestGap.Seconds(), "failover_ingest_stall_s")
		b.ReportMetric(ackGap.Seconds(), "failover_publish_stall_s")
		b.ReportMetric(queryMax.Seconds()*1000, "failover_query_max_ms")
		n1.term()
		n2.term()
		c.Shutdown()
	}
}

// holdAll waits until the node's log holds n events.
func holdAll(b *testing.B, s *server, n int) {
	deadline := time.Now().Add(30 * time.Minute)
	for s.statUint("events") < uint64(n) {
		if time.Now().After(deadline) {
			b.Errorf("%s holds %d of %d events after 30 minutes", s.http, s.statUint("events"), n)
			return
		}
		time.Sleep(20 * time.Millisecond) // polling a condition
	}
}

// failover publishes events more (numbered from events on) while node n
// ingests, kills the stream leader a third of the way, and returns the
// longest pause of n's ingest and of the publisher's acknowledgements
// after the kill, and the slowest trend query of n during the phase.
func failover(b *testing.B, c *natstest.Cluster, client *plaintnats.Client, n *server, events int) (ingestGap, ackGap, queryMax time.Duration) {
	pub, err := client.NewPublisher(plaintnats.PublisherConfig{MaxAttempts: 1000, MaxBackoff: 500 * time.Millisecond, AckTimeout: 5 * time.Second})
	if err != nil {
		b.Fatal(err)
	}
	total := 2 * events
	var sent atomic.Int64
	pubDone := make(chan error, 1)
	go func() {
		for i := events; i < total; i++ {
			ev := crashEvent(i)
			if err := pub.PublishEvent(context.Background(), &ev); err != nil {
				pubDone <- err
				return
			}
			sent.Add(1)
		}
		_, err := pub.Wait(context.Background())
		pubDone <- err
	}()
	stop := make(chan struct{})
	var qwg sync.WaitGroup
	qwg.Add(1)
	go func() {
		defer qwg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			t := time.Now()
			if resp, err := http.Get(n.http + "/v1/trends?by=category"); err == nil {
				resp.Body.Close()
			}
			queryMax = max(queryMax, time.Since(t))
			time.Sleep(50 * time.Millisecond) // the query load's pace
		}
	}()
	for sent.Load() < int64(events/3) {
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	c.Kill(c.WaitStreamLeader(plaintnats.EventsStream))
	killed := time.Now()
	lastCount, lastAcked := n.statUint("events"), pub.Stats().Acked
	lastMove, lastAck := killed, killed
	for n.statUint("events") < uint64(total) {
		now := time.Now()
		if cnt := n.statUint("events"); cnt != lastCount {
			ingestGap = max(ingestGap, now.Sub(lastMove))
			lastCount, lastMove = cnt, now
		}
		if a := pub.Stats().Acked; a != lastAcked {
			ackGap = max(ackGap, now.Sub(lastAck))
			lastAcked, lastAck = a, now
		}
		if now.Sub(killed) > 10*time.Minute {
			b.Fatal("fail-over phase did not finish in 10 minutes")
		}
		time.Sleep(10 * time.Millisecond) // polling a condition
	}
	close(stop)
	qwg.Wait()
	if err := <-pubDone; err != nil {
		b.Fatal(err)
	}
	return ingestGap, ackGap, queryMax
}

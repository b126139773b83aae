package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// crashEvent is the i-th valid event of the crash test.
func crashEvent(i int) domain.Event {
	cats := []string{"billing", "network", "support", "delivery", "contract"}
	return domain.Event{ID: fmt.Sprintf("e-%07d", i), Source: "crash-test", Type: domain.TypeComplaintFiled,
		Time: time.Date(2025, time.Month(1+i%12), 1+i%28, 9, 0, 0, 0, time.UTC), Subject: fmt.Sprintf("C-%d", i%5000), Schema: 1,
		Data: domain.Data{CustomerID: fmt.Sprintf("C-%d", i%5000), Category: cats[i%len(cats)], Segment: "smb", Channel: "phone", Severity: uint8(1 + i%5)}}
}

// publishCrashEvents publishes crashEvent(from) .. crashEvent(to-1) and
// waits for every JetStream acknowledgement.
func publishCrashEvents(t testing.TB, c *plaintnats.Client, from, to int) {
	t.Helper()
	pub, err := c.NewPublisher(plaintnats.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	for i := from; i < to; i++ {
		ev := crashEvent(i)
		if err := pub.PublishEvent(context.Background(), &ev); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pub.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// patientPublisher connects to the NATS at url (closed when the test ends)
// and returns a publisher that outlasts a server dying under it: it
// reconnects quickly and retries each event up to 1,000 times.
func patientPublisher(t *testing.T, url string) (*plaintnats.Client, *plaintnats.Publisher) {
	t.Helper()
	client, err := plaintnats.Connect(plaintnats.ConnConfig{URL: url, ReconnectWait: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	pub, err := client.NewPublisher(plaintnats.PublisherConfig{MaxAttempts: 1000, MaxBackoff: 500 * time.Millisecond, AckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return client, pub
}

// TestCrashSafety publishes 200,000 messages (valid events, duplicates of
// earlier ones and a few invalid ones) to a `plaint serve` subprocess,
// SIGKILLs it mid-ingest (its embedded NATS server dies with it), restarts
// it, and proves that the log holds exactly the valid published set: nothing
// lost, nothing doubled. Then a SIGTERM stops it cleanly and verify passes.
func TestCrashSafety(t *testing.T) {
	const (
		total   = 200_000
		every   = 10 // every 10th message re-sends an earlier event
		badEach = 2000
	)
	data := t.TempDir()
	natsAddr := freePort(t)
	// Interest retention: the stream keeps each event until it is stored.
	srv := startServer(t, data, "--nats-listen", natsAddr, "--stream-retention", "interest", "--consumer", plaintnats.DefaultConsumer)

	client, pub := patientPublisher(t, natsAddr)
	want := map[string]bool{}
	published := make(chan error, 1)
	go func() {
		ctx := context.Background()
		unique := 0
		for n := 0; n < total; n++ {
			var err error
			switch {
			case n%badEach == badEach-1:
				err = pub.Publish(ctx, "plaint.events.complaint.filed", fmt.Sprintf("bad-%d", n), []byte(`{"specversion":"1.0","id":"broken`))
			case n%every == every-1 && unique > 0:
				ev := crashEvent((n * 7919) % unique) // an earlier event, sent again without a Nats-Msg-Id
				b, _ := ev.MarshalJSON()
				err = pub.Publish(ctx, ev.Type.Subject(), "", b)
			default:
				ev := crashEvent(unique)
				unique++
				err = pub.PublishEvent(ctx, &ev)
			}
			if err != nil {
				published <- err
				return
			}
		}
		_, err := pub.Wait(context.Background())
		published <- err
	}()
	for i := 0; i < total; i++ {
		if i%badEach == badEach-1 || (i%every == every-1 && i > 0) {
			continue
		}
		want[crashEvent(len(want)).ID] = true
	}

	var atKill uint64
	waitFor(t, 120*time.Second, "ingest to be under way", func() bool {
		atKill = srv.statUint("last_seq")
		return atKill >= 30_000
	})
	srv.kill()
	t.Logf("killed at about %d stored events", atKill)

	srv = startServer(t, data, "--nats-listen", natsAddr, "--stream-retention", "interest", "--consumer", plaintnats.DefaultConsumer)
	select {
	case err := <-published:
		if err != nil {
			t.Fatalf("publishing: %v", err)
		}
	case <-time.After(300 * time.Second):
		t.Fatal("publisher did not finish")
	}
	waitFor(t, 300*time.Second, "the backlog to drain", func() bool {
		n, err := client.ConsumerPending(context.Background(), "")
		return err == nil && n == 0 && srv.statUint("events") >= uint64(len(want))
	})
	if got := srv.statUint("events"); got != uint64(len(want)) {
		t.Fatalf("stored %d events, want exactly %d", got, len(want))
	}
	// Interest retention: once acknowledged, the buffer lets the events go.
	_, js := natstest.Connect(t, "nats://"+natsAddr)
	waitFor(t, 30*time.Second, "the events stream to empty", func() bool {
		st, err := js.Stream(context.Background(), plaintnats.EventsStream)
		if err != nil {
			return false
		}
		info, err := st.Info(context.Background())
		return err == nil && info.State.Msgs == 0
	})
	if dl := srv.statUint("dead_lettered"); dl < total/badEach {
		t.Errorf("dead_lettered = %d, want at least %d", dl, total/badEach)
	}
	srv.term()

	if code, out, errOut := runMain(t, "verify", "--data", data); code != 0 || !strings.HasPrefix(out, "ok:") {
		t.Fatalf("verify after crash: exit %d\n%s%s", code, out, errOut)
	}
	l, err := eventstore.Open(filepath.Join(data, "events.db"), eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := map[string]bool{}
	if err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if seen[ev.ID] {
			return fmt.Errorf("event %s stored twice (seq %d)", ev.ID, seq)
		}
		if !want[ev.ID] {
			return fmt.Errorf("event %s stored but never published as valid", ev.ID)
		}
		seen[ev.ID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(want) {
		t.Fatalf("stored %d distinct events, want %d", len(seen), len(want))
	}
}

// TestGracefulStopAndRestart stops the server with SIGTERM while it ingests
// and checks that a restart continues where it stopped.
func TestGracefulStopAndRestart(t *testing.T) {
	data := t.TempDir()
	natsAddr := freePort(t)
	srv := startServer(t, data, "--nats-listen", natsAddr)
	client := natstest.Client(t, "nats://"+natsAddr)
	const n = 20_000
	began := time.Now()
	publishCrashEvents(t, client, 0, n)
	t.Logf("%s: published %d events", time.Since(began), n)
	client.Close()
	stored := srv.statUint("events")
	srv.term()
	t.Logf("%s: stopped with about %d stored", time.Since(began), stored)
	if !strings.Contains(srv.out.String(), "stopped cleanly") {
		t.Fatalf("no clean stop in the log:\n%s", srv.out)
	}
	// The restart pulls 64 messages at a time instead of the default 8192:
	// smaller commits, the same events.
	srv = startServer(t, data, "--nats-listen", natsAddr, "--pull-batch", "64")
	t.Logf("%s: restarted", time.Since(began))
	waitFor(t, 10*time.Second, "the restart saying it pulls 64 at a time", func() bool { return strings.Contains(srv.output(), "pull_batch=64") })
	// Well inside the consumer's 30 s ack wait: the restart resets the
	// consumer, so what the last run held unacknowledged comes back at once.
	waitFor(t, 15*time.Second, "all events", func() bool { return srv.statUint("events") == n })
	t.Logf("%s: all stored", time.Since(began))
	// While the server holds the directory, verify asks it to check the live log.
	code, out, errOut := runMain(t, "verify", "--data", data, "--server", srv.http)
	if code != 0 || !strings.Contains(out, fmt.Sprintf("ok: %d records", n)) || !strings.Contains(out, "live log") {
		t.Fatalf("verify through the server: exit %d %q %q", code, out, errOut)
	}
	srv.term()
}

// TestServeStopsWhenIngestDies deletes the durable consumer under a running
// server: the ingest ends, and serve must exit with an error instead of
// carrying on without ingest.
func TestServeStopsWhenIngestDies(t *testing.T) {
	ns := natstest.Server(t)
	srv := startServer(t, t.TempDir(), "--nats-url", ns.ClientURL(), "--consumer", plaintnats.DefaultConsumer)
	_, js := natstest.Connect(t, ns.ClientURL())
	if err := js.DeleteConsumer(context.Background(), plaintnats.EventsStream, plaintnats.DefaultConsumer); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-srv.done:
		srv.cmd.ProcessState = &os.ProcessState{}
		t.Logf("serve exited: %v\n%s", err, srv.out)
		if err == nil || !strings.Contains(srv.out.String(), "ingest stopped") {
			t.Fatalf("serve exited with %v; log:\n%s", err, srv.out)
		}
	case <-time.After(60 * time.Second):
		t.Fatalf("serve still running 60s after its consumer was deleted\n%s", srv.out)
	}
}

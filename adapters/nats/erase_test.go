package nats_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/scrub"
)

// storeHolds reports how often the JetStream files in dir hold s.
func storeHolds(t *testing.T, dir, s string) int {
	t.Helper()
	hits, err := scrub.FindInDir(dir, [][]byte{[]byte(s)})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, h := range hits {
		n += len(h)
	}
	return n
}

func TestEraseLeavesNoBytesInTheStreamFiles(t *testing.T) {
	dir := t.TempDir()
	start := func() *plaintnats.Server {
		s, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	srv := start()
	nc, js := natstest.Connect(t, srv.ClientURL())
	natstest.EnsureStreams(t, natstest.Client(t, srv.ClientURL()), plaintnats.StreamConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const secret, dlqSecret = "Jane-Secret-1042", "Dead-Letter-Secret-77"
	var mine []uint64
	for i := range 200 {
		body := fmt.Sprintf(`{"id":"%d","data":{"customer_id":"C-%d"}}`, i, i)
		if i%50 == 7 {
			body = fmt.Sprintf(`{"id":"%d","data":{"customer_id":"%s"}}`, i, secret)
		}
		ack, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(body))
		if err != nil {
			t.Fatal(err)
		}
		if i%50 == 7 {
			mine = append(mine, ack.Sequence)
		}
	}
	for i := range 20 {
		m := &nats.Msg{Subject: "plaint.dlq.complaint.filed", Header: nats.Header{}, Data: []byte(`{"bad":`)}
		m.Header.Set("Plaint-Error", fmt.Sprintf("data.customer_id: %q is not valid", map[bool]string{true: dlqSecret, false: "x"}[i == 3]))
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	nc.Close()
	srv.Shutdown() // its blocks are on disk now
	if storeHolds(t, dir, secret) == 0 || storeHolds(t, dir, dlqSecret) == 0 {
		t.Fatal("the stream files do not hold the messages before the erasure")
	}

	srv = start()
	defer srv.Shutdown()
	_, js = natstest.Connect(t, srv.ClientURL())
	c := natstest.Client(t, srv.ClientURL())
	rep, err := c.EraseMessages(ctx, plaintnats.EventsStream, append(mine, 9999))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Erased != len(mine) || rep.Gone != 1 {
		t.Fatalf("events: %+v, want %d erased and 1 gone", rep, len(mine))
	}
	drep, err := c.EraseMatching(ctx, plaintnats.DLQStream, plaintnats.Mentions([][]byte{[]byte(dlqSecret)}))
	if err != nil {
		t.Fatal(err)
	}
	if drep.Erased != 1 || drep.Scanned != 20 {
		t.Fatalf("dead letters: %+v, want 1 erased of 20 scanned", drep)
	}
	if n := natstest.StreamMsgs(t, js, plaintnats.EventsStream); n != 200-uint64(len(mine)) {
		t.Fatalf("events stream holds %d messages", n)
	}
	srv.Shutdown()
	for _, s := range []string{secret, dlqSecret} {
		if n := storeHolds(t, dir, s); n != 0 {
			t.Errorf("after the erasure the JetStream files hold %q %d times", s, n)
		}
	}
	if storeHolds(t, dir, `"customer_id":"C-8"`) == 0 {
		t.Fatal("the erasure removed other messages")
	}
}

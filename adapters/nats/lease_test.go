package nats_test

import (
	"context"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/testutil"
)

// TestALeaseRenewedWithoutAnAnswerIsKept stores a lease's own value at a
// later revision behind its back, as a renewal does whose answer was lost
// (it timed out while the cluster elected a leader, and was stored): the
// next renewal, refused for the revision it knew, finds its own value and
// keeps renewing, instead of taking the lease for another node's and
// stopping its node.
func TestALeaseRenewedWithoutAnAnswerIsKept(t *testing.T) {
	ns := natstest.Server(t)
	client := natstest.Client(t, ns.ClientURL())
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const ttl = 1500 * time.Millisecond
	holder := plaintnats.LeaseHolder{NodeID: "alpha", Host: "h", PID: 1, DataDir: "/d", LogID: "l", Since: time.Now().UTC()}
	lease, err := client.AcquireLease(ctx, plaintnats.LeaseConfig{Consumer: "alpha", Holder: holder, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	defer lease.Release(context.Background())
	_, js := natstest.Connect(t, ns.ClientURL())
	kv, err := js.KeyValue(ctx, plaintnats.NodesBucket)
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, "alpha")
	if err != nil {
		t.Fatal(err)
	}
	// The lost renewal: the same value, one revision on.
	behind, err := kv.Update(ctx, "alpha", e.Value(), e.Revision())
	if err != nil {
		t.Fatal(err)
	}
	// Renewed three times past it (each renewal is one revision), and
	// never lost.
	testutil.WaitFor(t, 5*ttl, "the lease renewed past the lost renewal", func() bool {
		if lease.Err() != nil {
			t.Fatalf("the lease was lost: %v", lease.Err())
		}
		e, err := kv.Get(ctx, "alpha")
		return err == nil && e.Revision() >= behind+3
	})
}

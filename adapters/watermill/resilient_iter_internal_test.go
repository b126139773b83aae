package watermill

import (
	"testing"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"
)

// TestHaltReturnsOnceTheOldPullIsUnsubscribed: when halt returns, the
// stopped iterator's subscription is closed already, so that a consumer
// reset sent next cannot reach the server before its unsubscribe (the
// server would hand the redelivered messages to the old pull, lost until
// the ack wait). nats.go's Stop alone returns before it unsubscribes.
func TestHaltReturnsOnceTheOldPullIsUnsubscribed(t *testing.T) {
	_, cons := testIngestConsumer(t)
	var opened []jetstream.MessagesContext
	it, err := newResilientIter(func() (jetstream.MessagesContext, error) {
		m, err := cons.Messages()
		if err == nil {
			opened = append(opened, m)
		}
		return m, err
	}, wm.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	defer it.Stop()
	for round := range 20 {
		old := opened[len(opened)-1]
		it.halt()
		select {
		case <-old.(closer).Closed():
		default:
			t.Fatalf("round %d: halt returned while the stopped pull was still subscribed", round)
		}
		if err := it.resume(); err != nil {
			t.Fatal(err)
		}
	}
}

package nats_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/projections/alerts"
)

func alertEvent(id string, seq uint64) alerts.Event {
	return alerts.Event{Seq: seq, ID: id, Type: "alert.raised", Time: time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC),
		Data: alerts.Alert{AlertID: "billing/month/2025-03", State: "open", Series: map[string]string{"category": "billing"}, Period: "2025-03", PeriodStart: "2025-03-01"}}
}

// TestAlertPublisherPublishesEachAlertOnce runs eight nodes' publishers on
// one stream whose duplicate window is one second: the same alert event
// published by all at once, and again after the window (a node catching
// up late), is on the stream once. A claim its node left unpublished for
// long (it died) is taken over and published; a fresh one of another node
// is left to it (an error, retried by the caller).
func TestAlertPublisherPublishesEachAlertOnce(t *testing.T) {
	s := natstest.Server(t)
	ctx := context.Background()
	a, b := natstest.Client(t, s.ClientURL()), natstest.Client(t, s.ClientURL())
	if err := a.EnsureAlertsStream(ctx, plaintnats.StreamConfig{DuplicateWindow: time.Second}); err != nil {
		t.Fatal(err)
	}
	var pubs []*plaintnats.AlertPublisher
	for i := range 8 {
		c := a
		if i%2 == 1 {
			c = b
		}
		p, err := c.NewAlertPublisher(ctx, fmt.Sprintf("node-%d", i), 1)
		if err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, p)
	}
	pb := pubs[1]
	// publish retries as alerts.Deliver does.
	publish := func(p *plaintnats.AlertPublisher, ev alerts.Event) error {
		deadline := time.Now().Add(10 * time.Second)
		for {
			err := p.Publish(ctx, ev)
			if err == nil || time.Now().After(deadline) {
				return err
			}
			time.Sleep(10 * time.Millisecond) // the retry's pause
		}
	}
	_, js := natstest.Connect(t, s.ClientURL())
	msgs := func() uint64 { return natstest.StreamMsgs(t, js, plaintnats.AlertsStream) }

	ev := alertEvent("billing/month/2025-03/raised/1", 1)
	var wg sync.WaitGroup
	for _, p := range pubs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := publish(p, ev); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := msgs(); n != 1 {
		t.Fatalf("%d copies of the alert after concurrent publishes, want 1", n)
	}
	time.Sleep(1500 * time.Millisecond) // let the stream's duplicate window pass
	if err := publish(pb, ev); err != nil {
		t.Fatal(err)
	}
	if n := msgs(); n != 1 {
		t.Fatalf("%d copies after a late node published it again past the duplicate window, want 1", n)
	}

	kv, err := js.KeyValue(ctx, plaintnats.AlertClaimsBucket)
	if err != nil {
		t.Fatal(err)
	}
	claim := func(id, node string, at time.Time) {
		v, _ := json.Marshal(map[string]any{"node": node, "claimed": at, "published": false})
		if _, err := kv.Create(ctx, id, v); err != nil {
			t.Fatal(err)
		}
	}
	claim("dead-claim", "node-c", time.Now().Add(-time.Minute))
	if err := publish(pb, alertEvent("dead-claim", 2)); err != nil {
		t.Fatal(err)
	}
	if n := msgs(); n != 2 {
		t.Errorf("%d messages: the alert a dead node claimed was not taken over", n)
	}
	claim("busy-claim", "node-c", time.Now())
	if err := pb.Publish(ctx, alertEvent("busy-claim", 3)); err == nil {
		t.Error("an alert another live node is publishing was not left to it")
	}
	if n := msgs(); n != 2 {
		t.Errorf("%d messages: the alert another live node is publishing was published too", n)
	}
	if _, err := kv.Get(ctx, "dead-claim"); err != nil {
		t.Errorf("claim of the taken-over alert: %v", err)
	}
}

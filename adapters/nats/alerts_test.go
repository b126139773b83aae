package nats_test

import (
	"context"
	"sync"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/projections/alerts"
)

// TestAlertsArePublishedOnTheirOwnStream publishes alert events through
// Deliver and checks the subjects, the bodies, that a repeat is dropped by
// its Nats-Msg-Id, and that LastAlert gives a restarted publisher the
// point to resume from.
func TestAlertsArePublishedOnTheirOwnStream(t *testing.T) {
	s := natstest.Server(t)
	_, js := natstest.Connect(t, s.ClientURL())
	client := natstest.Client(t, s.ClientURL())
	ctx := context.Background()
	if err := client.EnsureAlertsStream(ctx, plaintnats.StreamConfig{}); err != nil {
		t.Fatal(err)
	}
	if id, _, _, err := client.LastAlert(ctx); err != nil || id != "" {
		t.Fatalf("empty stream: %q, %v", id, err)
	}
	var mu sync.Mutex
	got := map[string]string{}
	stop, err := client.SubscribeAlerts(func(subject string, data []byte) {
		ev, err := alerts.ParseCloudEvent(data)
		if err != nil {
			t.Error(err)
		}
		mu.Lock()
		got[ev.ID] = subject
		mu.Unlock()
	})
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	at := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	mk := func(seq uint64, cat, typ string) alerts.Event {
		id := "week/category=" + cat + "/2026-03-02"
		return alerts.Event{Seq: seq, ID: id + "#" + typ, Type: typ, Time: at.Add(time.Duration(seq) * time.Hour),
			Data: alerts.Alert{AlertID: id, Series: map[string]string{"category": cat}, Period: "week", PeriodStart: "2026-03-02"}}
	}
	feed := alerts.NewFeed()
	feed.Set([]alerts.Event{mk(1, "billing", alerts.TypeRaised), mk(2, "number-porting", alerts.TypeRaised), mk(3, "billing", alerts.TypeCleared)})
	dctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- alerts.Deliver(dctx, feed, 0, client.PublishAlert, nil) }()
	deadline := time.Now().Add(10 * time.Second)
	for natstest.StreamMsgs(t, js, plaintnats.AlertsStream) < 3 {
		if time.Now().After(deadline) {
			t.Fatal("three alerts not on the stream")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// A repeat (a restart that resumed too early) is dropped.
	if err := client.PublishAlert(ctx, mk(3, "billing", alerts.TypeCleared)); err != nil {
		t.Fatal(err)
	}
	if n := natstest.StreamMsgs(t, js, plaintnats.AlertsStream); n != 3 {
		t.Fatalf("%d messages after a repeat, want 3", n)
	}
	id, seq, last, err := client.LastAlert(ctx)
	if err != nil || id != mk(3, "billing", alerts.TypeCleared).ID || seq != 3 || !last.Equal(at.Add(3*time.Hour)) {
		t.Fatalf("last alert %q %d %v, %v", id, seq, last, err)
	}
	if n := feed.Resume(id, seq, last.UnixNano()); n != 3 {
		t.Fatalf("resume at %d, want 3", n)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(got)
		sub := got[mk(2, "number-porting", alerts.TypeRaised).ID]
		mu.Unlock()
		if n == 3 && sub == "plaint.alerts.number-porting" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber saw %v", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package main

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPostEventsGoThroughNATS: events posted over HTTP are published to
// the embedded NATS server and stored by the ingest like every other event;
// posting them twice stores them once (their Nats-Msg-Id).
func TestPostEventsGoThroughNATS(t *testing.T) {
	s := startServer(t, t.TempDir())
	var evs []string
	for i := range 3 {
		evs = append(evs, fmt.Sprintf(`{"specversion":"1.0","id":"h%d","source":"web-form","type":"complaint.filed","time":"2026-10-0%dT10:00:00Z",`+
			`"data":{"customer_id":"C-%d","category":"billing"}}`, i, i+1, i))
	}
	for range 2 {
		resp, err := http.Post(s.http+"/v1/events", "application/cloudevents-batch+json", strings.NewReader("["+strings.Join(evs, ",")+"]"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /v1/events: %s", resp.Status)
		}
	}
	waitFor(t, 30*time.Second, "3 stored events", func() bool { return s.statUint("events") == 3 })
}

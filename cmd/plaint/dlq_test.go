package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// dlqList returns the dead letters `dlq list -f json` prints.
func dlqList(t *testing.T, natsURL string, args ...string) []plaintnats.DeadLetter {
	t.Helper()
	code, out, errOut := runMain(t, append([]string{"dlq", "list", "--nats-url", natsURL, "-f", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("dlq list: exit %d\n%s\n%s", code, out, errOut)
	}
	var letters []plaintnats.DeadLetter
	if err := json.Unmarshal([]byte(out), &letters); err != nil {
		t.Fatalf("dlq list json: %v\n%s", err, out)
	}
	return letters
}

func TestDeadLettersAreLoggedListedAndReplayed(t *testing.T) {
	s := startServer(t, t.TempDir())
	_, js := natstest.Connect(t, s.nats)
	publish := func(body string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	event := func(id, customer string, at time.Time) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"crm","type":"complaint.filed","time":%q,"data":{"customer_id":%q,"category":"billing"}}`,
			id, at.UTC().Format(time.RFC3339), customer)
	}
	// Valid again a few seconds from now: an event time just past the 24 h
	// the server accepts ahead.
	soon := time.Now().Add(24*time.Hour + 4*time.Second)
	publish(event("future", "C-1", soon))
	publish(event("nocustomer", "", time.Now()))
	publish(`{"specversion":"1.0", not json`)
	publish(event("ok", "C-2", time.Now()))
	waitFor(t, 30*time.Second, "3 dead letters and 1 event", func() bool {
		return s.statUint("dead_lettered") == 3 && s.statUint("events") == 1
	})
	// The server logs each at warn with its reason.
	waitFor(t, 10*time.Second, "the dead letters in the server log", func() bool {
		out := s.output()
		return strings.Contains(out, "level=WARN") && strings.Contains(out, "reason=missing_field") &&
			strings.Contains(out, "reason=bad_json") && strings.Contains(out, "reason=time_out_of_range")
	})

	letters := dlqList(t, s.nats)
	byReason := map[string]plaintnats.DeadLetter{}
	for _, d := range letters {
		byReason[d.Reason] = d
	}
	if len(letters) != 3 || byReason["missing_field"].OriginalSubject != "plaint.events.complaint.filed" ||
		!strings.Contains(byReason["missing_field"].Error, "customer_id") || !strings.Contains(byReason["bad_json"].Preview, "not json") {
		t.Fatalf("dead letters %+v", letters)
	}
	if got := dlqList(t, s.nats, "--reason", "bad_json"); len(got) != 1 {
		t.Fatalf("--reason bad_json: %+v", got)
	}
	if got := dlqList(t, s.nats, "--since", time.Now().Add(time.Hour).Format(time.RFC3339)); len(got) != 0 {
		t.Fatalf("--since an hour ahead: %+v", got)
	}
	code, out, errOut := runMain(t, "dlq", "list", "--nats-url", s.nats)
	if code != 0 || !strings.Contains(out, "missing_field") || !strings.Contains(out, "ID") || !strings.Contains(errOut, "3 dead letters") {
		t.Fatalf("dlq list table: exit %d\n%s\n%s", code, out, errOut)
	}
	noCust := byReason["missing_field"].ID
	code, out, _ = runMain(t, "dlq", "show", "--nats-url", s.nats, fmt.Sprint(noCust))
	if code != 0 || !strings.Contains(out, `"id":"nocustomer"`) || !strings.Contains(out, "reason:           missing_field") {
		t.Fatalf("dlq show: exit %d\n%s", code, out)
	}
	code, _, errOut = runMain(t, "dlq", "show", "--nats-url", s.nats, "999")
	if code != 1 || !strings.Contains(errOut, "no dead letter with that id") {
		t.Fatalf("dlq show 999: exit %d\n%s", code, errOut)
	}

	// Nothing is valid yet: everything stays, and replay says so (exit 2).
	code, out, _ = runMain(t, "dlq", "replay", "--nats-url", s.nats, "--all")
	if code != 2 || !strings.Contains(out, "replayed 0, still invalid 3") || !strings.Contains(out, "still invalid, left in the DLQ: data.customer_id") {
		t.Fatalf("replay --all: exit %d\n%s", code, out)
	}
	if got := dlqList(t, s.nats); len(got) != 3 {
		t.Fatalf("%d dead letters after a replay of invalid ones, want 3", len(got))
	}
	// A fixed body is replayed, stored, and leaves the DLQ.
	fixed := filepath.Join(t.TempDir(), "fixed.json")
	if err := os.WriteFile(fixed, []byte(event("nocustomer", "C-3", time.Now())), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = runMain(t, "dlq", "replay", "--nats-url", s.nats, fmt.Sprint(noCust), "--body", fixed)
	if code != 0 || !strings.Contains(out, "replayed to plaint.events.complaint.filed and removed from the DLQ") {
		t.Fatalf("replay --body: exit %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, 30*time.Second, "the fixed event stored", func() bool { return s.statUint("events") == 2 })
	// The future event is valid once its time is within 24 h.
	waitFor(t, 30*time.Second, "the future event to come within 24 h", func() bool { return time.Until(soon) < 24*time.Hour })
	code, out, _ = runMain(t, "dlq", "replay", "--nats-url", s.nats, "--reason", "time_out_of_range")
	if code != 0 || !strings.Contains(out, "replayed 1, still invalid 0") {
		t.Fatalf("replay --reason time_out_of_range: exit %d\n%s", code, out)
	}
	waitFor(t, 30*time.Second, "the now-valid event stored", func() bool { return s.statUint("events") == 3 })

	// Over HTTP: the bad JSON is the one left.
	var left []plaintnats.DeadLetter
	getJSON(t, s.http+"/v1/dlq", &left)
	if len(left) != 1 || left[0].Reason != "bad_json" {
		t.Fatalf("GET /v1/dlq: %+v", left)
	}
	var shown struct{ Body string }
	getJSON(t, fmt.Sprintf("%s/v1/dlq/%d", s.http, left[0].ID), &shown)
	if !strings.Contains(shown.Body, "not json") {
		t.Fatalf("GET /v1/dlq/%d: %+v", left[0].ID, shown)
	}
	resp, err := http.Post(s.http+"/v1/dlq/replay", "application/json", bytes.NewReader([]byte(fmt.Sprintf(`{"ids":[%d]}`, left[0].ID))))
	if err != nil {
		t.Fatal(err)
	}
	var results []plaintnats.ReplayResult
	json.NewDecoder(resp.Body).Decode(&results)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(results) != 1 || results[0].Outcome != plaintnats.ReplayStillInvalid || results[0].Reason != "bad_json" {
		t.Fatalf("POST /v1/dlq/replay: %d %+v", resp.StatusCode, results)
	}
	info, err := js.Stream(context.Background(), plaintnats.DLQStream)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := info.Info(context.Background()); st.State.Msgs != 1 {
		t.Fatalf("DLQ holds %d, want the 1 still invalid", st.State.Msgs)
	}
}

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/scrub"
)

// The customer the tests forget, and values only their events carry: a
// subject (their e-mail address), a custom data field and an extension
// attribute. A dead letter and another customer's referral mention them.
const forgottenID = "C-1042"

var forgottenValues = []string{forgottenID, "jane.doe@example.org", "Zorro-77-Secret", "acme-tenant-4711"}

// forgetHistory publishes a history through the server's NATS: 60
// customers over 2025-01..2026-10, and C-1042's events among them, and
// waits until the server stored it.
func forgetHistory(t *testing.T, s *server) (events, deadLetters int) {
	t.Helper()
	_, js := natstest.Connect(t, s.nats)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	publish := func(typ, body string) {
		t.Helper()
		if _, err := js.Publish(ctx, "plaint.events."+typ, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	event := func(id, typ string, at time.Time, extra, data string) string {
		return fmt.Sprintf(`{"specversion":"1.0","id":%q,"source":"crm/eu","type":%q,"time":%q%s,"data":{%s}}`,
			id, typ, at.Format(time.RFC3339), extra, data)
	}
	r := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	cats := []string{"billing", "outage", "delivery", "service"}
	segs := []string{"smb", "enterprise"}
	for c := range 60 {
		cust := fmt.Sprintf("C-%d", c)
		publish("customer.acquired", event("acq-"+cust, "customer.acquired", start.Add(time.Duration(c)*time.Hour), "",
			fmt.Sprintf(`"customer_id":%q,"segment":%q`, cust, segs[c%2])))
		events++
	}
	for i := range 1500 {
		cust := fmt.Sprintf("C-%d", r.IntN(60))
		at := start.Add(time.Duration(r.Int64N(int64(660 * 24 * time.Hour))))
		publish("complaint.filed", event(fmt.Sprint("cmp-", i), "complaint.filed", at, "",
			fmt.Sprintf(`"customer_id":%q,"category":%q,"segment":%q,"channel":"phone","plan":"gold"`, cust, cats[r.IntN(4)], segs[r.IntN(2)])))
		events++
	}
	mine := []struct{ typ, extra, data string }{
		{"customer.acquired", "", `"customer_id":"C-1042","segment":"smb"`},
		{"complaint.filed", `,"subject":"jane.doe@example.org","tenant":"acme-tenant-4711"`,
			`"customer_id":"C-1042","category":"billing","segment":"smb","nickname":"Zorro-77-Secret","plan":"gold"`},
		{"complaint.filed", "", `"customer_id":"C-1042","category":"outage","segment":"smb","complaint_id":"C-1042/2"`},
		{"referral.made", "", `"customer_id":"C-1042","referred_customer_id":"C-9"`},
		{"revenue.recorded", "", `"customer_id":"C-1042","amount":"120.50","currency":"EUR"`},
	}
	for i, m := range mine {
		publish(m.typ, event(fmt.Sprint("mine-", i), m.typ, start.AddDate(0, 3+i, 2), m.extra, m.data))
		events++
	}
	// Another customer refers them.
	publish("referral.made", event("ref-7", "referral.made", start.AddDate(0, 5, 1), "", `"customer_id":"C-7","referred_customer_id":"C-1042"`))
	events++
	// A dead letter of theirs: no category.
	publish("complaint.filed", event("bad-1", "complaint.filed", start.AddDate(0, 6, 1), "", `"customer_id":"C-1042","nickname":"Zorro-77-Secret"`))
	deadLetters++
	waitFor(t, 60*time.Second, "the history stored", func() bool {
		return s.statUint("events") == uint64(events) && s.statUint("dead_lettered") == uint64(deadLetters)
	})
	return events, deadLetters
}

// holds returns the files under dir that hold any of values, like
// `grep -ral`.
func holds(t *testing.T, dir string, values []string) map[string][]string {
	t.Helper()
	needles := make([][]byte, len(values))
	for i, v := range values {
		needles[i] = []byte(v)
	}
	hits, err := scrub.FindInDir(dir, needles)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for path, hs := range hits {
		for _, h := range hs {
			out[path] = append(out[path], values[h.Needle])
		}
	}
	return out
}

// cli runs plaint in-process and fails the test on a non-zero exit.
func cli(t *testing.T, args ...string) string {
	t.Helper()
	code, out, errOut := runMain(t, args...)
	if code != 0 {
		t.Fatalf("plaint %s: exit %d\n%s\n%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

const distinctSpec = "name: customers\ngroup_by: [segment]\nbucket: quarter\nmeasures: [count, distinct:customer_id]\n"

func TestForgetThroughTheServer(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	events, _ := forgetHistory(t, s)
	g := []string{"--data", data, "--server", s.http}
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	if err := os.WriteFile(spec, []byte(distinctSpec), 0o600); err != nil {
		t.Fatal(err)
	}
	cli(t, append(g, "projection", "create", "-f", spec, "--wait")...)
	trendArgs := append(g, "trend", "--by", "category,segment", "--from", "2025-01", "--to", "2026-10", "--format", "csv")
	trendBefore := cli(t, trendArgs...)
	customersBefore := cli(t, append(g, "projection", "query", "customers", "--format", "csv")...)
	if !strings.Contains(cli(t, append(g, "log", "tail", "-n", "5000")...), "Zorro-77-Secret") {
		t.Fatal("the log does not keep the custom field")
	}

	// Refused: a reason naming the customer; an unknown customer.
	code, _, errOut := runMain(t, append(g, "forget", "--customer", forgottenID, "--reason", "C-1042 asked", "--yes")...)
	if code == 0 || !strings.Contains(errOut, "contains the customer id") {
		t.Fatalf("a reason with the id: exit %d, %s", code, errOut)
	}
	code, _, errOut = runMain(t, append(g, "forget", "--customer", "C-404", "--yes")...)
	if code == 0 || !strings.Contains(errOut, `no customer "C-404"`) {
		t.Fatalf("an unknown customer: exit %d, %s", code, errOut)
	}
	code, _, errOut = runMain(t, append(g, "forget", "--customer", forgottenID)...)
	if code != 2 || !strings.Contains(errOut, "--yes") {
		t.Fatalf("without --yes off a terminal: exit %d, %s", code, errOut)
	}

	// The HTTP API: not found is 404, a bad body 400, ids are path-escaped.
	for _, c := range []struct {
		path, body string
		status     int
		code       string
	}{
		{"/v1/customers/C-404/forget", `{"reason":"x"}`, 404, "not_found"},
		{"/v1/customers/crm%2FC-404/forget", ``, 404, "not_found"},
		{"/v1/customers/" + forgottenID + "/forget", `{"reason":1}`, 400, "invalid"},
		{"/v1/customers/" + forgottenID + "/forget", `{"why":"x"}`, 400, "invalid"},
		{"/v1/customers/" + forgottenID + "/forget", `{"reason":"` + strings.Repeat("x", 20000) + `"}`, 413, "too_large"},
	} {
		resp, err := http.Post(s.http+c.path, "application/json", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Error struct{ Code, Message string }
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != c.status || e.Error.Code != c.code {
			t.Fatalf("POST %s %.40s: %d %+v, want %d %s", c.path, c.body, resp.StatusCode, e.Error, c.status, c.code)
		}
		if c.status == 404 && !strings.Contains(e.Error.Message, "C-404") {
			t.Fatalf("not found says %q", e.Error.Message)
		}
	}

	out := cli(t, append(g, "forget", "--customer", forgottenID, "--reason", "art. 17 request 88", "--yes")...)
	t.Logf("forget:\n%s", out)
	// 7 messages: the customer's 5 events, the referral naming them and the
	// original of their dead letter.
	for _, want := range []string{"now erased-1", "5 events and 1 mention by others", "7 messages erased from PLAINT_EVENTS", "1 dead letter erased"} {
		if !strings.Contains(out, want) {
			t.Fatalf("forget said:\n%s\nwant %q", out, want)
		}
	}
	if got := cli(t, trendArgs...); got != trendBefore {
		t.Fatalf("the trend CSV changed:\n%s\nbefore:\n%s", got, trendBefore)
	}
	if got := cli(t, append(g, "projection", "query", "customers", "--format", "csv")...); got != customersBefore {
		t.Fatalf("distinct customers changed:\n%s\nbefore:\n%s", got, customersBefore)
	}
	cli(t, append(g, "verify")...)
	backup := filepath.Join(t.TempDir(), "backup.db")
	cli(t, append(g, "backup", "--out", backup)...)
	if h := holds(t, filepath.Dir(backup), forgottenValues); len(h) > 0 {
		t.Fatalf("a backup taken afterwards holds %v", h)
	}
	// The erasure is an event, with nothing personal in it.
	tail := cli(t, append(g, "log", "tail", "-n", "1")...)
	if !strings.Contains(tail, `"type":"customer.forgotten"`) || !strings.Contains(tail, "art. 17 request 88") || strings.Contains(tail, forgottenID) {
		t.Fatalf("the erasure event: %s", tail)
	}
	// A replay of the rewritten log (the backup) gives the same aggregates.
	replayed := cli(t, "replay", "-f", spec, "--data", backup, "--format", "csv")
	if replayed != customersBefore {
		t.Fatalf("a replay gives:\n%s\nthe projection before the erasure:\n%s", replayed, customersBefore)
	}

	s.term()
	if h := holds(t, data, forgottenValues); len(h) > 0 {
		t.Fatalf("after the erasure the data directory holds %v", h)
	}

	// The customer comes back: their new events start afresh.
	s = startServer(t, data)
	_, js := natstest.Connect(t, s.nats)
	g = []string{"--data", data, "--server", s.http}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{"specversion":"1.0","id":"new-1","source":"crm/eu","type":"complaint.filed","time":"2026-10-05T10:00:00Z","data":{"customer_id":"C-1042","category":"billing","segment":"smb"}}`)); err != nil {
		t.Fatal(err)
	}
	// And an old message of theirs, redelivered, stays a duplicate.
	if _, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{"specversion":"1.0","id":"mine-1","source":"crm/eu","type":"complaint.filed","time":"2025-05-03T00:00:00Z","data":{"customer_id":"C-1042","category":"billing"}}`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the new event stored, the old one dropped", func() bool {
		return s.statUint("events") == uint64(events+2) && s.statUint("duplicates") == 1
	})
	after := cli(t, append(g, "projection", "query", "customers", "--format", "csv")...)
	if after == customersBefore || !strings.Contains(after, "2026-Q4") {
		t.Fatalf("the returning customer is not counted afresh:\n%s", after)
	}
}

func TestForgetOffline(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	forgetHistory(t, s)
	trendArgs := []string{"--data", data, "trend", "--by", "category", "--from", "2025-01", "--to", "2026-10", "--format", "csv"}
	s.term()
	trendBefore := cli(t, trendArgs...)
	if h := holds(t, data, forgottenValues); len(h) == 0 {
		t.Fatal("the data directory does not hold the customer's data before")
	}
	out := cli(t, "--data", data, "forget", "--customer", forgottenID, "--yes")
	if !strings.Contains(out, "now erased-1") || !strings.Contains(out, "1 dead letter erased") {
		t.Fatalf("forget said:\n%s", out)
	}
	if h := holds(t, data, forgottenValues); len(h) > 0 {
		t.Fatalf("after the erasure the data directory holds %v", h)
	}
	cli(t, "--data", data, "verify")
	if got := cli(t, trendArgs...); got != trendBefore {
		t.Fatalf("the trend CSV changed:\n%s\nbefore:\n%s", got, trendBefore)
	}
	code, _, errOut := runMain(t, "--data", data, "forget", "--customer", forgottenID, "--yes")
	if code == 0 || !strings.Contains(errOut, "no customer") {
		t.Fatalf("forgetting again: exit %d, %s", code, errOut)
	}
	// The server starts on the erased directory and serves the same trend.
	s = startServer(t, data)
	if got := cli(t, append([]string{"--server", s.http}, trendArgs...)...); got != trendBefore {
		t.Fatalf("the served trend CSV changed:\n%s\nbefore:\n%s", got, trendBefore)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// writeManyComplaints makes a data directory whose log holds n complaints
// of n/50 customers, written directly (not through NATS) for speed.
func writeManyComplaints(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, logFile), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	cats := []string{"billing", "delivery", "outage", "technical", "service"}
	evs := make([]domain.Event, 0, 10_000)
	for i := 0; i < n; i++ {
		cust := fmt.Sprintf("C-%d", i%(n/50))
		evs = append(evs, domain.Event{ID: fmt.Sprintf("e-%d", i), Source: "crm", Type: domain.TypeComplaintFiled,
			Time: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute), Subject: cust, Schema: 1,
			Data: domain.Data{CustomerID: cust, Category: cats[i%len(cats)], Segment: "smb", Channel: "phone"}})
		if len(evs) == cap(evs) || i == n-1 {
			if _, err := l.Append(evs...); err != nil {
				t.Fatal(err)
			}
			evs = evs[:0]
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCreatedProjectionSurvivesKillDuringItsFirstBuild registers a spec that
// takes a while to build, SIGKILLs the server as soon as `projection create`
// has returned 0, and checks that the restarted server still has the
// projection and finishes building it. Then every name `projection list`
// shows, built-in ones with slashes included, answers show and query.
func TestCreatedProjectionSurvivesKillDuringItsFirstBuild(t *testing.T) {
	const n = 200_000
	data := writeManyComplaints(t, n)
	srv := startServer(t, data)
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	// Decoding every event, the build takes far longer than the kill below.
	os.WriteFile(spec, []byte("name: per-customer\ngroup_by: [customer_id]\nmeasures: [count, distinct:category]\n"), 0o600)
	code, out, errs := runMain(t, "--server", srv.http, "projection", "create", "-f", spec)
	srv.kill()
	if code != 0 {
		t.Fatalf("create: exit %d %s %s", code, out, errs)
	}
	srv = startServer(t, data)
	code, out, errs = runMain(t, "--server", srv.http, "projection", "show", "per-customer", "--json")
	if code != 0 {
		t.Fatalf("after kill -9 the registered projection is gone: exit %d %s %s", code, out, errs)
	}
	var st struct {
		State string `json:"state"`
	}
	waitFor(t, 60*time.Second, "the build to finish", func() bool {
		_, out, _ := runMain(t, "--server", srv.http, "projection", "show", "per-customer", "--json")
		return json.Unmarshal([]byte(out), &st) == nil && st.State == "live"
	})
	code, out, errs = runMain(t, "--server", srv.http, "projection", "query", "per-customer", "--format", "csv")
	if code != 0 {
		t.Fatalf("query: exit %d %s", code, errs)
	}
	var total int
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, line := range lines[1:] {
		var c int
		f := strings.Split(line, ",")
		fmt.Sscan(f[2], &c)
		total += c
	}
	if total != n {
		t.Fatalf("the rebuilt projection counts %d complaints, want %d", total, n)
	}
	// Every name the list shows can be shown and queried, built-in names
	// with slashes included; a trend cache entry can be dropped.
	if code, _, errs := runMain(t, "--server", srv.http, "trend", "--by", "category,segment"); code != 0 {
		t.Fatalf("trend: %s", errs)
	}
	_, out, _ = runMain(t, "--server", srv.http, "projection", "list")
	listed := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n")[1:] {
		name := strings.Fields(line)[0]
		listed++
		for _, args := range [][]string{{"show", name}, {"query", name, "--format", "csv"}} {
			if code, out, errs := runMain(t, append([]string{"--server", srv.http, "projection"}, args...)...); code != 0 || out == "" {
				t.Fatalf("projection %v: exit %d %s", args, code, errs)
			}
		}
	}
	if listed != 5 || !strings.Contains(out, "builtin/alerts") || !strings.Contains(out, "builtin/trend/month/category+segment") || !strings.Contains(out, "(cache, last used") {
		t.Fatalf("list:\n%s", out)
	}
	if code, _, errs := runMain(t, "--server", srv.http, "projection", "drop", "builtin/trend/month/category+segment"); code != 0 {
		t.Fatalf("drop of a trend: %s", errs)
	}
	if code, _, errs := runMain(t, "--server", srv.http, "projection", "drop", "builtin/active-customers"); code != 2 || !strings.Contains(errs, "cannot be dropped") {
		t.Fatalf("drop of the customer base: exit %d %s", code, errs)
	}
	srv.term()
}

package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// writeLog makes a data directory whose log holds evs.
func writeLog(t *testing.T, evs []domain.Event) string {
	t.Helper()
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, logFile), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(evs...); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeComplaints makes a data directory holding a small log.
func writeComplaints(t *testing.T) string {
	t.Helper()
	var evs []domain.Event
	cats := []string{"billing", "billing", "delivery", "outage"}
	for i := 0; i < 400; i++ {
		m := time.Month(1 + i%10)
		c := cats[i%len(cats)]
		if m >= 8 && c == "delivery" {
			c = "billing" // a rise in billing in the autumn
		}
		evs = append(evs, domain.Event{ID: fmt.Sprint(i), Source: "crm", Type: domain.TypeComplaintFiled,
			Time: time.Date(2026, m, 1+i%27, 0, 0, 0, 0, time.UTC), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprintf("C-%d", i%50), Category: c, Segment: []string{"smb", "enterprise"}[i%2], Channel: "phone"}})
	}
	for i := 0; i < 50; i++ {
		evs = append(evs, domain.Event{ID: fmt.Sprint("a", i), Source: "crm", Type: domain.TypeCustomerAcquired,
			Time: time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprintf("C-%d", i), Segment: []string{"smb", "enterprise"}[i%2]}})
	}
	return writeLog(t, evs)
}

// deadServer returns a URL where nothing listens.
func deadServer(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestTrendFallsBackToTheDataDirectory(t *testing.T) {
	dir := writeComplaints(t)
	srv := deadServer(t)
	code, out, errs := runMain(t, "--data", dir, "--server", srv, "trend", "--by", "category", "--from", "2026-01", "--to", "2026-10", "--format", "csv")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if !strings.HasPrefix(lines[0], "bucket,category,count,prev_count,change,pct_change,yoy_count,share,p_value") || len(lines) != 1+10*3 {
		t.Fatalf("csv:\n%s", out)
	}
	code, out, errs = runMain(t, "--data", dir, "--server", srv, "trend", "--by", "category,segment", "--to", "2026-10", "--where", "channel=phone")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "Complaints by category, segment per month, 2026-01 to 2026-10 where channel=phone") || !strings.Contains(out, "per 1k") {
		t.Fatalf("table:\n%s", out)
	}
	code, _, errs = runMain(t, "--data", dir, "--server", srv, "trend", "--by", "colour")
	if code != 2 || !strings.Contains(errs, "not a dimension") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestReplayIsByteIdenticalAndReadsBackups(t *testing.T) {
	dir := writeComplaints(t)
	spec := filepath.Join(t.TempDir(), "spec.yaml")
	os.WriteFile(spec, []byte("name: cats\nfilter: {types: [complaint.filed]}\ngroup_by: [category, segment]\nmeasures: [count, distinct:customer_id]\n"), 0o600)
	a, b := filepath.Join(t.TempDir(), "a.csv"), filepath.Join(t.TempDir(), "b.csv")
	for _, out := range []string{a, b} {
		if code, _, errs := runMain(t, "--data", dir, "replay", "-f", spec, "--out", out); code != 0 {
			t.Fatalf("exit %d: %s", code, errs)
		}
	}
	ab, _ := os.ReadFile(a)
	bb, _ := os.ReadFile(b)
	if len(ab) < 100 || string(ab) != string(bb) || !strings.HasPrefix(string(ab), "bucket,category,segment,count,distinct_customer_id\n") {
		t.Fatalf("replays differ or are wrong:\n%s\n---\n%s", ab, bb)
	}
	// A backup file works as --data, and --from/--to narrow the time range.
	code, out, errs := runMain(t, "--data", filepath.Join(dir, logFile), "replay", "-f", spec, "--from", "2026-09", "--to", "2026-10")
	if code != 0 || out != "bucket,category,segment,count,distinct_customer_id\n2026-09,billing,smb,40,5\n" {
		t.Fatalf("exit %d: %s\n%s", code, errs, out)
	}
	// Past --max-groups the replay stops with a usage error saying so.
	code, _, errs = runMain(t, "--data", dir, "replay", "-f", spec, "--max-groups", "3")
	if code != 2 || !strings.Contains(errs, "more than 3 groups") {
		t.Fatalf("replay past the group bound: exit %d %s", code, errs)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("name: cats\ngroup_by: [category]\nmeasures: [count, p99:amount]\n"), 0o600)
	code, _, errs = runMain(t, "--data", dir, "replay", "-f", bad)
	if code != 2 || !strings.Contains(errs, "measures[1]: line 3") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestProjectionCommandsNeedAServer(t *testing.T) {
	code, _, errs := runMain(t, "--server", deadServer(t), "projection", "list")
	if code != 4 || !strings.Contains(errs, "plaint replay") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestEveryServerCommandChecksTheDataDirectory: a command given --data asks
// --server only when that server holds the same directory, and says which
// one it holds otherwise; a command given only --server uses that server
// and never reads ./data.
func TestEveryServerCommandChecksTheDataDirectory(t *testing.T) {
	dataA := writeComplaints(t)
	a := startServer(t, dataA)
	dataB := mustLog(t, 3)
	for _, args := range [][]string{
		{"trend", "--by", "category"},
		{"projection", "list"},
		{"projection", "query", "builtin/trend/month/category"},
	} {
		code, out, errOut := runMain(t, append([]string{"--data", dataB, "--server", a.http}, args...)...)
		if code != 4 || !strings.Contains(errOut, "serves "+dataA+", not "+dataB) {
			t.Errorf("%v with --data B and server A: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	// Commands that read the directory themselves read B (not held by a
	// server) and never ask A.
	if code, out, errOut := runMain(t, "--data", dataB, "--server", a.http, "log", "stats", "--json"); code != 0 || !strings.Contains(out, `"events": 3`) {
		t.Errorf("log stats --data B: exit %d\n%s\n%s", code, out, errOut)
	}
	// --server alone, in a directory whose ./data holds another log: the
	// server answers, ./data is not read.
	cwd := t.TempDir()
	if err := os.CopyFS(filepath.Join(cwd, "data"), os.DirFS(dataB)); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		cmd := exec.Command(plaintBin, args...)
		cmd.Dir = cwd
		out, err := runWithin(t, cmd, 60*time.Second)
		return exitCodeOfRun(err), string(out)
	}
	if code, out := run("--server", a.http, "log", "stats", "--json"); code != 0 || !strings.Contains(out, `"events": 450`) {
		t.Errorf("log stats --server A: exit %d\n%s", code, out)
	}
	if code, out := run("--server", a.http, "trend", "--by", "category", "--format", "csv"); code != 0 || !strings.Contains(out, "billing") {
		t.Errorf("trend --server A: exit %d\n%s", code, out)
	}
	dead := deadServer(t)
	for _, args := range [][]string{{"log", "stats", "--json"}, {"trend", "--by", "category"}, {"verify"}} {
		code, out := run(append([]string{"--server", dead}, args...)...)
		if code != 4 || strings.Contains(out, `"events": 3`) || strings.Contains(out, "ok: 3 records") {
			t.Errorf("%v --server dead: exit %d, want 4 without reading ./data\n%s", args, code, out)
		}
	}
}

// TestCommandsFindTheServerInTheDataDirectory: a server on a random port
// writes its URL into --data; commands given only --data ask it (the log
// is held, so reading it themselves would fail), and after a clean stop
// the URL is gone and they read the directory.
func TestCommandsFindTheServerInTheDataDirectory(t *testing.T) {
	data := writeComplaints(t)
	s := startServer(t, data)
	b, err := os.ReadFile(filepath.Join(data, "http.url"))
	if err != nil || strings.TrimSpace(string(b)) != s.http {
		t.Fatalf("http.url holds %q (%v), the server printed %s", b, err, s.http)
	}
	if strings.HasSuffix(s.http, ":8080") {
		t.Fatalf("the server took the default port: %s", s.http)
	}
	for _, args := range [][]string{{"log", "stats", "--json"}, {"projection", "list"}, {"trend", "--by", "category", "--format", "csv"}} {
		code, out, errOut := runMain(t, append([]string{"--data", data}, args...)...)
		if code != 0 || out == "" {
			t.Errorf("%v without --server: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	s.term()
	if _, err := os.Stat(filepath.Join(data, "http.url")); !os.IsNotExist(err) {
		t.Fatalf("http.url after a clean stop: %v", err)
	}
	if code, out, errOut := runMain(t, "--data", data, "log", "stats", "--json"); code != 0 || !strings.Contains(out, `"events": `) {
		t.Errorf("log stats after the stop: exit %d\n%s\n%s", code, out, errOut)
	}
}

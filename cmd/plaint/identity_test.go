package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeRefusesALogThatIsNotTheDirectorys checks that an emptied, lost or
// foreign events.db beside a JetStream store and projections of another log
// stops serve with the reason (exit 3), and that --fresh starts from it on
// purpose, ingesting again what the stream holds.
func TestServeRefusesALogThatIsNotTheDirectorys(t *testing.T) {
	data := t.TempDir()
	s := startServer(t, data)
	code, out, errOut := runMain(t, "emit", "--nats-url", s.nats, "--file", repoFile("examples", "events.jsonl"))
	if code != 0 {
		t.Fatalf("emit: exit %d\n%s\n%s", code, out, errOut)
	}
	waitFor(t, 30*time.Second, "9 events stored", func() bool { return s.statUint("events") == 9 })
	s.term()

	serve := func(args ...string) (int, string) {
		cmd := exec.Command(plaintBin, append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}, args...)...)
		out, err := runWithin(t, cmd, 60*time.Second)
		return exitCodeOfRun(err), string(out)
	}
	path := filepath.Join(data, logFile)
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Emptied.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	code, got := serve()
	if code != 3 || !strings.Contains(got, "is empty (0 bytes), but the directory has a history") || !strings.Contains(got, "--fresh") || strings.Contains(got, "serving") {
		t.Fatalf("emptied log: exit %d\n%s", code, got)
	}
	if code, _, errOut := runMain(t, "verify", "--file", path); code != 3 || !strings.Contains(errOut, "is empty (0 bytes)") {
		t.Fatalf("verify of the emptied log: exit %d\n%s", code, errOut)
	}
	// Lost.
	os.Remove(path)
	if code, got := serve(); code != 3 || !strings.Contains(got, "does not exist, but the directory has a history") {
		t.Fatalf("lost log: exit %d\n%s", code, got)
	}
	// Another directory's log.
	foreign, err := os.ReadFile(filepath.Join(mustLog(t, 5), logFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, foreign, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, got := serve(); code != 3 || !strings.Contains(got, "projections.db belongs to log") {
		t.Fatalf("foreign log: exit %d\n%s", code, got)
	}
	// Without the projections, the consumer still knows its log; a refused
	// start stamps nothing.
	projSaved, err := os.ReadFile(filepath.Join(data, projectionsFile))
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(data, projectionsFile))
	if code, got := serve(); code != 3 || !strings.Contains(got, "has acknowledged events into log") {
		t.Fatalf("foreign log, no projections: exit %d\n%s", code, got)
	}
	if _, err := os.Stat(filepath.Join(data, projectionsFile)); err == nil {
		t.Fatal("a refused start created projections.db")
	}
	if err := os.WriteFile(filepath.Join(data, projectionsFile), projSaved, 0o600); err != nil {
		t.Fatal(err)
	}
	// The directory's own log again: serve starts.
	if err := os.WriteFile(path, saved, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, data)
	if got := s.statUint("events"); got != 9 {
		t.Fatalf("own log: %d events, want 9", got)
	}
	s.term()
	// --fresh on an emptied log: a new log, fed again from the stream.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s = startServer(t, data, "--fresh")
	waitFor(t, 30*time.Second, "the stream ingested again into the new log", func() bool { return s.statUint("events") == 9 })
	s.term()
	// And it is the directory's log from then on.
	s = startServer(t, data)
	if got := s.statUint("events"); got != 9 {
		t.Fatalf("after --fresh: %d events, want 9", got)
	}
	s.term()
}

// TestStopReportsAKeySnapshotItCouldNotWrite: a failed snapshot write at
// stop is an error, and the log does not say "stopped cleanly".
func TestStopReportsAKeySnapshotItCouldNotWrite(t *testing.T) {
	data := mustLog(t, 5)
	s := startServer(t, data)
	os.Remove(filepath.Join(data, logFile+".keys"))
	if err := os.MkdirAll(filepath.Join(data, logFile+".keys", "in-the-way"), 0o755); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-s.done:
		s.cmd.ProcessState = &os.ProcessState{}
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not stop")
	}
	out := s.output()
	if exitCodeOfRun(err) != 1 || !strings.Contains(out, "the dedupe key snapshot was not written") || strings.Contains(out, "stopped cleanly") {
		t.Fatalf("exit %v\n%s", err, out)
	}
}

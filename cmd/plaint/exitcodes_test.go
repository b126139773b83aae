package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExitCodesOfRealFailures runs the binary into a real failure of each
// kind the README's exit code table names and checks the code and that the
// message says what happened.
func TestExitCodesOfRealFailures(t *testing.T) {
	data := mustLog(t, 5)
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.db")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	dead := deadServer(t)
	events, err := filepath.Abs(repoFile("examples", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		code int
		args []string
		want string
	}{
		{0, []string{"version"}, "plaint "},
		{0, []string{"--version"}, "plaint "},
		{1, []string{"backup", "--data", data, "--out", filepath.Join(dir, "no", "such", "dir", "b.db")}, "no such file or directory"},
		{2, []string{"emit", "--synthetic", "--months", "0"}, "--months 0"},
		{2, []string{"emit", "--csv", filepath.Join(dir, "rows.csv"), "--map", filepath.Join(dir, "map.yaml")}, "the file does not exist"},
		{2, []string{"verify", "--file", filepath.Join(dir, "missing.db")}, "missing.db: the file does not exist"},
		{2, []string{"emit", "--file", events, "--nats-url", "http://127.0.0.1:4222"}, "expected nats://HOST:PORT"},
		{2, []string{"log", "tail", "--data", data, "--from", "0"}, "--from 0: sequences start at 1"},
		{2, []string{"serve", "--data", dir, "--replicas", "0"}, "--replicas 0"},
		{2, []string{"serve", "--data", dir, "--pull-batch", "0"}, "--pull-batch 0"},
		{2, []string{"serve", "--data", dir, "--pull-batch", "8193"}, "--pull-batch 8193"},
		{2, []string{"serve", "--data", dir, "--jetstream-max-store", "0"}, "--jetstream-max-store"},
		{2, []string{"dlq", "list", "--limit", "0"}, "--limit 0"},
		{3, []string{"verify", "--file", empty}, "is empty (0 bytes)"},
		{4, []string{"--server", dead, "log", "stats"}, "no plaint server answers"},
		{4, []string{"emit", "--synthetic", "--customers", "5", "--months", "1", "--nats-url", "nats://127.0.0.1:1"}, "is `plaint serve` running?"},
	} {
		cmd := exec.Command(plaintBin, c.args...)
		cmd.Dir = dir // no ./data here
		out, err := runWithin(t, cmd, 60*time.Second)
		if got := exitCodeOfRun(err); got != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("%v: exit %d, want %d with %q:\n%s", c.args, got, c.code, c.want, out)
		}
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nkeys"
)

// TestServeExposesNATSWithAnNkey: serve's embedded NATS server on a
// non-loopback address with --nats-nkey-file lets in a client that holds
// the seed (plaint emit with the same flag), and not one without it.
func TestServeExposesNATSWithAnNkey(t *testing.T) {
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := kp.Seed()
	seedFile := filepath.Join(t.TempDir(), "plaint.nk")
	if err := os.WriteFile(seedFile, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir(), "--nats-listen", "0.0.0.0:0", "--nats-nkey-file", seedFile)
	events, err := filepath.Abs(repoFile("examples", "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	emit := func(args ...string) (int, string) {
		cmd := exec.Command(plaintBin, append([]string{"emit", "--file", events, "--nats-url", s.nats}, args...)...)
		out, err := runWithin(t, cmd, 60*time.Second)
		return exitCodeOfRun(err), string(out)
	}
	if code, out := emit(); code == 0 || !strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("emit without the nkey: exit %d\n%s", code, out)
	}
	if code, out := emit("--nats-nkey-file", seedFile); code != 0 {
		t.Fatalf("emit with the nkey: exit %d\n%s", code, out)
	}
	waitFor(t, 30*time.Second, "the emitted events stored", func() bool { return s.statUint("events") > 0 })
	if strings.Contains(s.output(), string(seed)) {
		t.Error("the seed is in the server's log")
	}
}

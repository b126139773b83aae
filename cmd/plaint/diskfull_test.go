package main

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var ackedLine = regexp.MustCompile(`published \d+ events: (\d+) acked`)

// readyz returns /readyz's status code and reason.
func (s *server) readyz() (int, string) {
	resp, err := http.Get(s.http + "/readyz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var body struct{ Reason string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.Reason
}

// TestIngestRecoversByItselfAfterTheDiskWasFull fills a real, small disk
// (a 48 MiB tmpfs mounted for the test; the tests run as root) under a
// running server: /readyz says why nothing can be written, and once the
// space is freed JetStream is restarted and the events published after
// are stored, without restarting plaint.
func TestIngestRecoversByItselfAfterTheDiskWasFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=48m", "tmpfs", mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs (the test needs root): %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", mnt).Run() })
	data := filepath.Join(mnt, "data")
	s := startServer(t, data)
	// emit publishes a synthetic history and returns how many JetStream acked.
	emit := func(seed string, wantOK bool, customers string) uint64 {
		t.Helper()
		code, out, errOut := runMain(t, "emit", "--nats-url", s.nats, "--synthetic", "--customers", customers, "--months", "3", "--end", "2026-11", "--seed", seed, "--max-attempts", "2")
		if (code == 0) != wantOK {
			t.Fatalf("emit seed %s: exit %d\n%s\n%s", seed, code, out, errOut)
		}
		m := ackedLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("emit seed %s: no summary\n%s", seed, out)
		}
		n, _ := strconv.ParseUint(m[1], 10, 64)
		return n
	}
	first := emit("1", true, "200")
	waitFor(t, 30*time.Second, "the first history stored", func() bool { return s.statUint("events") == first })
	// Fill the disk.
	fill := filepath.Join(mnt, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !strings.Contains(err.Error(), syscall.ENOSPC.Error()) {
				t.Fatal(err)
			}
			break
		}
	}
	f.Close()
	during := emit("2", false, "20")
	code, reason := s.readyz()
	if code != 503 || !strings.Contains(reason, "below the") {
		t.Fatalf("readyz on a full disk: %d %q", code, reason)
	}
	os.Remove(fill)
	waitFor(t, 60*time.Second, "JetStream restarted and ready again", func() bool {
		code, _ := s.readyz()
		return code == 200 && strings.Contains(s.output(), "JetStream restarted after a store write error")
	})
	after := emit("3", true, "200")
	waitFor(t, 120*time.Second, "the history published after the disk was freed stored", func() bool {
		return s.statUint("events") == first+during+after
	})
	if out := s.output(); strings.Count(out, "message not stored") > 10 {
		t.Fatalf("%d failure lines: the failures are not rate limited\n%s", strings.Count(out, "message not stored"), out)
	}
	s.term()
}

package main

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestServeWithTokens: with --tokens every query needs a token, commands
// send --token, and SIGHUP reloads the file (a new token works, a removed
// one no longer does).
func TestServeWithTokens(t *testing.T) {
	const oldTok, newTok = "read-old-0123456789abcdef", "read-new-0123456789abcdef"
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte("read "+oldTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := writeComplaints(t)
	s := startServer(t, data, "--tokens", file)
	status := func(tok string) int {
		req, _ := http.NewRequest("GET", s.http+"/v1/stats", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status("") != 401 || status(newTok) != 401 || status(oldTok) != 200 {
		t.Fatalf("before the reload: %d %d %d", status(""), status(newTok), status(oldTok))
	}
	if code, out, errOut := runMain(t, "--data", data, "--token", oldTok, "projection", "list"); code != 0 || !strings.Contains(out, "NAME") {
		t.Errorf("projection list --token: exit %d\n%s\n%s", code, out, errOut)
	}
	// Refused by the server: exit 5, naming the token setting.
	if code, _, errOut := runMain(t, "--data", data, "projection", "list"); code != exitRefused || !strings.Contains(errOut, "PLAINT_TOKEN") || !strings.Contains(errOut, "--token") {
		t.Errorf("projection list without a token (401): exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runMain(t, "--data", data, "--token", "wrong-0123456789abcdef", "projection", "list"); code != exitRefused || !strings.Contains(errOut, "PLAINT_TOKEN") {
		t.Errorf("projection list with a wrong token (401): exit %d\n%s", code, errOut)
	}
	if code, _, errOut := runMain(t, "--data", data, "--token", oldTok, "projection", "drop", "x"); code != exitRefused || !strings.Contains(errOut, "needs admin") || !strings.Contains(errOut, "PLAINT_TOKEN") {
		t.Errorf("projection drop with a read token (403): exit %d\n%s", code, errOut)
	}
	// alerts follow stops at a 401 instead of reconnecting for ever.
	follow := exec.Command(plaintBin, "--data", data, "alerts", "follow")
	out, err := runWithin(t, follow, 60*time.Second)
	if got := exitCodeOfRun(err); got != exitRefused || !strings.Contains(string(out), "PLAINT_TOKEN") {
		t.Errorf("alerts follow without a token: exit %d\n%s", got, out)
	}
	if err := os.WriteFile(file, []byte("# rotated\nread "+newTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 20*time.Second, "the reloaded tokens", func() bool { return status(newTok) == 200 && status(oldTok) == 401 })
	// An invalid file keeps the tokens in force.
	if err := os.WriteFile(file, []byte("root "+oldTok+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	waitFor(t, 20*time.Second, "the refused reload logged", func() bool { return strings.Contains(s.output(), "tokens file not reloaded") })
	if status(newTok) != 200 {
		t.Error("an invalid tokens file replaced the tokens")
	}
	if out := s.output(); strings.Contains(out, oldTok) || strings.Contains(out, newTok) {
		t.Errorf("a token is in the server's log:\n%s", out)
	}
}

// TestServeRefusesAnOpenNonLoopbackAddress: without --tokens serve listens
// on loopback only, and says how to configure tokens otherwise.
func TestServeRefusesAnOpenNonLoopbackAddress(t *testing.T) {
	code, _, errOut := runMain(t, "serve", "--data", t.TempDir(), "--http", "0.0.0.0:0", "--nats-listen", "127.0.0.1:0")
	if code != 2 || !strings.Contains(errOut, "--tokens FILE") || !strings.Contains(errOut, "ROLE TOKEN") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plaint/plaint/internal/testutil"
)

// plaintBin is the plaint binary built once for the tests that run it as a
// subprocess (crash safety, graceful stop).
var plaintBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plaint-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	plaintBin = filepath.Join(dir, "plaint")
	cmd := exec.Command("go", "build", "-o", plaintBin, ".")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build plaint:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runMain runs the CLI in-process and returns its exit code and output.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	code := m.Run(context.Background(), args)
	return code, out.String(), errb.String()
}

// server is a `plaint serve` subprocess.
type server struct {
	t    testing.TB
	cmd  *exec.Cmd
	http string
	nats string           // the embedded NATS server's URL
	out  *testutil.Buffer // what it wrote to stderr (its log)
	done chan error

	addr, natsURL chan string // what serve printed at start

	// hc is the client await asks /readyz with; nil is http.DefaultClient
	// (set it before await for a server with --tls-cert).
	hc *http.Client
}

var (
	httpLine = regexp.MustCompile(`http: (https?://\S+)`)
	natsLine = regexp.MustCompile(`nats: (nats://\S+)`)
)

// startServer starts `plaint serve` with the given data directory and extra
// flags and waits until its HTTP API answers /readyz.
func startServer(t testing.TB, data string, args ...string) *server {
	t.Helper()
	s := spawnServer(t, data, args...)
	s.await(60*time.Second, 30*time.Second)
	return s
}

// spawnServer starts `plaint serve` like startServer without waiting for
// it (await does), so that several can start at the same moment.
func spawnServer(t testing.TB, data string, args ...string) *server {
	t.Helper()
	all := append([]string{"serve", "--data", data, "--http", "127.0.0.1:0", "--nats-listen", "127.0.0.1:0"}, args...)
	cmd := exec.Command(plaintBin, all...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &server{t: t, cmd: cmd, out: &testutil.Buffer{}, done: make(chan error, 1), addr: make(chan string, 1), natsURL: make(chan string, 1)}
	cmd.Stderr = s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.done <- cmd.Wait() }()
	t.Cleanup(func() { s.kill() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := natsLine.FindStringSubmatch(sc.Text()); m != nil {
				s.natsURL <- m[1]
			}
			if m := httpLine.FindStringSubmatch(sc.Text()); m != nil {
				s.addr <- m[1]
			}
		}
	}()
	return s
}

// await waits up to start for the server to say it serves, then up to
// ready for /readyz to answer 200.
func (s *server) await(start, ready time.Duration) {
	t := s.t
	t.Helper()
	select {
	case a := <-s.addr:
		s.http = a
		select {
		case s.nats = <-s.natsURL:
		default:
		}
	case err := <-s.done:
		t.Fatalf("plaint serve exited at start: %v\n%s", err, s.output())
	case <-time.After(start):
		t.Fatalf("plaint serve did not start in %s\n%s", start, s.output())
	}
	hc := s.hc
	if hc == nil {
		hc = http.DefaultClient
	}
	waitFor(t, ready, "readyz", func() bool {
		resp, err := hc.Get(s.http + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
}

// output returns what the server wrote to stderr so far (its log).
func (s *server) output() string { return s.out.String() }

// stats returns the server's /v1/stats.
func (s *server) stats() (map[string]any, error) {
	resp, err := http.Get(s.http + "/v1/stats")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	return m, json.NewDecoder(resp.Body).Decode(&m)
}

func (s *server) statUint(name string) uint64 {
	m, err := s.stats()
	if err != nil {
		return 0
	}
	f, _ := m[name].(float64)
	return uint64(f)
}

func (s *server) kill() {
	if s.cmd.ProcessState == nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
		s.cmd.ProcessState = &os.ProcessState{}
	}
}

// term sends SIGTERM and waits for a clean exit.
func (s *server) term() {
	s.t.Helper()
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		s.cmd.ProcessState = &os.ProcessState{}
		if err != nil {
			s.t.Fatalf("plaint serve exited with %v after SIGTERM\n%s", err, s.out)
		}
	case <-time.After(60 * time.Second):
		s.t.Fatalf("plaint serve did not stop within 60s of SIGTERM\n%s", s.out)
	}
}

// waitFor polls cond until it holds or the deadline passes.
var waitFor = testutil.WaitFor

func TestHelpListsCommands(t *testing.T) {
	var out bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &out, Exit: func(int) { panic(exitCode(0)) }}
	if code := m.Run(context.Background(), []string{"--help"}); code != 0 {
		t.Fatalf("--help exit %d", code)
	}
	for _, want := range []string{"serve", "emit", "log", "verify", "backup", "trend", "replay"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, out.String())
		}
	}
}

func TestOfflineCommandsOnMissingData(t *testing.T) {
	code, _, stderr := runMain(t, "verify", "--data", t.TempDir())
	if code == 0 || !strings.Contains(stderr, "no event log") {
		t.Fatalf("verify on an empty dir: exit %d, %q", code, stderr)
	}
}

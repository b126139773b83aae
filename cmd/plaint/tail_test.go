package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
)

// lineWriter collects output and signals once it holds want lines.
type lineWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	want int
	done chan struct{}
	once sync.Once
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Count(w.buf.String(), "\n") >= w.want {
		w.once.Do(func() { close(w.done) })
	}
	return len(p), nil
}

// TestTailFollowsThroughTheServer checks that `plaint log tail -f` works while
// a server holds the data directory: it follows through the HTTP API.
func TestTailFollowsThroughTheServer(t *testing.T) {
	data := t.TempDir()
	natsAddr := freePort(t)
	srv := startServer(t, data, "--nats-listen", natsAddr)
	client := natstest.Client(t, "nats://"+natsAddr)
	publishCrashEvents(t, client, 0, 3)
	waitFor(t, 30*time.Second, "3 events", func() bool { return srv.statUint("events") == 3 })

	out := &lineWriter{want: 5, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := &Main{Stdout: out, Stderr: &bytes.Buffer{}}
	exited := make(chan int, 1)
	go func() {
		exited <- m.Run(ctx, []string{"log", "tail", "-f", "--from", "2", "--data", data, "--server", srv.http})
	}()
	publishCrashEvents(t, client, 3, 6)
	select {
	case <-out.done:
	case code := <-exited:
		t.Fatalf("tail -f exited with %d: %s", code, m.Stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("tail -f printed only:\n%s", out.buf.String())
	}
	cancel()
	if code := <-exited; code != 0 {
		t.Fatalf("tail -f exit %d", code)
	}
	lines := strings.Split(strings.TrimSpace(out.buf.String()), "\n")
	for i, want := range []string{`"plaintseq":2`, `"plaintseq":3`, `"plaintseq":4`, `"plaintseq":5`, `"plaintseq":6`} {
		if !strings.Contains(lines[i], want) {
			t.Fatalf("line %d = %s, want %s", i, lines[i], want)
		}
	}
}

// TestServerFallbackChecksTheDataDirectory: when --data is held by a server,
// the commands ask --server only if that server holds the same directory,
// and say so (exit 4) when no server answers.
func TestServerFallbackChecksTheDataDirectory(t *testing.T) {
	dataA, dataB := t.TempDir(), t.TempDir()
	a := startServer(t, dataA)
	startServer(t, dataB)
	if code, out, errOut := runMain(t, "log", "stats", "--json", "--data", dataA, "--server", a.http); code != 0 || !strings.Contains(out, `"events"`) {
		t.Fatalf("stats of A through A: exit %d %q %q", code, out, errOut)
	}
	for _, args := range [][]string{
		{"log", "stats"}, {"log", "tail"}, {"verify"}, {"backup", "--out", filepath.Join(t.TempDir(), "b.db")},
	} {
		code, _, errOut := runMain(t, append(args, "--data", dataB, "--server", a.http)...)
		if code != 4 || !strings.Contains(errOut, "serves "+dataA) {
			t.Errorf("%v on B through A: exit %d %q", args, code, errOut)
		}
	}
	code, _, errOut := runMain(t, "log", "stats", "--data", dataB, "--server", "http://127.0.0.1:1")
	if code != 4 || !strings.Contains(errOut, "no plaint server answers") {
		t.Errorf("no server: exit %d %q", code, errOut)
	}
}

package http

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/plaint/plaint/eventstore"
)

// TestServerWritesItsURLForClients: a server on a random port writes its
// URL into the data directory when it listens, a client found through
// Discover reaches it, and a clean stop removes the file, after which no
// server answers at the old URL.
func TestServerWritesItsURLForClients(t *testing.T) {
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(Config{Addr: "127.0.0.1:0", Log: l, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	u, from := Discover("", "", dir)
	if u != s.URL() || u == DefaultServer || from != filepath.Join(dir, URLFile) {
		t.Fatalf("discovered %q from %q, server at %q", u, from, s.URL())
	}
	c, err := NewClient(u)
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Health(context.Background())
	if err != nil || h.DataDir != dir || h.Status != "ok" {
		t.Fatalf("health %+v, %v", h, err)
	}
	// --server and PLAINT_SERVER come first.
	if u, from := Discover("http://a:1", "http://b:2", dir); u != "http://a:1" || from != "--server" {
		t.Errorf("flag: %q %q", u, from)
	}
	if u, from := Discover("", "http://b:2", dir); u != "http://b:2" || from != "PLAINT_SERVER" {
		t.Errorf("env: %q %q", u, from)
	}
	if err := s.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, URLFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s after a clean stop: %v", URLFile, err)
	}
	if u, _ := Discover("", "", dir); u != DefaultServer {
		t.Errorf("after the stop: %q", u)
	}
	if _, err := c.Health(context.Background()); !errors.Is(err, ErrNoServer) {
		t.Errorf("health of a stopped server: %v", err)
	}
}

// TestRemoveURLFileKeepsAnotherServers: a server whose URL file was
// replaced (another server took over the directory) leaves it alone.
func TestRemoveURLFileKeepsAnotherServers(t *testing.T) {
	dir := t.TempDir()
	if err := writeURLFile(dir, "http://127.0.0.1:2"); err != nil {
		t.Fatal(err)
	}
	if err := removeURLFile(dir, "http://127.0.0.1:1"); err != nil {
		t.Fatal(err)
	}
	if u, _ := Discover("", "", dir); u != "http://127.0.0.1:2" {
		t.Fatalf("got %q", u)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestListenURL(t *testing.T) {
	for addr, want := range map[string]string{
		"127.0.0.1:8080": "http://127.0.0.1:8080",
		"0.0.0.0:9000":   "http://127.0.0.1:9000",
		"[::]:9000":      "http://[::1]:9000",
		"example.org:80": "http://example.org:80",
	} {
		if got := ListenURL(addr, false); got != want {
			t.Errorf("%s: %s, want %s", addr, got, want)
		}
	}
	if got := ListenURL("127.0.0.1:1", true); got != "https://127.0.0.1:1" {
		t.Errorf("tls: %s", got)
	}
}

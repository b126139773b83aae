package nats_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/eventstore"
)

func TestStartServerAcceptsJetStreamClients(t *testing.T) {
	s := natstest.Server(t)
	_, js := natstest.Connect(t, s.ClientURL())
	if _, err := js.AccountInfo(context.Background()); err != nil {
		t.Fatalf("JetStream not enabled: %v", err)
	}
}

func TestStartServerOnATakenPortFailsAtOnce(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	start := time.Now()
	_, err = plaintnats.StartServer(plaintnats.ServerConfig{Listen: ln.Addr().String(), StoreDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "cannot listen on "+ln.Addr().String()) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s to fail", time.Since(start))
	}
}

func TestStoreLimitComesFromTheDiskSizeNotItsFreeSpace(t *testing.T) {
	dir := t.TempDir()
	s, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	ds, err := eventstore.DiskSpaceOf(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := int64(float64(ds.Total) * 0.75); s.MaxStore() != want {
		t.Fatalf("MaxStore %d, want 75%% of the disk's %d bytes (%d)", s.MaxStore(), ds.Total, want)
	}
	s2, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), MaxStore: 5 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Shutdown()
	if s2.MaxStore() != 5<<20 || s2.StoreError() != nil {
		t.Fatalf("MaxStore %d, store error %v", s2.MaxStore(), s2.StoreError())
	}
}

package nats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/plaint/plaint/adapters/nats/natstest"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

func TestConnectToEmbeddedServer(t *testing.T) {
	s := natstest.Server(t)
	c, err := plaintnats.Connect(plaintnats.ConnConfig{URL: s.ClientURL(), Name: "conn-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Connected(); err != nil {
		t.Fatal(err)
	}
	nc := plaintnats.ConnOf(c)
	if got := nc.Opts.MaxReconnect; got != -1 {
		t.Errorf("MaxReconnect = %d, want -1 (for ever)", got)
	}
	if got := nc.Opts.Name; got != "conn-test" {
		t.Errorf("Name = %q", got)
	}
}

func TestConnectReportsUnreachableServerWithoutPassword(t *testing.T) {
	_, err := plaintnats.Connect(plaintnats.ConnConfig{URL: "nats://bob:secret@127.0.0.1:1"})
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestConnectAcceptsHostPortAndNamesTheFormOfABadURL(t *testing.T) {
	s := natstest.Server(t)
	nc, err := plaintnats.Connect(plaintnats.ConnConfig{URL: strings.TrimPrefix(s.ClientURL(), "nats://")})
	if err != nil {
		t.Fatalf("HOST:PORT: %v", err)
	}
	nc.Close()
	_, err = plaintnats.Connect(plaintnats.ConnConfig{URL: "http://127.0.0.1:4222"})
	if !errors.Is(err, plaintnats.ErrConfig) || !strings.Contains(err.Error(), "expected nats://HOST:PORT") {
		t.Fatalf("err %v; want ErrConfig naming the expected form", err)
	}
}

package nats_test

import (
	"errors"
	"testing"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// TestAnExposedServerNeedsCredentials: the embedded server refuses to
// listen beyond loopback without a user and password, and with them lets
// in only clients that give them.
func TestAnExposedServerNeedsCredentials(t *testing.T) {
	_, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "0.0.0.0:0", StoreDir: t.TempDir()})
	if !errors.Is(err, plaintnats.ErrConfig) {
		t.Fatalf("exposed without credentials: %v", err)
	}
	_, err = plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: t.TempDir(), User: "plaint"})
	if !errors.Is(err, plaintnats.ErrConfig) {
		t.Fatalf("a user without a password: %v", err)
	}
	s, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "0.0.0.0:0", StoreDir: t.TempDir(), User: "plaint", Password: "s3cret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	if c, err := plaintnats.Connect(plaintnats.ConnConfig{URL: s.ClientURL()}); err == nil {
		c.Close()
		t.Fatal("a client without credentials got in")
	}
	if c, err := plaintnats.Connect(plaintnats.ConnConfig{URL: s.ClientURL(), User: "plaint", Password: "wrong"}); err == nil {
		c.Close()
		t.Fatal("a wrong password got in")
	}
	c, err := plaintnats.Connect(plaintnats.ConnConfig{URL: s.ClientURL(), User: "plaint", Password: "s3cret-pass"})
	if err != nil {
		t.Fatalf("with the credentials: %v", err)
	}
	c.Close()
}

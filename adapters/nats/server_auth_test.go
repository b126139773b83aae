package nats_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nats-io/nkeys"

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

// writeNkeySeed writes a new user nkey seed into dir/name.
func writeNkeySeed(t *testing.T, name string) string {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	seed, err := kp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, seed, 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestAnExposedServerTakesAnNkey: an nkey seed file is credentials enough
// for an exposed server, which then lets in the client holding that seed
// (and the user, when one is set too), not a client without it or with
// another seed.
func TestAnExposedServerTakesAnNkey(t *testing.T) {
	seed, other := writeNkeySeed(t, "plaint.nk"), writeNkeySeed(t, "other.nk")
	notSeed := filepath.Join(t.TempDir(), "not.nk")
	if err := os.WriteFile(notSeed, []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "0.0.0.0:0", StoreDir: t.TempDir(), NkeyFile: notSeed}); !errors.Is(err, plaintnats.ErrConfig) {
		t.Fatalf("a file that is not a seed: %v", err)
	}
	s, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "0.0.0.0:0", StoreDir: t.TempDir(), NkeyFile: seed, User: "plaint", Password: "s3cret-pass"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown()
	for what, cfg := range map[string]plaintnats.ConnConfig{
		"no credentials": {URL: s.ClientURL()},
		"another nkey":   {URL: s.ClientURL(), NkeyFile: other},
	} {
		if c, err := plaintnats.Connect(cfg); err == nil {
			c.Close()
			t.Errorf("a client with %s got in", what)
		} else if !strings.Contains(strings.ToLower(err.Error()), "authorization") {
			t.Errorf("%s: %v", what, err)
		}
	}
	for what, cfg := range map[string]plaintnats.ConnConfig{
		"the nkey":     {URL: s.ClientURL(), NkeyFile: seed},
		"the password": {URL: s.ClientURL(), User: "plaint", Password: "s3cret-pass"},
	} {
		c, err := plaintnats.Connect(cfg)
		if err != nil {
			t.Errorf("with %s: %v", what, err)
			continue
		}
		c.Close()
	}
	if _, err := plaintnats.Connect(plaintnats.ConnConfig{URL: s.ClientURL(), NkeyFile: seed, User: "plaint"}); !errors.Is(err, plaintnats.ErrConfig) {
		t.Errorf("an nkey and a user: %v", err)
	}
}

package nats_test

import (
	"errors"
	"path/filepath"
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
	if contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
}

func TestConnConfigValidateJoinsProblems(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.pem")
	cfg := plaintnats.ConnConfig{
		URL:       "http://example.com,nats://",
		CredsFile: missing,
		User:      "u",
		TLSCert:   missing,
		TLSCA:     missing,
	}
	err := cfg.Validate()
	if err == nil {
		t.Fatal("want an error")
	}
	for _, want := range []string{
		"scheme must be nats", "has no host", "mutually exclusive",
		"TLSCert and TLSKey", "CredsFile:", "TLSCA:",
	} {
		if !contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	ok := plaintnats.ConnConfig{URL: "nats://a:4222, tls://b:4222", User: "u", Password: "p"}
	if err := ok.Validate(); err != nil {
		t.Errorf("valid config rejected: %v", err)
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

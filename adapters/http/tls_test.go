package http

import (
	"context"
	"crypto/tls"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

// TestTLS: with a certificate and key the server speaks only HTTPS, and
// writes an https URL for commands.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testutil.SelfSignedCert(t, dir)
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	s, err := New(Config{Addr: "127.0.0.1:0", Log: l, DataDir: dir, TLSCert: certFile, TLSKey: keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	defer s.Shutdown(context.Background())
	u, _ := Discover("", "", dir)
	if want := "https://127.0.0.1:"; len(u) <= len(want) || u[:len(want)] != want {
		t.Fatalf("URL %s", u)
	}
	c, err := NewClient(u)
	if err != nil {
		t.Fatal(err)
	}
	c.CAHint = " (name the CA)"
	if _, err := c.Health(context.Background()); err == nil || !strings.HasSuffix(err.Error(), "(name the CA)") {
		t.Fatalf("a self-signed certificate without its CA: %v", err)
	}
	c.SetHTTPClient(&http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}})
	if h, err := c.Health(context.Background()); err != nil || h.Status != "ok" {
		t.Fatalf("health over TLS: %+v %v", h, err)
	}
	// TrustCAFile: the CA from its PEM file, as the CLI's --server-ca gives it.
	c2, _ := NewClient(u)
	if err := c2.TrustCAFile(certFile); err != nil {
		t.Fatal(err)
	}
	if h, err := c2.Health(context.Background()); err != nil || h.Status != "ok" {
		t.Fatalf("health over TLS with TrustCAFile: %+v %v", h, err)
	}
	if err := c2.TrustCAFile(keyFile); domain.ErrorCode(err) != domain.EINVALID {
		t.Errorf("a key file as CA: %v", err)
	}
	resp, err := http.Get("http://" + s.Addr() + "/healthz")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Error("plain HTTP answered on the TLS port")
		}
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", Log: l, TLSCert: certFile}); err == nil {
		t.Error("a certificate without a key was accepted")
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", Log: l, TLSCert: keyFile, TLSKey: keyFile}); err == nil {
		t.Error("a key as certificate was accepted")
	}
}

package main

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/internal/testutil"
)

// TestCommandsTrustServerCA: a command asking a server whose certificate is
// self-signed fails without --server-ca, saying to give it, and works with
// --server-ca or PLAINT_SERVER_CA.
func TestCommandsTrustServerCA(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := testutil.SelfSignedCert(t, dir)
	data := writeComplaints(t)
	s := spawnServer(t, data, "--tls-cert", certFile, "--tls-key", keyFile)
	s.hc = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	s.await(60*time.Second, 30*time.Second)
	if !strings.HasPrefix(s.http, "https://") {
		t.Fatalf("serve with --tls-cert printed %s", s.http)
	}
	code, _, errOut := runMain(t, "--server", s.http, "projection", "list")
	if code == 0 || !strings.Contains(errOut, "--server-ca") || !strings.Contains(errOut, "PLAINT_SERVER_CA") {
		t.Errorf("without the CA: exit %d\n%s", code, errOut)
	}
	if code, out, errOut := runMain(t, "--server", s.http, "--server-ca", certFile, "projection", "list"); code != 0 || !strings.Contains(out, "NAME") {
		t.Errorf("--server-ca: exit %d\n%s\n%s", code, out, errOut)
	}
	t.Setenv("PLAINT_SERVER_CA", certFile)
	if code, out, errOut := runMain(t, "--server", s.http, "projection", "list"); code != 0 || !strings.Contains(out, "NAME") {
		t.Errorf("PLAINT_SERVER_CA: exit %d\n%s\n%s", code, out, errOut)
	}
	if code, _, errOut := runMain(t, "--server", s.http, "--server-ca", keyFile, "projection", "list"); code != 2 || !strings.Contains(errOut, "--server-ca") {
		t.Errorf("a key as CA: exit %d\n%s", code, errOut)
	}
}

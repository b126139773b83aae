package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	plainthttp "github.com/plaint/plaint/adapters/http"
	"github.com/plaint/plaint/domain"
)

// The client side of the commands that ask a running server.

// errNoServer means nothing answers at --server.
var errNoServer = plainthttp.ErrNoServer

// client returns the HTTP client of the server at --server (or the one
// found in --data), made once per command.
func (g *Globals) client() (*plainthttp.Client, error) {
	if g.httpClient == nil {
		c, err := plainthttp.NewClient(g.Server)
		if err != nil {
			return nil, err
		}
		c.Token = g.Token
		c.Hint = " (pass --server with the address `plaint serve` printed after 'http:')"
		c.AuthHint = " (give a token of the server's --tokens file, with a role that may do this, in PLAINT_TOKEN or --token)"
		c.CAHint = " (give the CA certificate that signed the server's certificate with --server-ca or PLAINT_SERVER_CA)"
		if g.ServerCA != "" {
			if err := c.TrustCAFile(g.ServerCA); err != nil {
				return nil, fmt.Errorf("--server-ca: %w", err)
			}
		}
		g.httpClient = c
	}
	return g.httpClient, nil
}

// serverDo sends a request to the running server and returns the body of a
// 2xx answer, once the server is known to hold --data (see
// Globals.checkServer): every command that asks a server goes through it. A
// server error is returned as the *domain.Error it carries; no server at
// all as errNoServer.
func serverDo(g *Globals, method, path string, q url.Values, body []byte) ([]byte, error) {
	if err := g.checkServer(); err != nil {
		return nil, err
	}
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	return c.Do(g.Ctx, method, path, q, body)
}

// serverGet is serverDo for a GET.
func serverGet(g *Globals, path string, q url.Values) ([]byte, error) {
	return serverDo(g, http.MethodGet, path, q, nil)
}

// serverStream sends a GET and returns the open body of a 2xx answer for
// large downloads (backups); the caller closes it.
func serverStream(g *Globals, path string) (io.ReadCloser, error) {
	if err := g.checkServer(); err != nil {
		return nil, err
	}
	c, err := g.client()
	if err != nil {
		return nil, err
	}
	p, q, _ := strings.Cut(path, "?")
	v, err := url.ParseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	return c.Stream(g.Ctx, p, v)
}

// writeIndentedJSON writes v as indented JSON.
func writeIndentedJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// serverCheck is the outcome of Globals.checkServer.
type serverCheck struct{ err error }

// serverOnly reports whether --server was given without --data: the
// command uses that server and never reads ./data.
func (g *Globals) serverOnly() bool { return g.ServerSet && !g.DataSet }

// checkServer checks, once per command, that the server at --server may
// answer for --data: it must serve the same directory when --data was given
// (or the default ./data holds a log), or it would answer from another data
// set. It returns nil when the server may answer; errNoServer when none
// answers (the command may read --data itself, but with --server alone
// openLogOffline refuses to read ./data); and an EUNAVAILABLE error naming
// the directory the server holds when it holds another.
func (g *Globals) checkServer() error {
	if g.check == nil {
		g.check = &serverCheck{err: g.doCheckServer()}
	}
	return g.check.err
}

func (g *Globals) doCheckServer() error {
	c, err := g.client()
	if err != nil {
		return err
	}
	h, err := c.Health(g.Ctx)
	if err != nil {
		return err
	}
	if g.serverOnly() {
		return nil
	}
	if !g.DataSet {
		if _, err := os.Stat(logPath(g.Data)); err != nil {
			return nil // no --data and no ./data log: the server is the only data set
		}
	}
	if h.DataDir == "" || !samePath(h.DataDir, g.Data) {
		if g.serverFrom == filepath.Join(g.Data, plainthttp.URLFile) {
			// A URL file left by a server that did not stop cleanly, whose
			// port another server took since: no server holds --data.
			return fmt.Errorf("%w at %s, the URL %s holds (left by a server that stopped): the server there serves %s", errNoServer, g.Server, g.serverFrom, h.DataDir)
		}
		return &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf(
			"the server at %s serves %s, not %s: pass --server with the address of the server that holds %s, or --server alone to use this one",
			g.Server, h.DataDir, g.Data, g.Data)}
	}
	return nil
}

// serverHoldsData checks that the server at --server holds --data, before
// a command that found the data directory in use asks it instead.
func serverHoldsData(g *Globals) error { return g.checkServer() }

// samePath reports whether two paths name the same directory.
func samePath(a, b string) bool {
	ia, errA := os.Stat(a)
	ib, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(ia, ib)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

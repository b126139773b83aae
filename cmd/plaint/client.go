package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
)

// The client side of the commands that ask a running server.

var errNoServer = errors.New("no plaint server answers")

// serverDo sends a request to the running server and returns the body of a
// 2xx answer, once the server is known to hold --data (see
// Globals.checkServer): every command that asks a server goes through it. A
// server error is returned as the *domain.Error it carries; no server at
// all as errNoServer.
func serverDo(g *Globals, method, path string, q url.Values, body []byte) ([]byte, error) {
	if err := g.checkServer(); err != nil {
		return nil, err
	}
	return rawServerDo(g, method, path, q, body)
}

// rawServerDo is serverDo without the check.
func rawServerDo(g *Globals, method, path string, q url.Values, body []byte) ([]byte, error) {
	u, err := url.Parse(strings.TrimRight(g.Server, "/") + path)
	if err != nil || u.Host == "" {
		return nil, domain.FieldErrorf("server", "%q is not a URL", g.Server)
	}
	if q != nil {
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(g.Ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	client := &http.Client{Timeout: 10 * time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		var op *net.OpError
		if errors.As(err, &op) && op.Op == "dial" {
			return nil, fmt.Errorf("%w at %s (pass --server with the address `plaint serve` printed after 'http:'): %w", errNoServer, g.Server, err)
		}
		return nil, fmt.Errorf("ask %s: %w", g.Server, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read answer from %s: %w", g.Server, err)
	}
	if resp.StatusCode/100 == 2 {
		return b, nil
	}
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error.Code != "" {
		return nil, &domain.Error{Code: e.Error.Code, Message: e.Error.Message}
	}
	return nil, fmt.Errorf("%s %s: %s", method, path, resp.Status)
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
	u, err := url.Parse(strings.TrimRight(g.Server, "/") + path)
	if err != nil || u.Host == "" {
		return nil, domain.FieldErrorf("server", "%q is not a URL", g.Server)
	}
	req, err := http.NewRequestWithContext(g.Ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", path, err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (pass --server with the address `plaint serve` printed after 'http:'): %w", errNoServer, g.Server, err)
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return resp.Body, nil
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
	b, err := rawServerDo(g, http.MethodGet, "/healthz", nil, nil)
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
	var h struct {
		Data string `json:"data_dir"`
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return fmt.Errorf("health answer from %s: %w", g.Server, err)
	}
	if h.Data == "" || !samePath(h.Data, g.Data) {
		return &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf(
			"the server at %s serves %s, not %s: pass --server with the address of the server that holds %s, or --server alone to use this one",
			g.Server, h.Data, g.Data, g.Data)}
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

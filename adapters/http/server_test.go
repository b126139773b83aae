package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
	"github.com/prometheus/client_golang/prometheus"
)

// logLines collects a server's log lines; its goroutines write them.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.lines = append(l.lines, string(p))
	l.mu.Unlock()
	return len(p), nil
}

func (l *logLines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "")
}

// testServer is a server over a real bbolt log (holding evs) and a real
// projection engine, with its log lines in logs.
type testServer struct {
	*httptest.Server
	srv  *Server
	log  *eventstore.Log
	logs *logLines
	reg  *prometheus.Registry
	doc  *docRouter // every answer is checked against /openapi.json
}

// newTestServer starts one; edit changes the configuration first.
func newTestServer(t *testing.T, evs []domain.Event, edit func(*Config)) *testServer {
	t.Helper()
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	if len(evs) > 0 {
		if _, err := l.Append(evs...); err != nil {
			t.Fatal(err)
		}
	}
	e, err := projections.Open(l, filepath.Join(dir, "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	ts := &testServer{log: l, logs: &logLines{}, reg: prometheus.NewRegistry()}
	cfg := Config{Log: l, Projections: e, Registry: ts.reg, Logger: slog.New(slog.NewTextHandler(ts.logs, nil))}
	if edit != nil {
		edit(&cfg)
	}
	if ts.srv, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	ts.doc = newDocRouter(t)
	ts.Server = httptest.NewServer(ts.srv.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// do sends a request and returns the status, headers and body.
func (ts *testServer) do(t *testing.T, method, path, contentType string, body []byte, header ...string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp := send(t, req, header)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ts.doc.checkResponse(t, req, resp.StatusCode, resp.Header, b)
	return resp.StatusCode, resp.Header, string(b)
}

// wantError checks that an answer is the JSON error object with the status and code.
func wantError(t *testing.T, what string, status int, h http.Header, body string, wantStatus int, wantCode string) {
	t.Helper()
	var e struct {
		Error ErrorBody `json:"error"`
	}
	if status != wantStatus || !strings.HasPrefix(h.Get("Content-Type"), "application/json") ||
		json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != wantCode || e.Error.Message == "" {
		t.Errorf("%s: %d %s %q, want %d with code %s", what, status, h.Get("Content-Type"), body, wantStatus, wantCode)
	}
}

// send sets the header (name, value, name, value, ...) on req and sends
// it; the caller closes the body.
func send(t *testing.T, req *http.Request, header []string) *http.Response {
	t.Helper()
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// fullConfig gives the server every optional part, so that it registers
// every route.
func fullConfig(c *Config) {
	c.Forget = echoForgetter{}
	c.DLQ = emptyDLQ{}
	c.Publish = (&published{}).publish
	c.Alerts = alerts.NewFeed()
	c.AlertBand = detectorBand(c.Projections.(*projections.Engine))
}

// detectorBand is the server's AlertBand: the detector's projection on e
// (registered at the first question), as plaint serve wires it.
func detectorBand(e *projections.Engine) AlertBand {
	return func(ctx context.Context, q alerts.BandQuery) (*alerts.Band, error) {
		def, err := alerts.Definition(alerts.Params{})
		if err != nil {
			return nil, err
		}
		if _, err := e.Ensure(alerts.Name, def); err != nil {
			return nil, err
		}
		return alerts.ReadBand(ctx, e, q)
	}
}

// emptyDLQ is a dead-letter stream that holds nothing.
type emptyDLQ struct{}

func (emptyDLQ) List(context.Context, string, time.Time, int) (any, error) {
	return []any{}, nil // as the NATS dead-letter stream lists them: a list of objects
}

func (emptyDLQ) Show(_ context.Context, id uint64) (any, error) {
	return nil, domain.Errorf(domain.ENOTFOUND, "no dead letter %d", id)
}

func (emptyDLQ) Replay(context.Context, string, []uint64, map[uint64][]byte) (any, error) {
	return map[string]any{"replayed": []any{}}, nil
}

// published records what POST /v1/events handed to Publish.
type published struct {
	mu   sync.Mutex
	msgs []Message
	err  error // returned by Publish when set
}

func (p *published) publish(_ context.Context, msgs []Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.msgs = append(p.msgs, msgs...)
	return nil
}

func (p *published) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.msgs)
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o600) }

// head sends a GET and returns the status and headers, and the body of an
// error only: a 200 is an answer that does not end (an event stream).
func (ts *testServer) head(t *testing.T, path string, header ...string) (int, http.Header, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", ts.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp := send(t, req, header)
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return resp.StatusCode, resp.Header, ""
	}
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

// Package http is plaint's HTTP API: health, stats, Prometheus metrics,
// backups, the event tail, trends and projections.
package http

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// Config configures the HTTP server.
type Config struct {
	// Addr is the listen address. Default 127.0.0.1:8080; port 0 picks one.
	Addr string
	// Log is the event log. Required.
	Log EventLog
	// Ready reports whether the engine can serve (nil error) — for /readyz.
	Ready func() error
	// Ingest returns the ingest counters shown in /v1/stats; may be nil.
	Ingest func() any
	// NodeID names the plaint node, reported by /healthz and /v1/stats.
	NodeID string
	// Node returns the node's part of /v1/stats (its consumer and lag);
	// may be nil.
	Node func() any
	// Registry is where /metrics reads from; nil makes a new one.
	Registry *prometheus.Registry
	// Logger logs requests that fail; nil uses slog.Default.
	Logger *slog.Logger
	// Version is reported by /healthz.
	Version string
	// DataDir is the absolute data directory, reported by /healthz so that
	// clients can tell which log a server holds. When set, Start writes the
	// server's URL into its URLFile and Shutdown removes it.
	DataDir string
	// Projections answers /v1/trends and /v1/projections; nil disables them.
	Projections ProjectionEngine
	// DLQ answers /v1/dlq; nil disables it.
	DLQ DeadLetters
	// Forget answers POST /v1/customers/{id}/forget; nil disables it.
	Forget Forgetter
	// Publish publishes the events of POST /v1/events to NATS; nil
	// disables the route.
	Publish Publish
	// Tokens are the bearer tokens and their roles; nil leaves every route
	// open (a loopback server without --tokens).
	Tokens *Tokens
	// TLSCert and TLSKey, when both set, make the server speak HTTPS.
	TLSCert, TLSKey string
	// MaxBody bounds every request body in bytes (413 beyond it). Default 1 MiB.
	MaxBody int64
	// Alerts answers GET /v1/alerts and /v1/alerts/stream; nil disables them.
	Alerts AlertFeed
	// AlertBand answers GET /v1/alerts/band (with Alerts); nil disables it.
	AlertBand AlertBand
}

// EventLog is what the server reads of the event log: its counters, a
// consistent copy, a check of every record, and views of its records for
// the event tail. *eventstore.Log implements it.
type EventLog interface {
	Stats() (eventstore.Stats, error)
	Backup(w io.Writer) (int64, error)
	Verify(ctx context.Context, progress func(done, total uint64)) (eventstore.VerifyReport, error)
	ViewRecords(fn func(eventstore.RecordView) error) error
}

var _ EventLog = (*eventstore.Log)(nil)

func (c *Config) setDefaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:8080"
	}
	if c.Registry == nil {
		c.Registry = prometheus.NewRegistry()
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Ready == nil {
		c.Ready = func() error { return nil }
	}
	if c.MaxBody <= 0 {
		c.MaxBody = DefaultMaxBody
	}
}

// DefaultMaxBody is Config.MaxBody's default.
const DefaultMaxBody = 1 << 20

// Validate returns every problem with the configuration, joined.
func (c *Config) Validate() error {
	var errs []error
	if c.Log == nil {
		errs = append(errs, errors.New("http: Log is required"))
	}
	host, _, err := net.SplitHostPort(c.Addr)
	if err != nil {
		errs = append(errs, fmt.Errorf("http: listen address %q: %w", c.Addr, err))
	} else if c.Tokens == nil && !IsLoopback(host) {
		errs = append(errs, domain.Errorf(domain.EINVALID, "http: %s is not a loopback address, and without tokens anyone who reaches it could read every complaint: "+
			"write a tokens file (one \"ROLE TOKEN\" a line, roles read, ingest and admin; openssl rand -hex 32 makes a token) and pass --tokens FILE, or listen on 127.0.0.1", c.Addr))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, domain.Errorf(domain.EINVALID, "http: TLS needs both a certificate and a key (--tls-cert and --tls-key)"))
	}
	return errors.Join(errs...)
}

// Server is the HTTP API.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	handler http.Handler    // the middleware chain around mux
	routes  []Route         // every route, in registration order
	roles   map[string]Role // the role each pattern needs
	metrics *httpMetrics
	srv     *http.Server
	ln      net.Listener
	url     string // written into the data directory's URLFile at Start
	start   time.Time
}

// New builds the server; Start listens.
func New(cfg Config) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, mux: http.NewServeMux(), roles: map[string]Role{}, start: time.Now()}
	m, err := newHTTPMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.metrics = m
	if err := s.register(); err != nil {
		return nil, err
	}
	s.handler = Chain(http.HandlerFunc(s.dispatch), s.recoverPanics, s.identify, s.measure, s.accessLog, s.authorize, s.limitBody)
	s.srv = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	if cfg.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "http: TLS certificate and key: %v", err)
		}
		s.srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	return s, nil
}

// IsLoopback reports whether a listen host is a loopback address
// (127.0.0.0/8, ::1 or localhost); "" and 0.0.0.0 listen everywhere.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Handler returns the server's handler (the middleware chain and the
// routes), for tests that use httptest.
func (s *Server) Handler() http.Handler { return s.handler }

func (s *Server) register() error {
	s.handle("GET /healthz", RolePublic, s.handleHealth)
	s.handle("GET /readyz", RolePublic, s.handleReady)
	s.handle("GET /v1/stats", RoleRead, s.handleStats)
	s.handle("GET /v1/backup", RoleAdmin, s.handleBackup)
	s.handle("GET /v1/events", RoleRead, s.handleEvents)
	s.handle("POST /v1/verify", RoleAdmin, s.handleVerify)
	s.handle("GET /metrics", RoleRead, promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{Registry: s.cfg.Registry}).ServeHTTP)
	s.registerProjectionRoutes()
	s.registerReviewRoutes()
	s.registerDLQRoutes()
	s.registerForgetRoutes()
	s.registerAlertRoutes()
	s.registerDashboardRoutes()
	s.registerIngestRoute()
	s.registerSessionRoutes()
	return s.registerOpenAPIRoute()
}

// Start listens on the configured address and serves in the background.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("http listen %s: %w", s.cfg.Addr, err)
	}
	if s.srv.TLSConfig != nil {
		ln = tls.NewListener(ln, s.srv.TLSConfig.Clone())
	}
	s.ln = ln
	if s.cfg.DataDir != "" {
		s.url = s.URL()
		if err := writeURLFile(s.cfg.DataDir, s.url); err != nil {
			ln.Close()
			return err
		}
	}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.cfg.Logger.Error("http server stopped", "err", err)
		}
	}()
	return nil
}

// Addr returns the address the server listens on (after Start).
func (s *Server) Addr() string {
	if s.ln == nil {
		return s.cfg.Addr
	}
	return s.ln.Addr().String()
}

// URL returns the URL clients on this machine reach the server at (after Start).
func (s *Server) URL() string { return ListenURL(s.Addr(), s.cfg.TLSCert != "") }

// Shutdown stops accepting requests, waits for those in progress and
// removes the URL file it wrote in the data directory.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if s.url != "" {
		err = errors.Join(err, removeURLFile(s.cfg.DataDir, s.url))
	}
	return err
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "version": s.cfg.Version, "data_dir": s.cfg.DataDir,
		"node_id": s.cfg.NodeID, "uptime_seconds": int(time.Since(s.start).Seconds())})
}

func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Ready(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "not ready", "reason": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ready"})
}

func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	st, err := s.cfg.Log.Stats()
	if err != nil {
		s.error(w, r, err)
		return
	}
	out := map[string]any{
		"events": st.Events, "duplicates": st.Duplicates, "dead_lettered": st.DeadLettered,
		"last_seq": st.LastSeq, "log": st,
	}
	if s.cfg.Ingest != nil {
		out["ingest"] = s.cfg.Ingest()
	}
	out["node_id"] = s.cfg.NodeID
	if s.cfg.Node != nil {
		out["node"] = s.cfg.Node()
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleBackup(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="events.db"`)
	if _, err := s.cfg.Log.Backup(w); err != nil {
		// Headers are gone; abort the response so the client sees a broken body.
		s.cfg.Logger.Error("backup failed", "err", err)
		panic(http.ErrAbortHandler)
	}
}

// writeJSON writes v as indented JSON with the status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

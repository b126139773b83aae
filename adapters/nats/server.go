// Package nats connects plaint to NATS: the embedded server, JetStream stream
// and consumer setup, and the publisher used by `plaint emit`.
package nats

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerConfig configures the embedded NATS server.
type ServerConfig struct {
	// Listen is host:port; port 0 picks a free port. Default 127.0.0.1:4222.
	Listen string
	// StoreDir holds JetStream's files. Required.
	StoreDir string
	// ServerName names the server in logs and cluster views. Default "plaint".
	ServerName string
	// MaxStore bounds JetStream file storage in bytes; 0 means NATS's default.
	MaxStore int64
	// ReadyTimeout bounds the wait for the server to accept clients. Default 10s.
	ReadyTimeout time.Duration
	// Logs turns on the server's own log lines (to stderr).
	Logs bool
}

func (c *ServerConfig) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:4222"
	}
	if c.ServerName == "" {
		c.ServerName = "plaint"
	}
	if c.ReadyTimeout == 0 {
		c.ReadyTimeout = 10 * time.Second
	}
}

// Validate returns every problem with the configuration, joined.
func (c *ServerConfig) Validate() error {
	var errs []error
	if c.StoreDir == "" {
		errs = append(errs, errors.New("nats: StoreDir is required"))
	}
	if _, _, err := splitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("nats: listen address %q: %w", c.Listen, err))
	}
	return errors.Join(errs...)
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	return host, port, nil
}

// Server is a running embedded NATS server with JetStream.
type Server struct {
	ns *server.Server
}

// StartServer starts an in-process NATS server with JetStream file storage in
// cfg.StoreDir and waits until it accepts clients.
func StartServer(cfg ServerConfig) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, port, _ := splitHostPort(cfg.Listen)
	if port == 0 {
		port = server.RANDOM_PORT
	} else {
		// Say at once when the port is taken, instead of waiting for a
		// server that never becomes ready.
		ln, err := net.Listen("tcp", cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("start nats: cannot listen on %s (another plaint or NATS server?): %w", cfg.Listen, err)
		}
		ln.Close()
	}
	opts := &server.Options{
		ServerName:            cfg.ServerName,
		Host:                  host,
		Port:                  port,
		JetStream:             true,
		StoreDir:              cfg.StoreDir,
		JetStreamMaxStore:     cfg.MaxStore,
		NoSigs:                true,
		NoLog:                 !cfg.Logs,
		MaxPayload:            1 << 20,
		DisableShortFirstPing: true,
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	if cfg.Logs {
		ns.ConfigureLogger()
	}
	ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("start nats on %s: not ready after %s (is the port in use?)", cfg.Listen, cfg.ReadyTimeout)
	}
	return &Server{ns: ns}, nil
}

// ClientURL returns the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

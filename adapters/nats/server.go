// Package nats connects plaint to NATS: the embedded server, JetStream stream
// and consumer setup, and the publisher used by `plaint emit`.
package nats

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/plaint/plaint/eventstore"

	"github.com/plaint/plaint/internal/problems"
)

// ServerConfig configures the embedded NATS server.
type ServerConfig struct {
	// Listen is host:port; port 0 picks a free port. Default 127.0.0.1:4222.
	Listen string
	// StoreDir holds JetStream's files. Required.
	StoreDir string
	// ServerName names the server in logs and cluster views. Default "plaint".
	ServerName string
	// MaxStore bounds JetStream file storage in bytes. 0 sets it from the
	// disk holding StoreDir: StoreShare of the file system's size (not of
	// its free space at start, which is what nats-server would take, so
	// that a start on a nearly full disk does not leave JetStream too
	// small once space returns).
	MaxStore int64
	// StoreShare is the share of the file system's size MaxStore 0 gives
	// JetStream. Default 0.75.
	StoreShare float64
	// ReadyTimeout bounds the wait for the server to accept clients. Default 10s.
	ReadyTimeout time.Duration
	// Logs turns on the server's own log lines (to stderr).
	Logs bool
	// User and Password, when set, are the one account clients must
	// authenticate as. A Listen address that is not loopback requires them
	// or NkeyFile: an exposed server lets nobody in without credentials.
	User, Password string
	// NkeyFile, when set, is a user nkey seed file (`nk -gen user`): the
	// server lets in the client that signs its challenge with that seed
	// (ConnConfig.NkeyFile), as well as the User when one is set. The
	// server keeps only the public key.
	NkeyFile string
}

func (c *ServerConfig) setDefaults() {
	c.Listen = cmp.Or(c.Listen, "127.0.0.1:4222")
	c.ServerName = cmp.Or(c.ServerName, "plaint")
	c.ReadyTimeout = cmp.Or(c.ReadyTimeout, 10*time.Second)
	c.StoreShare = cmp.Or(c.StoreShare, 0.75)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *ServerConfig) Validate() error {
	var errs []error
	if c.StoreDir == "" {
		errs = append(errs, errors.New("StoreDir is required"))
	}
	if c.MaxStore < 0 {
		errs = append(errs, fmt.Errorf("MaxStore %d must not be negative", c.MaxStore))
	}
	if c.StoreShare < 0 || c.StoreShare > 1 {
		errs = append(errs, fmt.Errorf("StoreShare %g must be from 0 to 1", c.StoreShare))
	}
	if host, _, err := splitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) && (c.User == "" || c.Password == "") && c.NkeyFile == "" {
		errs = append(errs, fmt.Errorf("the embedded NATS server listens on %s, which is not a loopback address: give it credentials (--nats-user and --nats-password, or --nats-nkey-file, which clients then use too) or listen on 127.0.0.1", c.Listen))
	}
	if c.NkeyFile != "" {
		if _, err := nkeyPublic(c.NkeyFile); err != nil {
			errs = append(errs, err)
		}
	}
	if (c.User == "") != (c.Password == "") {
		errs = append(errs, errors.New("the embedded NATS server needs both a user and a password"))
	}
	return problems.Join(ErrConfig, errs)
}

// nkeyPublic returns the public key of the user nkey seed in file.
func nkeyPublic(file string) (string, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("nkey file: %w", err)
	}
	kp, err := nkeys.ParseDecoratedNKey(b)
	if err != nil {
		return "", fmt.Errorf("nkey file %s: not an nkey seed (make one with `nk -gen user`): %w", file, err)
	}
	defer kp.Wipe()
	pub, err := kp.PublicKey()
	if err != nil || !nkeys.IsValidPublicUserKey(pub) {
		return "", fmt.Errorf("nkey file %s: not a user nkey seed (SU...; make one with `nk -gen user`)", file)
	}
	return pub, nil
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
	ns       *server.Server
	cfg      ServerConfig
	maxStore int64
	watch    *storeWatch
}

// StartServer starts an in-process NATS server with JetStream file storage in
// cfg.StoreDir and waits until it accepts clients.
func StartServer(cfg ServerConfig) (*Server, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	maxStore := cfg.MaxStore
	if maxStore == 0 {
		if err := os.MkdirAll(cfg.StoreDir, 0o755); err != nil {
			return nil, fmt.Errorf("start nats: %w", err)
		}
		ds, err := eventstore.DiskSpaceOf(cfg.StoreDir)
		if err != nil {
			return nil, fmt.Errorf("start nats: set the JetStream store limit (pass one): %w", err)
		}
		maxStore = int64(float64(ds.Total) * cfg.StoreShare)
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
		JetStreamMaxStore:     maxStore,
		NoSigs:                true,
		NoLog:                 false,
		MaxPayload:            1 << 20,
		DisableShortFirstPing: true,
		Username:              cfg.User,
		Password:              cfg.Password,
	}
	if cfg.NkeyFile != "" {
		pub, err := nkeyPublic(cfg.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("start nats: %w", err)
		}
		opts.Nkeys = []*server.NkeyUser{{Nkey: pub}}
		if cfg.User != "" {
			// With nkey users the user and password must be a user of
			// the list too: the single-user options are not read then.
			opts.Users = []*server.User{{Username: cfg.User, Password: cfg.Password}}
			opts.Username, opts.Password = "", ""
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start nats: %w", err)
	}
	watch := &storeWatch{}
	if cfg.Logs {
		ns.ConfigureLogger()
		// Keep the server's own logger behind the watch.
		watch.next = ns.Logger()
	}
	ns.SetLoggerV2(watch, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(cfg.ReadyTimeout) {
		ns.Shutdown()
		return nil, fmt.Errorf("start nats on %s: not ready after %s (is the port in use?)", cfg.Listen, cfg.ReadyTimeout)
	}
	return &Server{ns: ns, cfg: cfg, maxStore: maxStore, watch: watch}, nil
}

// ClientURL returns the nats:// URL clients connect to.
func (s *Server) ClientURL() string { return s.ns.ClientURL() }

// Shutdown stops the server and waits for it to finish.
func (s *Server) Shutdown() {
	s.ns.Shutdown()
	s.ns.WaitForShutdown()
}

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	plainthttp "github.com/plaint/plaint/adapters/http"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
)

// ServeCmd runs the engine.
type ServeCmd struct {
	NATSFlags
	ProjectionFlags
	AlertFlags        `embed:"" prefix:"alert-" envprefix:"PLAINT_ALERT_" group:"Alerts"`
	NATSListen        string        `name:"nats-listen" help:"Address of the embedded NATS server (loopback by default; ignored with --nats-url)." default:"127.0.0.1:4222" env:"PLAINT_NATS_LISTEN"`
	HTTP              string        `name:"http" help:"Address of the HTTP API (health, stats, metrics, trends)." default:"127.0.0.1:8080" env:"PLAINT_HTTP"`
	Tokens            string        `name:"tokens" help:"Bearer tokens file: one \"ROLE TOKEN\" a line (roles read, ingest, admin; # comments), reloaded on SIGHUP. Required unless --http is a loopback address." env:"PLAINT_TOKENS_FILE" type:"path"`
	TLSCert           string        `name:"tls-cert" help:"TLS certificate file of the HTTP API (with --tls-key)." env:"PLAINT_TLS_CERT" type:"path"`
	TLSKey            string        `name:"tls-key" help:"TLS key file of the HTTP API (with --tls-cert)." env:"PLAINT_TLS_KEY" type:"path"`
	NodeID            string        `name:"node-id" help:"This node's name: it names the durable consumer and appears in /healthz, /v1/stats and the logs; each node of a cluster needs its own. Default: the host name." env:"PLAINT_NODE_ID"`
	Consumer          string        `help:"Durable JetStream consumer name, overriding the node id (default: the node id, or the consumer 'plaint' a directory made before node ids kept)." env:"PLAINT_CONSUMER"`
	ReadyLag          uint64        `name:"ready-lag" help:"/readyz answers 503 while the node's consumer has more events than this not stored yet (catching up), so that a load balancer asks current nodes only; 0: never." default:"10000" env:"PLAINT_READY_LAG"`
	Replicas          int           `help:"Stream replicas (3 on an R3 NATS cluster)." default:"1" env:"PLAINT_REPLICAS"`
	PullBatch         int           `name:"pull-batch" help:"JetStream messages asked for in one pull of the ingest, 1 to 8192: larger pulls make larger commits (the default drains ~5% faster than 2048) and cost memory (about 270 MiB more peak RSS end to end than 2048)." default:"8192" env:"PLAINT_PULL_BATCH"`
	StreamMaxAge      time.Duration `name:"stream-max-age" help:"How long PLAINT_EVENTS keeps events (0: no limit). With limits retention an event no node stored by then is dropped." default:"720h" env:"PLAINT_STREAM_MAX_AGE"`
	StreamRetention   string        `name:"stream-retention" help:"limits: a buffer of the last --stream-max-age; interest: keep each event until every node's consumer acknowledged it (safer, costs the NATS server ~6 CPU-µs per event)." enum:"limits,interest" default:"limits" env:"PLAINT_STREAM_RETENTION"`
	LogFormat         string        `name:"log-format" help:"Log line format." enum:"text,json" default:"text" env:"PLAINT_LOG_FORMAT"`
	LogLevel          string        `name:"log-level" help:"Least severe log level shown." enum:"debug,info,warn,error" default:"info" env:"PLAINT_LOG_LEVEL"`
	JetStreamMaxStore string        `name:"jetstream-max-store" help:"JetStream file store limit of the embedded NATS server (500MB, 20GiB...). Empty: 75% of the size of the disk holding --data (not of its free space)." env:"PLAINT_JETSTREAM_MAX_STORE"`
	DiskReserve       string        `name:"disk-reserve" help:"Free space on the data disk below which serve reports not ready (/readyz 503), and above which JetStream is restarted after a store write error; 5% of the disk when that is less." default:"64MiB" env:"PLAINT_DISK_RESERVE"`
	Fresh             bool          `help:"Start from events.db as it is although the directory's other files belong to another log (or say it had one): a missing or empty events.db becomes a new log, projections.db is rebuilt, and the consumer is made anew so that every event the stream holds is ingested again."`
}

// Validate checks the numeric flags: an explicit value that makes no sense
// is a usage error, never replaced by a default.
func (c *ServeCmd) Validate() error {
	if c.Replicas < 1 || c.Replicas > 5 {
		return fmt.Errorf("--replicas %d: must be from 1 to 5", c.Replicas)
	}
	if c.PullBatch < 1 || c.PullBatch > watermill.DefaultMaxInFlight {
		return fmt.Errorf("--pull-batch %d: must be from 1 to %d (the ingest's in-flight window)", c.PullBatch, watermill.DefaultMaxInFlight)
	}
	if c.JetStreamMaxStore != "" {
		n, err := parseSize(c.JetStreamMaxStore)
		if err != nil || n == 0 {
			return fmt.Errorf("--jetstream-max-store: %s must be a size above 0 (leave it empty for 75%% of the data disk)", c.JetStreamMaxStore)
		}
	}
	if _, err := parseSize(c.DiskReserve); err != nil {
		return fmt.Errorf("--disk-reserve: %w", err)
	}
	if err := c.validateNodeID(); err != nil {
		return err
	}
	if c.StreamMaxAge < 0 {
		return fmt.Errorf("--stream-max-age %s: must not be negative (0 means no limit)", c.StreamMaxAge)
	}
	return nil
}

// engine is everything serve starts, in the order it stops them (reversed).
type engine struct {
	logger    *slog.Logger
	log       *eventstore.Log
	committer *eventstore.Committer
	natsSrv   *plaintnats.Server
	nats      *plaintnats.Client
	http      *plainthttp.Server
	ingest    *watermill.Ingest
	closers   []func() error  // run in reverse on stop
	failed    <-chan struct{} // closed when a component stops on its own
	failure   func() error    // why it stopped
	reported  bool            // the failure was returned already
	consumer  string          // the durable consumer this node reads
	lease     *plaintnats.Lease
	readyLag  uint64 // --ready-lag
	// alertsDelivered is the number of the last event of the detector
	// known to be on the alerts stream (published by this node or, as its
	// claim says, by another): /v1/stats node.alerts_delivered.
	alertsDelivered atomic.Uint64
}

// Run starts the engine and blocks until the context is cancelled (SIGINT,
// SIGTERM), then drains in-flight work and closes the store.
func (c *ServeCmd) Run(g *Globals) error {
	logger := c.logger(g)
	e, err := c.start(g, logger)
	if err != nil {
		var stopErr error
		if e != nil {
			stopErr = e.stop()
		}
		// A stop asked for while serve still waited (for a cluster that is
		// starting, say) is a clean stop, not a failure to start.
		if g.Ctx.Err() != nil && errors.Is(err, context.Canceled) && stopErr == nil {
			logger.Info("stopped before it was ready", "waiting_for", err.Error())
			return nil
		}
		return err
	}
	select {
	case <-g.Ctx.Done():
		logger.Info("stopping: draining in-flight events")
		if err := e.stop(); err != nil {
			return err
		}
		logger.Info("stopped cleanly")
		return nil
	case <-e.failed:
		err := e.failure()
		e.reported = true
		logger.Error("stopping: a component failed", "err", err)
		return errors.Join(err, e.stop())
	}
}

func (c *ServeCmd) logger(g *Globals) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(g.Stderr, opts)).With("node", c.nodeID())
	}
	return slog.New(slog.NewTextHandler(g.Stderr, opts)).With("node", c.nodeID())
}

func (c *ServeCmd) start(g *Globals, logger *slog.Logger) (*engine, error) {
	e := &engine{logger: logger}
	if err := os.MkdirAll(g.Data, 0o755); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	// Opening a large log after a crash rebuilds the deduplication set from
	// every record (seconds at ten million events): say what is going on,
	// without pushing the banner below log lines for small logs.
	level := slog.LevelDebug
	if fi, err := os.Stat(logPath(g.Data)); err == nil && fi.Size() > 100<<20 {
		level = slog.LevelInfo
	}
	logger.Log(g.Ctx, level, "opening the event log", "path", logPath(g.Data))
	opened := time.Now()
	openOpts, err := c.logOpenOptions(g.Data)
	if err != nil {
		return nil, err
	}
	l, err := eventstore.Open(logPath(g.Data), openOpts...)
	if errors.Is(err, eventstore.ErrLocked) {
		return nil, &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf("another plaint server is using %s; stop it or pass another --data", g.Data)}
	}
	if err != nil {
		return nil, err
	}
	logger.Log(g.Ctx, level, "event log open", "events", l.LastSeq(), "took", time.Since(opened).Round(time.Millisecond),
		"dedupe_keys", l.KeysLoaded())
	e.log = l
	e.closers = append(e.closers, l.Close)
	// A damaged projections store stops serve before anything is ingested.
	projPath := filepath.Join(g.Data, projectionsFile)
	if err := eventstore.CheckFile(projPath); err != nil {
		return e, fmt.Errorf("%w\n  %s holds only state derived from the event log: deleting it is safe (rm %s), and serve then rebuilds every projection from the log", err, projectionsFile, projPath)
	}
	if err := c.checkProjectionsIdentity(projPath, l.ID(), logger); err != nil {
		return e, err
	}

	// NATS: embedded unless an external URL is given.
	natsURL := c.NATSURL
	if natsURL == "" {
		maxStore, _ := parseSize(c.JetStreamMaxStore)
		srv, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: c.NATSListen, User: c.NATSUser, Password: c.NATSPassword, NkeyFile: c.NATSNkey, StoreDir: filepath.Join(g.Data, jetstreamDir), MaxStore: maxStore})
		if errors.Is(err, plaintnats.ErrConfig) {
			return e, domain.Errorf(domain.EINVALID, "%v", err)
		}
		if err != nil {
			return e, err
		}
		e.natsSrv = srv
		e.closers = append(e.closers, func() error { srv.Shutdown(); return nil })
		natsURL = srv.ClientURL()
	}
	client, err := c.dialNATS(g.Ctx, natsURL, logger)
	if err != nil {
		return e, err
	}
	e.nats = client
	e.closers = append(e.closers, func() error {
		// The server reads the last acks and naks before the connection
		// (and an embedded server) goes.
		if err := client.Close(); err != nil {
			e.logger.Warn("flushing acknowledgements to NATS failed", "err", err)
		}
		return nil
	})
	// On a cluster that is starting (or electing) JetStream does not answer
	// yet: every step waits for it, with a log line every few seconds.
	retry := plaintnats.Retry{Logger: logger}
	if err := c.takeConsumer(g, e, retry, client, l.ID(), logger); err != nil {
		return e, err
	}
	if err := retry.Do(g.Ctx, "check the consumer", func(ctx context.Context) error {
		return c.checkConsumerIdentity(ctx, client, l.ID(), logger)
	}); err != nil {
		return e, err
	}
	streams := plaintnats.StreamConfig{Consumer: c.Consumer, Replicas: c.Replicas, MaxAge: c.StreamMaxAge, Interest: c.StreamRetention == "interest", LogID: l.ID()}
	if err := retry.Do(g.Ctx, "create the streams and the consumer", func(ctx context.Context) error {
		return client.EnsureStreams(ctx, streams)
	}); err != nil {
		return e, err
	}
	if err := eventstore.StampFile(projPath, l.ID()); err != nil {
		return e, err
	}
	// Messages the last run received but did not acknowledge come back now,
	// not after the ack wait. An older server without the API only delays them.
	if err := retry.Do(g.Ctx, "reset the consumer", func(ctx context.Context) error {
		return client.ResetConsumer(ctx, c.Consumer)
	}); err != nil {
		logger.Warn("unacknowledged messages of the last run will be redelivered after the ack wait", "err", err)
	}

	appends := newAppendMetrics()
	e.committer = eventstore.NewCommitter(l, eventstore.WithBatchHook(appends.observe))
	e.closers = append(e.closers, func() error { e.committer.Close(); return nil })

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerLogMetrics(reg, l)
	reg.MustRegister(appends.size, appends.seconds)
	ingestStats, err := c.startIngest(g, e, reg)
	if err != nil {
		return e, err
	}
	e.watchLease()
	if e.natsSrv != nil {
		rctx, rstop := context.WithCancel(context.Background())
		rdone := make(chan struct{})
		go func() { defer close(rdone); e.recoverJetStream(rctx, g.Data, c.reserve(), logger) }()
		e.closers = append(e.closers, func() error { rstop(); <-rdone; return nil })
	}

	// Projections: built-in trends and analysts' specs, kept live.
	pe, err := projections.Open(l, projPath, append(c.ProjectionFlags.options(), projections.WithLogger(logger))...)
	if err != nil {
		return e, fmt.Errorf("%w\n  %s holds only state derived from the event log: deleting it is safe (rm %s), and serve then rebuilds every projection from the log", err, projectionsFile, projPath)
	}
	reg.MustRegister(newProjectionMetrics(l, pe))
	peDone := make(chan error, 1)
	peCtx, peStop := context.WithCancel(context.Background())
	go func() { peDone <- pe.Run(peCtx) }()
	e.closers = append(e.closers, func() error {
		peStop()
		<-peDone
		return pe.Close()
	})

	alertFeed, err := c.startAlerts(g.Ctx, e, pe, client, streams, logger)
	if err != nil {
		return e, err
	}

	absData, err := filepath.Abs(g.Data)
	if err != nil {
		return e, fmt.Errorf("data directory: %w", err)
	}
	// After a clean stop the log's page check runs in the background
	// while the rest starts; a damaged log stops serve before it is ready.
	if err := l.Checked(); err != nil {
		return e, err
	}
	forget := &forgetter{log: l, proj: pe, streams: client}
	if e.natsSrv != nil {
		forget.storeDir = filepath.Join(g.Data, jetstreamDir)
	}
	tokens, err := c.loadTokens(e, logger)
	if err != nil {
		return e, err
	}
	hs, err := plainthttp.New(plainthttp.Config{Addr: c.HTTP, Tokens: tokens, TLSCert: c.TLSCert, TLSKey: c.TLSKey, Log: l, Registry: reg, Logger: logger, Version: versionString(), Projections: pe, DataDir: absData,
		DLQ: dlqService{client}, Forget: forget, Publish: httpPublish(client), Alerts: alertFeed, AlertBand: detectorBand(pe),
		Ingest: ingestStats, Ready: func() error { return e.ready(g.Data, c.reserve()) },
		NodeID: c.nodeID(), Node: e.nodeStats})
	if err != nil {
		return e, err
	}
	if err := hs.Start(); err != nil {
		return e, err
	}
	e.http = hs
	e.closers = append(e.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return hs.Shutdown(ctx)
	})

	abs, _ := filepath.Abs(g.Data)
	natsWhere := natsURL + " (embedded, JetStream in " + filepath.Join(abs, jetstreamDir) + ")"
	if c.NATSURL != "" {
		natsWhere = redact(natsURL) + " (external)"
	}
	scheme := "http"
	if c.TLSCert != "" {
		scheme = "https"
	}
	fmt.Fprintf(g.Stdout, "plaint %s serving\n  nats: %s\n  http: %s://%s\n  data: %s (log %s, %d events)\n",
		versionString(), natsWhere, scheme, hs.Addr(), abs, logFile, l.LastSeq())
	logger.Info("ready", "nats", redact(natsURL), "http", hs.Addr(), "data", abs, "last_seq", l.LastSeq(), "pull_batch", c.PullBatch)
	return e, nil
}

// stop shuts everything down in reverse start order and returns the first error.
func (e *engine) stop() error {
	var errs []error
	for i := len(e.closers) - 1; i >= 0; i-- {
		if err := e.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// redact hides passwords in NATS URLs.
func redact(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j >= 0 && j < i {
			return u[:j+3] + "***@" + u[i+1:]
		}
	}
	return u
}

// registerLogMetrics exposes the log's counters to Prometheus, read at scrape time.
func registerLogMetrics(reg *prometheus.Registry, l *eventstore.Log) {
	stat := func(f func(eventstore.Stats) float64) func() float64 {
		return func() float64 {
			st, err := l.Stats()
			if err != nil {
				return 0
			}
			return f(st)
		}
	}
	reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "plaint_log_events_total", Help: "Events stored in the log."},
			stat(func(s eventstore.Stats) float64 { return float64(s.Events) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "plaint_log_duplicates_total", Help: "Events dropped as duplicates of a stored (source, id)."},
			stat(func(s eventstore.Stats) float64 { return float64(s.Duplicates) })),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "plaint_dead_lettered_total", Help: "Messages sent to the dead-letter stream."},
			stat(func(s eventstore.Stats) float64 { return float64(s.DeadLettered) })),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "plaint_log_last_seq", Help: "Sequence of the last stored event."},
			func() float64 { return float64(l.LastSeq()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "plaint_log_file_bytes", Help: "Size of the event log file."},
			stat(func(s eventstore.Stats) float64 { return float64(s.FileBytes) })),
	)
}

package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/domain"
)

// Client is plaint's connection to a NATS server or cluster, with its
// JetStream context. Every connection plaint makes is a Client, and every
// stream, consumer and dead-letter operation is one of its methods: the
// other packages get what they need from it (the ingest a consumer handle
// and a dead-letter function, the HTTP API a dead-letter service) and never
// name a stream or a subject themselves. It is safe for concurrent use.
type Client struct {
	nc *nats.Conn
	js jetstream.JetStream
}

// Connect connects to NATS. The connection reconnects for ever (a plaint
// server outlives restarts of its NATS cluster) and buffers what is
// published while disconnected. Close releases it.
func Connect(cfg ConnConfig) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := []nats.Option{
		nats.Name(cfg.Name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(cfg.ReconnectWait),
		nats.ReconnectBufSize(cfg.ReconnectBufSize),
		nats.Timeout(5 * time.Second),
	}
	if cfg.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(cfg.CredsFile))
	}
	if cfg.User != "" {
		opts = append(opts, nats.UserInfo(cfg.User, cfg.Password))
	}
	if cfg.NkeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(cfg.NkeyFile)
		if err != nil {
			return nil, fmt.Errorf("%w: NkeyFile: %v", ErrConfig, err)
		}
		opts = append(opts, o)
	}
	if cfg.TLSCA != "" {
		opts = append(opts, nats.RootCAs(cfg.TLSCA))
	}
	if cfg.TLSCert != "" {
		opts = append(opts, nats.ClientCert(cfg.TLSCert, cfg.TLSKey))
	}
	nc, err := nats.Connect(cfg.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to nats %s: %w", redactURL(cfg.URL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("nats: jetstream context: %w", err)
	}
	return &Client{nc: nc, js: js}, nil
}

// closeFlushTimeout bounds how long Close waits for the server to read what
// was published last.
const closeFlushTimeout = 5 * time.Second

// Close makes sure the server has read what was published last (the last
// acknowledgements and negative acknowledgements: a lost nak leaves its
// message waiting for the ack wait before it is redelivered), then closes
// the connection. It returns the flush's error, if any; the connection is
// closed either way. It is idempotent.
func (c *Client) Close() error {
	if c.nc.IsClosed() {
		return nil
	}
	var err error
	if c.nc.IsConnected() {
		if ferr := c.nc.FlushTimeout(closeFlushTimeout); ferr != nil {
			err = fmt.Errorf("nats: flush before close: %w", ferr)
		}
	}
	c.nc.Close()
	return err
}

// Flush returns once the server has read everything published on the
// connection so far (acknowledgements are published asynchronously), or
// ctx ends. The ingest calls it when it stops.
func (c *Client) Flush(ctx context.Context) error {
	if c.nc.IsClosed() {
		return nats.ErrConnectionClosed
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeFlushTimeout)
		defer cancel()
	}
	if err := c.nc.FlushWithContext(ctx); err != nil {
		return fmt.Errorf("nats: flush: %w", err)
	}
	return nil
}

// Connected returns nil while the connection is up, or says what state it
// is in (reconnecting, closed...).
func (c *Client) Connected() error {
	if st := c.nc.Status(); st != nats.CONNECTED {
		return fmt.Errorf("nats connection is %s", st)
	}
	return nil
}

// ConnectedURL returns the URL of the server the client is connected to,
// without a password.
func (c *Client) ConnectedURL() string { return c.nc.ConnectedUrlRedacted() }

// CheckEventsStream fails early, before anything is published, when no
// stream captures plaint's event subjects: a wrapped ErrNoStream when the
// server has JetStream but not the stream, another error when JetStream
// does not answer.
func (c *Client) CheckEventsStream(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	subject := domain.TypeComplaintFiled.Subject()
	if _, err := c.js.StreamNameBySubject(ctx, subject); err != nil {
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("no JetStream stream captures %s on %s (`plaint serve` creates %s): %w", subject, c.ConnectedURL(), EventsStream, err)
		}
		return fmt.Errorf("JetStream is not available on %s: %w", c.ConnectedURL(), err)
	}
	return nil
}

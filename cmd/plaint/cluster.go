package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// dialNATS connects serve to NATS. An external cluster that does not answer
// yet (every piece of a deployment starts at once) is waited for, with a
// log line every few seconds, until the start is cancelled; the embedded
// server answers at once or not at all.
func (c *ServeCmd) dialNATS(ctx context.Context, url string, logger *slog.Logger) (*plaintnats.Client, error) {
	if c.NATSURL == "" {
		return c.NATSFlags.dial(url, "plaint serve")
	}
	var client *plaintnats.Client
	r := plaintnats.Retry{Logger: logger, Transient: func(err error) bool { return domain.ErrorCode(err) == domain.EUNAVAILABLE }}
	err := r.Do(ctx, "connect to "+redact(url), func(context.Context) (err error) {
		client, err = c.NATSFlags.dial(url, "plaint serve")
		return err
	})
	return client, err
}

// leaseTTL is how long a node's lease on its consumer outlives the node.
const leaseTTL = 15 * time.Second

var nodeIDForm = regexp.MustCompile(`^[A-Za-z0-9][-_A-Za-z0-9]*$`)

// validateNodeID checks an explicit --node-id: it names a JetStream
// consumer and a KV key.
func (c *ServeCmd) validateNodeID() error {
	if c.NodeID != "" && !nodeIDForm.MatchString(c.NodeID) {
		return fmt.Errorf("--node-id %q: use letters, digits, '-' and '_' (it names the node's JetStream consumer)", c.NodeID)
	}
	return nil
}

// nodeID returns --node-id, or the host name with every character a
// consumer name cannot hold replaced by '-'.
func (c *ServeCmd) nodeID() string {
	if c.NodeID != "" {
		return c.NodeID
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "plaint"
	}
	id := regexp.MustCompile(`[^-_A-Za-z0-9]`).ReplaceAllString(host, "-")
	if !nodeIDForm.MatchString(id) {
		id = "n" + id
	}
	c.NodeID = id
	return id
}

// takeConsumer chooses the node's durable consumer (--consumer, else the
// node id; a directory whose log the consumer 'plaint' feeds, made before
// node ids, keeps it) and takes its lease: a consumer another live node
// reads is refused (exit 4), one an earlier run of this node left is taken
// over at once. The lease is renewed while serve runs and released when it
// stops.
func (c *ServeCmd) takeConsumer(g *Globals, e *engine, retry plaintnats.Retry, client *plaintnats.Client, logID string, logger *slog.Logger) error {
	if c.Consumer == "" {
		c.Consumer = c.nodeID()
		err := retry.Do(g.Ctx, "look up the consumers", func(ctx context.Context) error {
			own, err := client.ConsumerLogID(ctx, c.nodeID())
			if err != nil || own != "" {
				return err
			}
			legacy, err := client.ConsumerLogID(ctx, plaintnats.DefaultConsumer)
			if err == nil && legacy == logID {
				c.Consumer = plaintnats.DefaultConsumer
				logger.Info("keeping the consumer this data directory was fed by before node ids; --consumer chooses another", "consumer", c.Consumer)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	e.consumer, e.readyLag = c.Consumer, c.ReadyLag
	abs, _ := filepath.Abs(g.Data)
	host, _ := os.Hostname()
	cfg := plaintnats.LeaseConfig{Consumer: c.Consumer, TTL: leaseTTL, Replicas: c.Replicas, Logger: logger,
		Holder: plaintnats.LeaseHolder{NodeID: c.nodeID(), Host: host, PID: os.Getpid(), DataDir: abs, LogID: logID, Since: time.Now().UTC()}}
	var lease *plaintnats.Lease
	err := retry.Do(g.Ctx, "take the consumer's lease", func(context.Context) (err error) {
		// The wait for another holder's lease takes longer than an attempt.
		lease, err = client.AcquireLease(g.Ctx, cfg)
		return err
	})
	if errors.Is(err, plaintnats.ErrLeaseHeld) {
		return domain.Errorf(domain.EUNAVAILABLE, "%v: two nodes on one consumer would split the stream between them, each log missing what the other took; give this node its own --node-id (or --consumer), or stop the other node", err)
	}
	if err != nil {
		return err
	}
	e.lease = lease
	e.closers = append(e.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := lease.Release(ctx); err != nil {
			logger.Warn("the consumer's lease was not released; the next start waits for it to expire", "err", err)
		}
		return nil
	})
	logger.Info("consumer taken", "consumer", c.Consumer)
	return nil
}

// watchLease makes the loss of the consumer's lease to another node stop
// serve, like a failed ingest: two nodes must not go on sharing it.
func (e *engine) watchLease() {
	if e.lease == nil {
		return
	}
	ingestFailed, ingestFailure := e.failed, e.failure
	failed := make(chan struct{})
	var why func() error
	go func() {
		select {
		case <-ingestFailed:
			why = ingestFailure
		case <-e.lease.Lost():
			why = func() error { return fmt.Errorf("consumer %s: %w", e.consumer, e.lease.Err()) }
		}
		close(failed)
	}()
	e.failed, e.failure = failed, func() error { return why() }
}

// nodeStats is the node's part of /v1/stats: its consumer, its lag, the
// last stream sequence its log holds an event of, and how far its
// detector's alert events are known to be on the alerts stream.
func (e *engine) nodeStats() any {
	out := map[string]any{"consumer": e.consumer, "alerts_delivered": e.alertsDelivered.Load()}
	// How far the log holds the stream: the largest as_of=stream:N it answers.
	_ = e.log.View(func(s *eventstore.Snapshot) error {
		out["stream_seq"] = s.LastStreamSeq()
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if n, err := e.nats.ConsumerPending(ctx, e.consumer); err == nil {
		out["lag"] = n
	} else {
		out["lag_error"] = err.Error()
	}
	return out
}

// lagging says whether the node is still catching up: more than
// --ready-lag events of the stream not stored yet. A lag that cannot be
// read now (the cluster electing a leader) is no reason to leave the load
// balancer.
func (e *engine) lagging() error {
	if e.readyLag == 0 || e.nats == nil || e.consumer == "" {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	n, err := e.nats.ConsumerPending(ctx, e.consumer)
	if err != nil || n <= e.readyLag {
		return nil
	}
	return fmt.Errorf("catching up: %d events of the stream not stored yet (more than --ready-lag %d)", n, e.readyLag)
}

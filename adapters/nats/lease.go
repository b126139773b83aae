package nats

import (
	"bytes"
	"cmp"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/internal/problems"
)

// NodesBucket is the KV bucket holding a lease per durable consumer: the
// live plaint node that reads it.
const NodesBucket = "PLAINT_NODES"

// LeaseHolder says which plaint node holds a lease; it is the lease's value.
type LeaseHolder struct {
	NodeID  string    `json:"node_id"`
	Host    string    `json:"host"`
	PID     int       `json:"pid"`
	DataDir string    `json:"data_dir"`
	LogID   string    `json:"log_id"`
	Since   time.Time `json:"since"`
}

func (h LeaseHolder) String() string {
	return fmt.Sprintf("node %s on host %s (pid %d, data %s, since %s)", h.NodeID, h.Host, h.PID, h.DataDir, h.Since.UTC().Format(time.RFC3339))
}

// predecessorOf reports whether h is an earlier run of the node holding
// me: same host, data directory and log. The event log's file lock lets
// one process at a time hold a data directory, so that run is over (it was
// killed before it could release the lease).
func (h LeaseHolder) predecessorOf(me LeaseHolder) bool {
	return h.Host == me.Host && h.DataDir == me.DataDir && h.LogID == me.LogID
}

// LeaseConfig configures AcquireLease.
type LeaseConfig struct {
	// Consumer is the durable consumer the lease is for. Required.
	Consumer string
	// Holder is this node, stored as the lease's value.
	Holder LeaseHolder
	// TTL is how long a lease outlives its holder's last renewal; the
	// holder renews it every TTL/3. Default 15s.
	TTL time.Duration
	// Replicas is the bucket's replication factor. Default 1.
	Replicas int
	// Logger gets the lease's waits and losses; nil logs nothing.
	Logger *slog.Logger
}

func (c *LeaseConfig) setDefaults() {
	c.TTL = cmp.Or(c.TTL, 15*time.Second)
	c.Replicas = cmp.Or(c.Replicas, 1)
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (c *LeaseConfig) Validate() error {
	var errs []error
	if c.Consumer == "" {
		errs = append(errs, errors.New("lease: the Consumer is required"))
	}
	if c.TTL < 0 {
		errs = append(errs, fmt.Errorf("lease: TTL %s must not be negative", c.TTL))
	}
	if c.Replicas < 0 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("lease: Replicas is %d; it must be from 1 to 5", c.Replicas))
	}
	return problems.Join(ErrConfig, errs)
}

// Lease is a held lease on a consumer, renewed until Release.
type Lease struct {
	kv     jetstream.KeyValue
	key    string
	value  []byte
	ttl    time.Duration
	logger *slog.Logger

	mu   sync.Mutex
	rev  uint64
	lost error

	lostCh chan struct{}
	stop   chan struct{}
	done   chan struct{}
}

var kvKeyOK = regexp.MustCompile(`^[-_=A-Za-z0-9]+$`)

// kvKey is the KV key of name (a consumer, an alert event id): name itself
// when it is a valid key, else "x" and its hex.
func kvKey(name string) string {
	if kvKeyOK.MatchString(name) && name[0] != 'x' {
		return name
	}
	return "x" + hex.EncodeToString([]byte(name))
}

// AcquireLease takes the lease on cfg.Consumer in NodesBucket and keeps
// renewing it. A lease left by an earlier run of this node (same host,
// data directory and log) is taken over at once; one held by another node
// is waited on for one TTL: if it is renewed meanwhile its holder is alive
// and AcquireLease fails with ErrLeaseHeld, else it expires and is taken.
// Errors of a cluster that is not ready are returned as they are (callers
// retry them, see Retry).
func (c *Client) AcquireLease(ctx context.Context, cfg LeaseConfig) (*Lease, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      NodesBucket,
		Description: "plaint: the live node reading each durable consumer (a lease renewed every TTL/3)",
		TTL:         cfg.TTL,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    cfg.Replicas,
	})
	if err != nil {
		return nil, fmt.Errorf("lease bucket %s: %w", NodesBucket, err)
	}
	value, err := json.Marshal(cfg.Holder)
	if err != nil {
		return nil, err
	}
	l := &Lease{kv: kv, key: kvKey(cfg.Consumer), value: value, ttl: cfg.TTL, logger: cfg.Logger,
		lostCh: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	var watched uint64 // the revision of another holder's lease being waited on
	var deadline time.Time
	for {
		rev, err := kv.Create(ctx, l.key, value)
		if err == nil {
			l.rev = rev
			break
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return nil, fmt.Errorf("lease on consumer %s: %w", cfg.Consumer, err)
		}
		entry, err := kv.Get(ctx, l.key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired or released just now
		}
		if err != nil {
			return nil, fmt.Errorf("lease on consumer %s: %w", cfg.Consumer, err)
		}
		var holder LeaseHolder
		_ = json.Unmarshal(entry.Value(), &holder)
		if holder.predecessorOf(cfg.Holder) {
			rev, err := kv.Update(ctx, l.key, value, entry.Revision())
			if err != nil {
				continue // renewed or taken meanwhile: look again
			}
			l.rev = rev
			break
		}
		switch {
		case watched == 0:
			watched, deadline = entry.Revision(), time.Now().Add(cfg.TTL+cfg.TTL/2)
			if l.logger != nil {
				l.logger.Warn("the consumer's lease is held by another node; waiting one lease TTL to see whether it is alive",
					"consumer", cfg.Consumer, "holder", holder.String(), "ttl", cfg.TTL.String())
			}
		case entry.Revision() != watched:
			return nil, fmt.Errorf("%w: consumer %s is read by %s, which renewed its lease just now", ErrLeaseHeld, cfg.Consumer, holder)
		case time.Now().After(deadline):
			return nil, fmt.Errorf("%w: consumer %s: the lease of %s did not expire after %s", ErrLeaseHeld, cfg.Consumer, holder, cfg.TTL+cfg.TTL/2)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(cfg.TTL / 10):
		}
	}
	go l.renew()
	return l, nil
}

// renew updates the lease every TTL/3 until Release. A renewal refused
// because another node holds the lease loses it (Lost); other failures
// (the cluster electing, a lost connection) are retried. A lease found at
// a later revision with this node's own value (a renewal stored whose
// answer was lost) is still this node's.
func (l *Lease) renew() {
	defer close(l.done)
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), l.ttl/3)
		err := l.renewOnce(ctx)
		cancel()
		if errors.Is(err, ErrLeaseHeld) {
			l.mu.Lock()
			l.lost = err
			l.mu.Unlock()
			close(l.lostCh)
			return
		}
		if err != nil && l.logger != nil {
			l.logger.Warn("renewing the consumer's lease failed; retrying", "err", err)
		}
	}
}

func (l *Lease) renewOnce(ctx context.Context) error {
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	next, err := l.kv.Update(ctx, l.key, l.value, rev)
	if err != nil && Transient(err) && !isWrongSequence(err) {
		return err
	}
	if err != nil {
		// Not ours any more, or expired while the cluster was away: take it
		// again if nobody else did.
		next, err = l.kv.Create(ctx, l.key, l.value)
		if errors.Is(err, jetstream.ErrKeyExists) {
			e, gerr := l.kv.Get(ctx, l.key)
			if gerr != nil {
				return fmt.Errorf("the lease moved on; read it: %w", gerr)
			}
			if bytes.Equal(e.Value(), l.value) {
				// Our own value at a later revision: a renewal whose answer
				// was lost (it timed out while the cluster elected a
				// leader) was stored. The lease is ours: renew from there.
				next, err = l.kv.Update(ctx, l.key, l.value, e.Revision())
				if err != nil {
					return err
				}
			} else {
				holder := "another node"
				var h LeaseHolder
				if json.Unmarshal(e.Value(), &h) == nil {
					holder = h.String()
				}
				return fmt.Errorf("%w: the lease was taken by %s", ErrLeaseHeld, holder)
			}
		} else if err != nil {
			return err
		}
	}
	l.mu.Lock()
	l.rev = next
	l.mu.Unlock()
	return nil
}

func isWrongSequence(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}

// Lost is closed when the lease was lost to another node.
func (l *Lease) Lost() <-chan struct{} { return l.lostCh }

// Err says why the lease was lost, nil while it is held.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// Release stops renewing and deletes the lease if this node still holds
// it, so that the next node on the consumer need not wait for it to
// expire. It is idempotent.
func (l *Lease) Release(ctx context.Context) error {
	select {
	case <-l.stop:
		return nil
	default:
		close(l.stop)
	}
	<-l.done
	if l.Err() != nil {
		return nil
	}
	l.mu.Lock()
	rev := l.rev
	l.mu.Unlock()
	if err := l.kv.Delete(ctx, l.key, jetstream.LastRevision(rev)); err != nil && !isWrongSequence(err) {
		return fmt.Errorf("release the lease %s: %w", l.key, err)
	}
	return nil
}

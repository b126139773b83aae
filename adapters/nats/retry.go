package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/internal/problems"
)

// Retry configures how Client.Retry waits for a NATS cluster whose
// JetStream is not ready: just started (no meta leader yet, peers still
// unknown), electing a leader after a server died, or unreachable for a
// while.
type Retry struct {
	// Logger gets a line every LogEvery while an operation keeps failing;
	// nil logs nothing.
	Logger *slog.Logger
	// LogEvery is the least time between two log lines of one operation.
	// Default 5s.
	LogEvery time.Duration
	// MinBackoff and MaxBackoff bound the pause between attempts, which
	// doubles from MinBackoff after each failure. Default 250ms and 5s.
	MinBackoff, MaxBackoff time.Duration
	// AttemptTimeout bounds one attempt (a request to a leaderless cluster
	// may get no answer at all). Default 10s.
	AttemptTimeout time.Duration
	// Transient says which errors are retried. Default the package's
	// Transient.
	Transient func(error) bool
}

func (r *Retry) setDefaults() {
	r.LogEvery = cmp.Or(r.LogEvery, 5*time.Second)
	r.MinBackoff = cmp.Or(r.MinBackoff, 250*time.Millisecond)
	r.MaxBackoff = cmp.Or(r.MaxBackoff, 5*time.Second)
	r.AttemptTimeout = cmp.Or(r.AttemptTimeout, 10*time.Second)
	if r.Transient == nil {
		r.Transient = Transient
	}
}

// Validate returns ErrConfig with every problem with the configuration,
// joined, or nil.
func (r *Retry) Validate() error {
	var errs []error
	if r.LogEvery < 0 || r.MinBackoff < 0 || r.AttemptTimeout < 0 {
		errs = append(errs, errors.New("retry: LogEvery, MinBackoff and AttemptTimeout must not be negative"))
	}
	if r.MaxBackoff < r.MinBackoff {
		errs = append(errs, fmt.Errorf("retry: MaxBackoff %s is below MinBackoff %s", r.MaxBackoff, r.MinBackoff))
	}
	return problems.Join(ErrConfig, errs)
}

// Do runs fn until it succeeds, fails with an error that is not
// transient (r.Transient), or ctx ends; it waits with backoff between attempts and logs
// what it is waiting for (what names the operation) every LogEvery. Each
// attempt gets a context bounded by AttemptTimeout. It returns nil, fn's
// permanent error, or ctx's error joined with the last failure.
func (r Retry) Do(ctx context.Context, what string, fn func(context.Context) error) error {
	r.setDefaults()
	if err := r.Validate(); err != nil {
		return err
	}
	start := time.Now()
	var logged time.Time
	wait := r.MinBackoff
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, r.AttemptTimeout)
		err := fn(actx)
		cancel()
		if err == nil {
			if attempt > 1 && r.Logger != nil {
				r.Logger.Info("NATS is ready: "+what+" succeeded", "attempts", attempt, "waited", time.Since(start).Round(time.Millisecond).String())
			}
			return nil
		}
		if ctx.Err() != nil {
			return errors.Join(ctx.Err(), err)
		}
		if !r.Transient(err) {
			return err
		}
		if r.Logger != nil && time.Since(logged) >= r.LogEvery {
			r.Logger.Warn("waiting for NATS: "+what+" failed; retrying", "err", err,
				"attempts", attempt, "waited", time.Since(start).Round(time.Second).String())
			logged = time.Now()
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-time.After(wait):
		}
		wait = min(2*wait, r.MaxBackoff)
	}
}

// permanentAPIErrors are the JetStream API error codes that retrying
// cannot cure: a configuration the server refuses.
var permanentAPIErrors = map[jetstream.ErrorCode]bool{
	10003: true, // bad request
	10052: true, // invalid stream configuration
	10065: true, // subjects overlap with an existing stream
	10074: true, // replicas > 1 not supported in non-clustered mode
	10027: true, // maximum number of streams reached
	10026: true, // maximum number of consumers reached
	10113: true, // the account requires a stream to set max bytes
}

// Transient reports whether err may go away by itself while a cluster
// forms, elects leaders or reconnects: timeouts, no responders, a lost
// connection, and every JetStream API error but a refused configuration
// (JetStream temporarily unavailable, insufficient resources or no peers
// for the replicas while servers are still joining, a stream or consumer
// made at the same moment by another node).
func Transient(err error) bool {
	if err == nil {
		return false
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		return !permanentAPIErrors[apiErr.ErrorCode]
	}
	return unanswered(err) || errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, nats.ErrNoServers) || errors.Is(err, nats.ErrConnectionClosed)
}

// unanswered reports whether err says a request got no answer in time or
// the connection dropped under it: what both Transient and a publish retry.
func unanswered(err error) bool {
	switch {
	case errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders),
		errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionReconnecting),
		errors.Is(err, nats.ErrDisconnected),
		errors.Is(err, nats.ErrStaleConnection):
		return true
	}
	return false
}

// WaitJetStream returns once the JetStream API answers (AccountInfo
// succeeds: a cluster without a meta leader answers with an error, which a
// connection check alone does not see), retrying as r says, or when ctx
// ends.
func (c *Client) WaitJetStream(ctx context.Context, r Retry) error {
	return r.Do(ctx, "JetStream account info", func(ctx context.Context) error {
		_, err := c.js.AccountInfo(ctx)
		return err
	})
}

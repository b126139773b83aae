package watermill

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go/jetstream"
)

// DefaultHealEvery is the default of Healing.Every.
const DefaultHealEvery = 3

// Names of the rungs of the healing ladder, as Healing.Step gets them.
const (
	HealInspect   = "inspect"
	HealStepDown  = "stepdown"
	HealReconnect = "reconnect"
)

// healTimeout bounds each rung's request to the server.
const healTimeout = 5 * time.Second

// Healing is what the Subscriber does when its pulls keep missing their
// heartbeats with no delivery in between, while the consumer exists: a
// pull that nobody serves. The pull iterator makes a new pull after each
// miss (see resilientIter), which is enough after a JetStream restart or a
// server's death, but not when the consumer's leader serves no pull, or
// the server the connection is on routes them nowhere (nats-server issue
// #5679 and its like; a 100,586-event run of TestClusterFailover saw a
// node miss every heartbeat for 4.5 minutes). Every Every misses in a row
// it climbs one rung, in this order, and starts again at the first:
//
//  1. inspect: the consumer's info, fetched from the server (its leader,
//     replicas, pending, waiting pulls), is logged;
//  2. stepdown: StepDown asks the consumer's leader to step down, for the
//     cluster to elect another replica, which serves pulls anew;
//  3. reconnect: Reconnect makes the connection reconnect, to another
//     server of the cluster, where the pulls are routed anew.
//
// Each rung is logged as an error and counted (Step). No rung moves the
// consumer: what a new leader or a new server delivers is checked as every
// delivery is (a skipped consumer sequence rewinds the consumer to its ack
// floor, see SubscriberConfig.Rewind), so the log keeps the stream's order
// and nothing is stored twice. The zero value inspects only.
type Healing struct {
	// Every is the number of heartbeats missed in a row, with no delivery
	// between them, from one rung to the next. Misses more than a minute
	// apart are not in a row. Default DefaultHealEvery (with 1 s
	// heartbeats, a miss every 2.1 s: the first rung after ~6 s).
	Every int
	// StepDown asks the consumer's leader to step down
	// (adapters/nats.Client.StepDownConsumer); nil skips the rung.
	StepDown func(ctx context.Context) error
	// Reconnect makes the consumer's connection reconnect, to the next
	// server (adapters/nats.Client.Reconnect); nil skips the rung.
	Reconnect func() error
	// Server, when set, returns the server the connection is on, for the
	// log lines (adapters/nats.Client.ConnectedURL).
	Server func() string
	// Missed, when set, is called for every heartbeat missed, and Step for
	// every rung climbed, with its name (HealInspect, HealStepDown,
	// HealReconnect), for metrics.
	Missed func()
	Step   func(step string)
}

func (h *Healing) setDefaults() { h.Every = cmp.Or(h.Every, DefaultHealEvery) }

// missesInARow bounds the time between two misses that count as in a row.
const missesInARow = time.Minute

// healer returns the function the pull iterator calls after each missed
// heartbeat, with the misses in a row: it climbs the ladder of h on the
// consumer cons of topic.
func (s *Subscriber) healer(topic string, cons jetstream.Consumer) func(ctx context.Context, misses int) {
	h := s.cfg.Heal
	return func(ctx context.Context, misses int) {
		if h.Missed != nil {
			h.Missed()
		}
		if misses < h.Every || misses%h.Every != 0 {
			return
		}
		fields := wm.LogFields{"topic": topic, "misses": misses}
		if h.Server != nil {
			fields["server"] = h.Server()
		}
		why := fmt.Errorf("%d pull heartbeats missed in a row, no delivery", misses)
		step := []string{HealInspect, HealStepDown, HealReconnect}[(misses/h.Every-1)%3]
		var err error
		switch step {
		case HealInspect:
			var info *jetstream.ConsumerInfo
			if info, err = cons.Info(ctx); err == nil {
				describeConsumer(fields, info)
			}
		case HealStepDown:
			if h.StepDown == nil {
				return
			}
			err = h.StepDown(ctx)
		case HealReconnect:
			if h.Reconnect == nil {
				return
			}
			err = h.Reconnect()
		}
		if h.Step != nil {
			h.Step(step)
		}
		fields["step"] = step
		if err != nil {
			fields["step_error"] = err.Error()
		}
		s.cfg.Logger.Error(healMessages[step], why, fields)
	}
}

// healMessages are the log lines of the rungs.
var healMessages = map[string]string{
	HealInspect:   "Pulls keep missing their heartbeats: the consumer as the server sees it",
	HealStepDown:  "Pulls keep missing their heartbeats: asked the consumer's leader to step down",
	HealReconnect: "Pulls keep missing their heartbeats: reconnecting to another NATS server",
}

// describeConsumer adds to fields where the consumer stands: its leader
// and replicas, positions, pending messages and waiting pulls.
func describeConsumer(fields wm.LogFields, info *jetstream.ConsumerInfo) {
	fields["num_pending"] = info.NumPending
	fields["num_ack_pending"] = info.NumAckPending
	fields["num_waiting"] = info.NumWaiting
	fields["delivered_consumer_seq"] = info.Delivered.Consumer
	fields["delivered_stream_seq"] = info.Delivered.Stream
	fields["ack_floor_stream_seq"] = info.AckFloor.Stream
	if ci := info.Cluster; ci != nil {
		fields["leader"] = ci.Leader
		var rs []string
		for _, r := range ci.Replicas {
			rs = append(rs, fmt.Sprintf("%s(current=%v lag=%d active=%s offline=%v)", r.Name, r.Current, r.Lag, r.Active.Round(time.Millisecond), r.Offline))
		}
		fields["replicas"] = strings.Join(rs, " ")
	}
}

// untilWoken returns a context that ends after timeout or once wake is
// closed.
func untilWoken(wake <-chan struct{}, timeout time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), timeout, errors.New("healing step timed out"))
	go func() {
		select {
		case <-wake:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

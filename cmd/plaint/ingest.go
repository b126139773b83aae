package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/watermill"
)

// startIngest starts the Watermill ingest router on the durable consumer,
// with Prometheus counters, and registers its graceful stop. It returns the
// function /v1/stats reads the ingest counters from.
func (c *ServeCmd) startIngest(g *Globals, e *engine, reg *prometheus.Registry) (func() any, error) {
	received := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_received_total", Help: "Messages taken from the events stream."})
	stored := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_stored_total", Help: "Events appended to the log by this process."})
	dups := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_duplicates_total", Help: "Events dropped as duplicates a producer sent again, by this process."})
	redelivered := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_redelivered_total", Help: "Redeliveries of events already stored (plaint's own retries, lost acks), acknowledged by this process."})
	dlq := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plaint_ingest_dead_lettered_total", Help: "Messages sent to the dead-letter stream, by reason."}, []string{"reason"})
	errs := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_errors_total", Help: "Failures of plaint itself; the message is redelivered."})
	missed := prometheus.NewCounter(prometheus.CounterOpts{Name: "plaint_ingest_pull_heartbeats_missed_total", Help: "Pull heartbeats missed (the pull is made anew); many in a row with no delivery climb the healing ladder."})
	healed := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "plaint_ingest_pull_heal_total", Help: "Rungs of the healing ladder climbed after pull heartbeats missed in a row: inspect, stepdown, reconnect."}, []string{"step"})
	reg.MustRegister(received, stored, dups, redelivered, dlq, errs, missed, healed)

	var looked watermill.Config // its Consumer, typed without naming nats.go here
	err := plaintnats.Retry{Logger: e.logger}.Do(g.Ctx, "look up the consumer", func(ctx context.Context) (err error) {
		looked.Consumer, err = e.nats.IngestConsumer(ctx, c.Consumer)
		return err
	})
	cons := looked.Consumer
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	in, err := watermill.New(watermill.Config{
		Consumer:   cons,
		PullBatch:  c.PullBatch,
		DeadLetter: e.nats.PublishDeadLetter,
		Flush:      e.nats.Flush,
		Store:      e.committer,
		// A lost delivery: what follows the ack floor comes again, in order.
		Rewind: func(ctx context.Context) error { return e.nats.ResetConsumer(ctx, c.Consumer) },
		Heal:   c.healing(e, missed.Inc, func(step string) { healed.WithLabelValues(step).Inc() }),
		Logger: e.logger,
		Hooks: watermill.Hooks{
			Received:     received.Inc,
			Stored:       stored.Inc,
			Duplicate:    dups.Inc,
			Redelivered:  redelivered.Inc,
			DeadLettered: func(reason string) { dlq.WithLabelValues(reason).Inc() },
			Error:        func(error) { errs.Inc() }, // the ingest logs them, rate limited
		},
	})
	if err != nil {
		return nil, err
	}
	e.ingest = in
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "plaint_ingest_in_flight", Help: "Messages being handled and not yet acknowledged."},
		func() float64 { return float64(in.Stats().InFlight) }))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "plaint_ingest_consumer_pending",
		Help: "Events in the stream this node has not stored yet (pending plus unacknowledged); with limits retention, alert long before they reach --stream-max-age."},
		func() float64 {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			n, err := e.nats.ConsumerPending(ctx, c.Consumer)
			if err != nil {
				return math.NaN()
			}
			return float64(n)
		}))
	done := make(chan error, 1)
	// The ingest stops through its closer, in the engine's stop order, not
	// on SIGTERM by itself: a stop that came first would look like a
	// failure to Run's select.
	go func() { done <- in.Run(context.WithoutCancel(g.Ctx)) }()
	select {
	case <-in.Running():
	case err := <-done:
		if err == nil {
			err = errors.New("stopped at start")
		}
		return nil, fmt.Errorf("ingest: %w", err)
	}
	// If the ingest ends on its own (its consumer deleted, say), serve must
	// not go on looking healthy: it stops with the error, for a supervisor
	// to restart it.
	var runErr error
	stopped := make(chan struct{})
	go func() {
		runErr = <-done
		close(stopped)
	}()
	e.failed = stopped
	e.failure = func() error {
		if runErr == nil {
			return errors.New("ingest stopped")
		}
		return fmt.Errorf("ingest stopped: %w", runErr)
	}
	e.closers = append(e.closers, func() error {
		if err := in.Close(); err != nil {
			return err
		}
		<-stopped
		if e.reported {
			return nil
		}
		return runErr
	})
	return func() any { return in.Stats() }, nil
}

// healing is the ladder the ingest climbs when its pulls keep missing their
// heartbeats (watermill.Healing): on an external server or cluster a
// step-down of the consumer's leader and a reconnect to another server; on
// the embedded server, which is the only one and whose consumer has no
// replicas, only the consumer's info is logged.
func (c *ServeCmd) healing(e *engine, missed func(), step func(string)) watermill.Healing {
	h := watermill.Healing{Server: e.nats.ConnectedURL, Missed: missed, Step: step}
	if e.natsSrv == nil {
		h.StepDown = func(ctx context.Context) error { return e.nats.StepDownConsumer(ctx, c.Consumer) }
		h.Reconnect = e.nats.Reconnect
	}
	return h
}

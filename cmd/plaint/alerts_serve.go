package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	plainthttp "github.com/plaint/plaint/adapters/http"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
)

// AlertFlags are the detector's settings (alerts.Params); changing them
// rebuilds the detector's projection.
type AlertFlags struct {
	Q            float64 `name:"q" help:"False discovery rate across the series judged together (Benjamini-Hochberg)." default:"0.05" env:"Q"`
	MinCount     float64 `name:"min-count" help:"Smallest count of a period that can raise an alert." default:"5" env:"MIN_COUNT"`
	Alpha        float64 `name:"alpha" help:"One-sided level of the Farrington bound, before the FDR correction." default:"0.05" env:"ALPHA"`
	ShortHistory string  `name:"short-history" help:"Rule for series with under a year of history (months: two years)." enum:"ears-c1,ears-c2,ears-c3,poisson-cusum" default:"ears-c2" env:"SHORT_HISTORY"`
}

// params returns the flags as detector parameters; bad values are a usage
// error.
func (f AlertFlags) params() (alerts.Params, error) {
	p := alerts.Params{Q: f.Q, MinCount: f.MinCount, Alpha: f.Alpha, ShortHistory: f.ShortHistory}
	if f.MinCount == 0 {
		p.MinCount = 1e-9 // an explicit 0: every count may alert (the zero value means the default)
	}
	if err := p.Validate(); err != nil {
		return p, domain.Errorf(domain.EINVALID, "%v", err)
	}
	return p, nil
}

// startAlerts keeps the detector's projection live and publishes its alert
// events on the alerts stream, resuming after the last one published. It
// returns the feed the HTTP API serves them from.
func (c *ServeCmd) startAlerts(ctx context.Context, e *engine, pe *projections.Engine, client *plaintnats.Client, streams plaintnats.StreamConfig, logger *slog.Logger) (*alerts.Feed, error) {
	p, err := c.AlertFlags.params()
	if err != nil {
		return nil, err
	}
	def, err := alerts.Definition(p)
	if err != nil {
		return nil, err
	}
	// As the other streams: on a cluster that is starting, wait for JetStream.
	retry := plaintnats.Retry{Logger: logger}
	if err := retry.Do(ctx, "create the alerts stream", func(ctx context.Context) error {
		return client.EnsureAlertsStream(ctx, streams)
	}); err != nil {
		return nil, err
	}
	var lastID string
	var lastSeq uint64
	var lastAt time.Time
	if err := retry.Do(ctx, "read the last published alert", func(ctx context.Context) (err error) {
		lastID, lastSeq, lastAt, err = client.LastAlert(ctx)
		return err
	}); err != nil {
		return nil, err
	}
	// One copy of each alert on the stream across every node: a KV claim per
	// alert event id (see plaintnats.AlertPublisher).
	var pub *plaintnats.AlertPublisher
	if err := retry.Do(ctx, "create the alert claims bucket", func(ctx context.Context) (err error) {
		pub, err = client.NewAlertPublisher(ctx, c.nodeID(), streams.Replicas)
		return err
	}); err != nil {
		return nil, err
	}
	feed := alerts.NewFeed()
	stopHook := pe.OnAdvance(alerts.Name, feed.Advance)
	if _, err := pe.Ensure(alerts.Name, def); err != nil {
		stopHook()
		return nil, fmt.Errorf("alerts: %w", err)
	}
	dctx, dstop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The events so far (a detector loaded from its saved state has no
		// advance to show until the log grows), then every advance.
		evs, err := alerts.Read(dctx, pe)
		if err != nil {
			if dctx.Err() == nil {
				logger.Error("the alert detector failed", "err", err)
			}
			return
		}
		feed.Set(evs)
		after := feed.Resume(lastID, lastSeq, lastAt.UnixNano())
		e.alertsDelivered.Store(after)
		logger.Info("publishing alerts", "stream", plaintnats.AlertsStream, "events", len(evs), "already_published", after)
		publish := func(ctx context.Context, ev alerts.Event) error {
			err := pub.Publish(ctx, ev)
			if err == nil {
				e.alertsDelivered.Store(ev.Seq) // on the stream, from this node or another
			}
			return err
		}
		alerts.Deliver(dctx, feed, after, publish, func(ev alerts.Event, err error) {
			logger.Warn("publishing an alert failed; retrying", "alert", ev.ID, "err", err)
		})
	}()
	e.closers = append(e.closers, func() error {
		dstop()
		<-done
		stopHook()
		return nil
	})
	return feed, nil
}

// detectorBand answers GET /v1/alerts/band from the detector's projection
// on pe, which startAlerts keeps live.
func detectorBand(pe *projections.Engine) plainthttp.AlertBand {
	return func(ctx context.Context, q alerts.BandQuery) (*alerts.Band, error) {
		return alerts.ReadBand(ctx, pe, q)
	}
}

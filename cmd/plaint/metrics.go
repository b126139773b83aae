package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
)

// appendMetrics are the histograms of the committer's batches.
type appendMetrics struct {
	size, seconds prometheus.Histogram
}

func newAppendMetrics() *appendMetrics {
	return &appendMetrics{
		size: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "plaint_append_batch_size",
			Help: "Events (and dead-letter counts) committed to the log in one batch.", Buckets: prometheus.ExponentialBuckets(1, 4, 8)}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "plaint_append_batch_seconds",
			Help: "Time to commit one batch to the log (fsync included).", Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12)}),
	}
}

// observe is the committer's batch hook.
func (m *appendMetrics) observe(size int, took time.Duration) {
	m.size.Observe(float64(size))
	m.seconds.Observe(took.Seconds())
}

// projectionMetrics reports, at scrape time, how far each projection is
// behind the log, and the alerts raised so far.
type projectionMetrics struct {
	log    *eventstore.Log
	engine *projections.Engine
	lag    *prometheus.Desc
	alerts *prometheus.Desc
}

func newProjectionMetrics(l *eventstore.Log, pe *projections.Engine) *projectionMetrics {
	return &projectionMetrics{log: l, engine: pe,
		lag:    prometheus.NewDesc("plaint_projection_lag_events", "Events of the log a projection has not applied yet.", []string{"projection"}, nil),
		alerts: prometheus.NewDesc("plaint_alerts_raised_total", "Rising-issue alerts raised (alert.raised events in the log).", nil, nil),
	}
}

// Describe sends the metrics' descriptions.
func (m *projectionMetrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.lag
	ch <- m.alerts
}

// Collect reads the projections' positions and the log's counters.
func (m *projectionMetrics) Collect(ch chan<- prometheus.Metric) {
	for _, st := range m.engine.List() {
		lag := uint64(0)
		if st.LastSeq > st.Checkpoint {
			lag = st.LastSeq - st.Checkpoint
		}
		ch <- prometheus.MustNewConstMetric(m.lag, prometheus.GaugeValue, float64(lag), st.Name)
	}
	raised := 0.0
	if st, err := m.log.Stats(); err == nil {
		raised = float64(st.ByType[domain.TypeAlertRaised.String()])
	}
	ch <- prometheus.MustNewConstMetric(m.alerts, prometheus.CounterValue, raised)
}

package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/projections/alerts"
)

// The alerts' JetStream stream and subjects: a subject tree of their own,
// not plaint.events.* (which the events stream captures and whose ingest
// rejects alert types from outside).
const (
	// AlertsStream keeps every published alert event.
	AlertsStream = "PLAINT_ALERTS"
	// AlertsSubjects is the subject filter of AlertsStream.
	AlertsSubjects = "plaint.alerts.>"
	// AlertsSubjectPrefix prefixes an alert's subject; its category follows.
	AlertsSubjectPrefix = "plaint.alerts."
	// HeaderAlertSeq carries the alert event's number in the detector's
	// projection (alerts.Event.Seq), by which a restarted publisher resumes.
	HeaderAlertSeq = "Plaint-Alert-Seq"
)

// AlertsStreamConfig returns the configuration EnsureAlertsStream gives
// AlertsStream: file storage, limits retention (kept for MaxAge, default
// none), the replicas of the other streams.
func AlertsStreamConfig(cfg StreamConfig) jetstream.StreamConfig {
	return cfg.stream(AlertsStream, "plaint: rising-issue alerts (alert.raised, alert.updated, alert.cleared CloudEvents 1.0 JSON)", AlertsSubjects)
}

// EnsureAlertsStream creates AlertsStream, or updates it to cfg.
func (c *Client) EnsureAlertsStream(ctx context.Context, cfg StreamConfig) error {
	cfg.setDefaults()
	sc := AlertsStreamConfig(cfg)
	if _, err := c.js.CreateOrUpdateStream(ctx, sc); err != nil {
		return fmt.Errorf("ensure stream %s: %w", sc.Name, err)
	}
	return nil
}

// AlertSubject is the subject of an alert on category: plaint.alerts.<category>.
func AlertSubject(category string) string {
	if category == "" {
		category = "unknown"
	}
	return AlertsSubjectPrefix + strings.Map(func(r rune) rune {
		switch r {
		case '.', '*', '>', ' ', '\t', '\r', '\n':
			return '_'
		}
		return r
	}, category)
}

// PublishAlert publishes ev to AlertsStream as its CloudEvents JSON, with
// Nats-Msg-Id the event id (a repeat within the duplicate window is
// dropped by the server) and HeaderAlertSeq, and waits for the ack.
func (c *Client) PublishAlert(ctx context.Context, ev alerts.Event) error {
	body, err := ev.CloudEvent()
	if err != nil {
		return fmt.Errorf("alert %s: %w", ev.ID, err)
	}
	m := nats.NewMsg(AlertSubject(ev.Category()))
	m.Data = body
	m.Header.Set(jetstream.MsgIDHeader, ev.ID)
	m.Header.Set(HeaderAlertSeq, strconv.FormatUint(ev.Seq, 10))
	m.Header.Set("Content-Type", "application/cloudevents+json")
	if _, err := c.js.PublishMsg(ctx, m, jetstream.WithExpectStream(AlertsStream)); err != nil {
		return fmt.Errorf("publish alert %s: %w", ev.ID, err)
	}
	return nil
}

// LastAlert returns the last alert event published to AlertsStream (its id,
// number and event time), or a zero id when there is none.
func (c *Client) LastAlert(ctx context.Context) (id string, seq uint64, at time.Time, err error) {
	s, err := c.js.Stream(ctx, AlertsStream)
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("stream %s: %w", AlertsStream, err)
	}
	m, err := s.GetLastMsgForSubject(ctx, AlertsSubjects)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return "", 0, time.Time{}, nil
	}
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("last alert on %s: %w", AlertsStream, err)
	}
	ev, err := alerts.ParseCloudEvent(m.Data)
	if err != nil {
		return "", 0, time.Time{}, fmt.Errorf("last alert on %s (stream sequence %d): %w", AlertsStream, m.Sequence, err)
	}
	seq, _ = strconv.ParseUint(m.Header.Get(HeaderAlertSeq), 10, 64)
	return ev.ID, seq, ev.Time, nil
}

// SubscribeAlerts calls fn with every alert event published from now on,
// as its CloudEvents JSON, until the returned stop is called.
func (c *Client) SubscribeAlerts(fn func(subject string, data []byte)) (stop func() error, err error) {
	sub, err := c.nc.Subscribe(AlertsSubjects, func(m *nats.Msg) { fn(m.Subject, m.Data) })
	if err != nil {
		return nil, fmt.Errorf("subscribe %s: %w", AlertsSubjects, err)
	}
	return sub.Unsubscribe, nil
}

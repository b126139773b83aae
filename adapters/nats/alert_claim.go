package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/projections/alerts"
)

// AlertClaimsBucket is the KV bucket holding one claim per published alert
// event: the durable record that makes AlertsStream carry each alert event
// once, however many nodes run the detector and however late one catches
// up (JetStream's duplicate window only covers the last few minutes).
const AlertClaimsBucket = "PLAINT_ALERT_CLAIMS"

// alertClaimStale is how long a claim may stay unpublished before another
// node takes it over (its claimer died between the claim and the publish).
// It is well inside the duplicate window, so that a claimer that was only
// slow and publishes after all is deduplicated by the server.
const alertClaimStale = 30 * time.Second

// alertClaim is a claim's value.
type alertClaim struct {
	Node      string    `json:"node"`
	Claimed   time.Time `json:"claimed"`
	Published bool      `json:"published"`
}

// AlertPublisher publishes alert events to AlertsStream once across every
// node sharing the cluster: a KV Create on the event's id in
// AlertClaimsBucket claims it (the second node gets ErrKeyExists and skips
// it), the claimer publishes and marks the claim published. A claim left
// unpublished longer than 30 s (its node died in between) is taken over,
// by compare-and-set, by one other node.
type AlertPublisher struct {
	client *Client
	node   string
	kv     jetstream.KeyValue
}

// NewAlertPublisher makes the claims bucket with replicas (the alert
// stream's) and returns the publisher of node.
func (c *Client) NewAlertPublisher(ctx context.Context, node string, replicas int) (*AlertPublisher, error) {
	kv, err := c.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket:      AlertClaimsBucket,
		Description: "plaint: one claim per alert event published on " + AlertsStream,
		History:     1,
		Storage:     jetstream.FileStorage,
		Replicas:    max(replicas, 1),
	})
	if err != nil {
		return nil, fmt.Errorf("alert claims bucket %s: %w", AlertClaimsBucket, err)
	}
	return &AlertPublisher{client: c, node: node, kv: kv}, nil
}

// Publish publishes ev unless another node has. While another node's
// claim is fresh and unpublished it returns an error, for the caller to
// retry (alerts.Deliver does) until that node marks it published or its
// claim goes stale. A node's own unpublished claim is from an earlier run
// that died (one node publishes its alerts one at a time): taken over.
func (p *AlertPublisher) Publish(ctx context.Context, ev alerts.Event) error {
	key := kvKey(ev.ID)
	mine, _ := json.Marshal(alertClaim{Node: p.node, Claimed: time.Now().UTC()})
	rev, err := p.kv.Create(ctx, key, mine)
	if errors.Is(err, jetstream.ErrKeyExists) {
		entry, gerr := p.kv.Get(ctx, key)
		if gerr != nil {
			return fmt.Errorf("alert claim %s: %w", ev.ID, gerr)
		}
		var c alertClaim
		_ = json.Unmarshal(entry.Value(), &c)
		if c.Published {
			return nil // published by another node, or an earlier run
		}
		if c.Node != p.node && time.Since(c.Claimed) < alertClaimStale {
			// Retried by the caller until it is published or stale.
			return fmt.Errorf("alert %s is being published by node %s (claimed at %s)", ev.ID, c.Node, c.Claimed.Format(time.RFC3339))
		}
		// Ours from an earlier run, or another node's that died in between.
		rev, err = p.kv.Update(ctx, key, mine, entry.Revision())
		if isWrongSequence(err) {
			return nil // another node took it over first
		}
	}
	if err != nil {
		return fmt.Errorf("alert claim %s: %w", ev.ID, err)
	}
	if err := p.client.PublishAlert(ctx, ev); err != nil {
		return err
	}
	done, _ := json.Marshal(alertClaim{Node: p.node, Claimed: time.Now().UTC(), Published: true})
	if _, err := p.kv.Update(ctx, key, done, rev); err != nil {
		// Published: a retry finds the claim ours and publishes again,
		// which the duplicate window drops.
		return fmt.Errorf("alert claim %s: mark published: %w", ev.ID, err)
	}
	return nil
}

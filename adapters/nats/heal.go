package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The two rungs of the ingest's healing ladder that only this package can
// climb (see adapters/watermill.Healing): a consumer whose pulls keep
// missing their heartbeats, with no delivery, while the consumer exists
// (nats-server issue #5679 and the like: a consumer leader that serves no
// pull, or a server that routes the pulls of this connection nowhere).

// consumerStepDownT is the JetStream API subject that makes a replicated
// consumer's leader step down, for the cluster to elect another of its
// replicas (what `nats consumer cluster step-down` sends).
const consumerStepDownT = "$JS.API.CONSUMER.LEADER.STEPDOWN.%s.%s"

// ErrStepDown is returned (wrapped, with the server's description) by
// StepDownConsumer when JetStream refuses the step-down: a consumer
// without replicas (a single server), or one that has no leader now.
var ErrStepDown = errors.New("nats: consumer leader step-down refused")

// StepDownConsumer asks the current leader of the durable consumer ("" is
// DefaultConsumer) to step down, so that the cluster elects another of its
// replicas, which serves the pulls anew. It returns once the leader has
// answered; the election follows. It moves nothing of the consumer's state
// (its replicas agree on it through Raft): what was delivered and not
// acknowledged is delivered again after the ack wait, or after the
// ingest's rewind. A wrapped ErrStepDown says JetStream refused it.
func (c *Client) StepDownConsumer(ctx context.Context, consumer string) error {
	consumer = consumerName(consumer)
	msg, err := c.nc.RequestWithContext(ctx, fmt.Sprintf(consumerStepDownT, EventsStream, consumer), nil)
	if err != nil {
		return fmt.Errorf("step down the leader of consumer %s on %s: %w", consumer, EventsStream, err)
	}
	var resp struct {
		Success bool `json:"success"`
		Error   *struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"error"`
	}
	if err := json.Unmarshal(msg.Data, &resp); err != nil {
		return fmt.Errorf("step down the leader of consumer %s on %s: the answer %q: %w", consumer, EventsStream, msg.Data, err)
	}
	if resp.Error != nil || !resp.Success {
		why := "no success"
		if resp.Error != nil {
			why = fmt.Sprintf("%s (%d)", resp.Error.Description, resp.Error.Code)
		}
		return fmt.Errorf("%w: consumer %s on %s: %s", ErrStepDown, consumer, EventsStream, why)
	}
	return nil
}

// Reconnect drops the connection and connects again, to the next server
// of the connection's pool (the URLs given and those the cluster
// announced), as after a lost connection: subscriptions are made anew on
// the new server, and what is published meanwhile is buffered
// (ConnConfig.ReconnectBufSize). It returns at once; the reconnect
// follows. With one server it reconnects to that one.
func (c *Client) Reconnect() error {
	if err := c.nc.ForceReconnect(); err != nil {
		return fmt.Errorf("nats: reconnect: %w", err)
	}
	return nil
}

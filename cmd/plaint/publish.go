package main

import (
	"context"
	"errors"
	"time"

	plainthttp "github.com/plaint/plaint/adapters/http"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
)

// httpPublish publishes the events of POST /v1/events to NATS as emit
// does (each to its type's subject with Nats-Msg-Id source/id), and
// returns once JetStream acknowledged every one; the ingest then stores
// them like any other event.
func httpPublish(client *plaintnats.Client) plainthttp.Publish {
	return func(ctx context.Context, msgs []plainthttp.Message) error {
		pub, err := client.NewPublisher(plaintnats.PublisherConfig{Window: 1024, AckTimeout: 10 * time.Second, MaxAttempts: 5})
		if err != nil {
			return err
		}
		for i := range msgs {
			ev := &msgs[i].Event
			if err := pub.Publish(ctx, ev.Type.Subject(), plaintnats.MsgID(ev), msgs[i].Data); err != nil {
				break // Wait reports it
			}
		}
		_, err = pub.Wait(ctx)
		var pe *plaintnats.PublishError
		if errors.As(err, &pe) || errors.Is(err, context.DeadlineExceeded) {
			return domain.Errorf(domain.EUNAVAILABLE, "NATS did not acknowledge every event (%v); post them again, the ids make it safe", err)
		}
		return err
	}
}

package main

import (
	"context"
	"log/slog"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
)

// dialNATS connects serve to NATS. An external cluster that does not answer
// yet (every piece of a deployment starts at once) is waited for, with a
// log line every few seconds, until the start is cancelled; the embedded
// server answers at once or not at all.
func (c *ServeCmd) dialNATS(ctx context.Context, url string, logger *slog.Logger) (*plaintnats.Client, error) {
	if c.NATSURL == "" {
		return c.NATSFlags.dial(url, "plaint serve")
	}
	var client *plaintnats.Client
	r := plaintnats.Retry{Logger: logger, Transient: func(err error) bool { return domain.ErrorCode(err) == domain.EUNAVAILABLE }}
	err := r.Do(ctx, "connect to "+redact(url), func(context.Context) (err error) {
		client, err = c.NATSFlags.dial(url, "plaint serve")
		return err
	})
	return client, err
}

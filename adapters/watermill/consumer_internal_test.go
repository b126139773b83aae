package watermill

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/adapters/nats/natstest"
)

// testIngestConsumer starts a NATS server with plaint's streams and returns
// the ingest's consumer on it, with a context of 10 s for the test
// (cancelled when it ends).
func testIngestConsumer(t *testing.T) (context.Context, jetstream.Consumer) {
	t.Helper()
	_, client := natstest.ServerWithStreams(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	cons, err := client.IngestConsumer(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	return ctx, cons
}

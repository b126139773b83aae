// Package natstest gives tests a real NATS server: embedded, with JetStream,
// on a random loopback port and a temporary store, gone when the test ends.
package natstest

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
)

// Server starts an embedded NATS server with JetStream, shut down when the
// test ends.
func Server(tb testing.TB) *plaintnats.Server {
	tb.Helper()
	s, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: tb.TempDir()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Shutdown)
	return s
}

// Connect connects to the server at url, closed when the test ends, and
// returns the connection with its JetStream context.
func Connect(tb testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	tb.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		tb.Fatal(err)
	}
	return nc, js
}

// Client connects plaint's client to the server at url, closed when the
// test ends.
func Client(tb testing.TB, url string) *plaintnats.Client {
	tb.Helper()
	c, err := plaintnats.Connect(plaintnats.ConnConfig{URL: url})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = c.Close() })
	return c
}

// EnsureStreams creates plaint's streams and consumer with cfg, retrying
// as serve does (plaintnats.Retry) for at most ClusterReadyTimeout: a
// cluster that has just formed, or is electing, may leave a request
// unanswered, and one attempt bounded by the whole deadline then fails
// although the next would succeed (seen in CI: a replicated stream's
// create waited 20 s for an answer that never came).
func EnsureStreams(tb testing.TB, c *plaintnats.Client, cfg plaintnats.StreamConfig) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), ClusterReadyTimeout)
	defer cancel()
	retry := plaintnats.Retry{AttemptTimeout: 5 * time.Second}
	if err := retry.Do(ctx, "create the streams and the consumer", func(ctx context.Context) error {
		return c.EnsureStreams(ctx, cfg)
	}); err != nil {
		tb.Fatal(err)
	}
}

// ServerWithStreams starts a Server, creates plaint's streams and consumer
// on it with the default StreamConfig, and returns it with a Client
// connected to it: the usual start of a test of the ingest's consumer.
func ServerWithStreams(tb testing.TB) (*plaintnats.Server, *plaintnats.Client) {
	tb.Helper()
	s := Server(tb)
	c := Client(tb, s.ClientURL())
	EnsureStreams(tb, c, plaintnats.StreamConfig{})
	return s, c
}

// StreamMsgs returns the number of messages the stream holds.
func StreamMsgs(tb testing.TB, js jetstream.JetStream, stream string) uint64 {
	tb.Helper()
	st, err := js.Stream(context.Background(), stream)
	if err != nil {
		tb.Fatal(err)
	}
	info, err := st.Info(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	return info.State.Msgs
}

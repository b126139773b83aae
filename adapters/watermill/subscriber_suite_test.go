package watermill_test

import (
	"context"
	"strings"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmjetstream "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/plaint/plaint/adapters/nats/natstest"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
)

// suiteStream holds every topic of the suite: the topics are subjects
// below suite. (GenerateTopicFunc), so that a stream exists before the
// suite publishes to a topic it has not subscribed to yet.
const suiteStream = "WATERMILL_SUITE"

// TestSubscriberPassesWatermillsPubSubSuite runs Watermill's own test suite
// for Pub/Subs against the Subscriber (one Watermill message per JetStream
// message), with messages published by watermill-nats' JetStream
// publisher, on a real embedded NATS server. The features say what the
// Subscriber does: consumer groups (a durable consumer per group) and
// persistence; not guaranteed order (many messages are in flight) nor
// exactly-once delivery (a nacked message comes back); new subscribers of
// a group do not get the messages the group acknowledged; there is no
// broker restart command (a JetStream restart under a running ingest is
// cmd/plaint's TestIngestRecoversByItselfAfterTheDiskWasFull). The suite
// skips the tests of what is not declared (order, no-ack blocking, old
// messages for new subscribers, reconnect). It runs with its full message
// counts (up to 10,000 a test): about 5 s with -race.
func TestSubscriberPassesWatermillsPubSubSuite(t *testing.T) {
	srv := natstest.Server(t)
	url := srv.ClientURL()
	nc, js := natstest.Connect(t, url)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: suiteStream, Subjects: []string{"suite.>"}, Storage: jetstream.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	pubSub := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		pub, err := wmjetstream.NewPublisher(wmjetstream.PublisherConfig{
			URL: url, Logger: wm.NopLogger{},
			// The publisher publishes to the stream name it is given: the topic.
			ConfigureStream: func(topic string) jetstream.StreamConfig { return jetstream.StreamConfig{Name: topic} },
		})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := plaintwm.NewSubscriber(plaintwm.SubscriberConfig{
			Consumer: func(ctx context.Context, topic string) (jetstream.Consumer, error) {
				name := strings.NewReplacer(".", "_", "-", "_").Replace(topic + "_" + group)
				return js.CreateOrUpdateConsumer(ctx, suiteStream, jetstream.ConsumerConfig{
					Durable: name, FilterSubject: topic, AckPolicy: jetstream.AckExplicitPolicy,
					AckWait: 5 * time.Second, MaxDeliver: -1, MaxAckPending: 4096,
				})
			},
			Flush:        nc.FlushWithContext,
			NakDelay:     10 * time.Millisecond,
			CloseTimeout: time.Second,
			MaxInFlight:  256,
			PullBatch:    256,
		})
		if err != nil {
			t.Fatal(err)
		}
		return pub, sub
	}
	tests.TestPubSub(t,
		tests.Features{
			ConsumerGroups:      true,
			Persistent:          true,
			ExactlyOnceDelivery: false,
			GuaranteedOrder:     false,
			GenerateTopicFunc:   func(tests.TestContext) string { return "suite." + wm.NewShortUUID() },
		},
		func(t *testing.T) (message.Publisher, message.Subscriber) { return pubSub(t, "") },
		pubSub,
	)
}

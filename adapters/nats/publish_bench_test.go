package nats_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/benchenv"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
)

// BenchmarkPublisher is the publisher's share of `plaint emit`:
// PLAINT_BENCH_EVENTS (default 200k) complaint events, encoded beforehand
// (~330 bytes each), published with their Nats-Msg-Id into an embedded
// server's events stream through a Publisher with a window of
// PLAINT_BENCH_WINDOW (default emit's 4096), every ack awaited. The server
// runs in the benchmark's process.
func BenchmarkPublisher(b *testing.B) {
	window := benchenv.Count(b, "PLAINT_BENCH_WINDOW", 4096)
	benchPublish(b, func(c *plaintnats.Client) (benchPublisher, error) {
		return c.NewPublisher(plaintnats.PublisherConfig{Window: window})
	})
}

// BenchmarkBatchPublisher is BenchmarkPublisher through a BatchPublisher:
// fast batches of PLAINT_BENCH_BATCH events (default 65536), one PubAck a
// batch, a flow acknowledgement every 500 events, PLAINT_BENCH_ACKS (default
// 8) of them outstanding at most.
func BenchmarkBatchPublisher(b *testing.B) {
	window := benchenv.Count(b, "PLAINT_BENCH_WINDOW", 4096)
	size := benchenv.Count(b, "PLAINT_BENCH_BATCH", 65536)
	acks := benchenv.Count(b, "PLAINT_BENCH_ACKS", 8)
	benchPublish(b, func(c *plaintnats.Client) (benchPublisher, error) {
		p, err := c.NewBatchPublisher(context.Background(), plaintnats.BatchPublisherConfig{
			Publisher: plaintnats.PublisherConfig{Window: window}, BatchSize: size, MaxOutstandingAcks: acks})
		if err == nil && !p.Batching() {
			err = errors.New("the events stream does not take batches")
		}
		return p, err
	})
}

// benchPublisher is what benchPublish drives: a Publisher or a BatchPublisher.
type benchPublisher interface {
	Publish(ctx context.Context, subject, msgID string, data []byte) error
	Wait(ctx context.Context) (plaintnats.PublishStats, error)
}

func benchPublish(b *testing.B, newPublisher func(*plaintnats.Client) (benchPublisher, error)) {
	n := benchenv.Count(b, "PLAINT_BENCH_EVENTS", 200_000)
	type msg struct {
		subject, id string
		data        []byte
	}
	msgs := make([]msg, n)
	for i := range msgs {
		ev := domain.Event{
			ID: fmt.Sprintf("ev-%09d", i), Source: "bench/publisher", Type: domain.TypeComplaintFiled,
			Time:   time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second),
			Schema: domain.CurrentSchema, Subject: fmt.Sprintf("C-%06d", i%50_000),
			Data: domain.Data{CustomerID: fmt.Sprintf("C-%06d", i%50_000), Category: "billing", Segment: "smb",
				Channel: "phone", Product: "fiber", Region: "north", Severity: 3, ComplaintID: fmt.Sprintf("K-%09d", i)},
		}
		msgs[i] = msg{ev.Type.Subject(), plaintnats.MsgID(&ev), ev.AppendJSON(nil)}
	}
	ctx := context.Background()
	var secs float64
	var cpu time.Duration
	for range b.N {
		b.StopTimer()
		s := natstest.Server(b)
		c := natstest.Client(b, s.ClientURL())
		natstest.EnsureStreams(b, c, plaintnats.StreamConfig{})
		_, js := natstest.Connect(b, s.ClientURL())
		p, err := newPublisher(c)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start, cpu0 := time.Now(), benchenv.CPUTime()
		for i := range msgs {
			if err := p.Publish(ctx, msgs[i].subject, msgs[i].id, msgs[i].data); err != nil {
				b.Fatal(err)
			}
		}
		st, err := p.Wait(ctx)
		secs += time.Since(start).Seconds()
		cpu += benchenv.CPUTime() - cpu0
		b.StopTimer()
		if err != nil || st.Acked != int64(n) || st.Duplicates != 0 {
			b.Fatalf("%+v: %v", st, err)
		}
		if got := natstest.StreamMsgs(b, js, plaintnats.EventsStream); got != uint64(n) {
			b.Fatalf("the stream holds %d of %d events", got, n)
		}
		s.Shutdown()
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/secs, "events/s")
	b.ReportMetric(secs*1e9/float64(n*b.N), "ns/event")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n*b.N), "cpu-ns/event")
}

package alerts

import (
	"context"
	"time"
)

// Publish publishes one alert event and returns once it is safely
// published. It is the one step between the detector and the outside: a
// cluster puts its claim in front of it (publish only the events this node
// claimed first), see Claimed.
type Publish func(ctx context.Context, ev Event) error

// Deliver publishes the feed's events numbered after after, in order, as
// they come, until ctx ends. A failed publish is retried with backoff
// (report is told of each failure), never skipped: an event is published
// before any later one.
func Deliver(ctx context.Context, feed *Feed, after uint64, publish Publish, report func(ev Event, err error)) error {
	for {
		evs, changed := feed.Since(after)
		for _, ev := range evs {
			for attempt := 0; ; attempt++ {
				err := publish(ctx, ev)
				if err == nil {
					break
				}
				if ctx.Err() != nil {
					return nil
				}
				if report != nil {
					report(ev, err)
				}
				select {
				case <-ctx.Done():
					return nil
				case <-time.After(min(time.Duration(1<<min(attempt, 5))*100*time.Millisecond, 5*time.Second)):
				}
			}
			after = ev.Seq
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
	}
}

// Claimed puts claim in front of publish: an event is published only when
// claim says this node is the first to claim it (a NATS KV Create of the
// event id whose value names the node, in a cluster); an event another
// node claimed is skipped. claim must say true again for an event this
// node claimed before (a publish that failed after its claim is retried),
// and an error from it retries the event, as a failed publish does.
func Claimed(claim func(ctx context.Context, ev Event) (bool, error), publish Publish) Publish {
	return func(ctx context.Context, ev Event) error {
		ok, err := claim(ctx, ev)
		if err != nil || !ok {
			return err
		}
		return publish(ctx, ev)
	}
}

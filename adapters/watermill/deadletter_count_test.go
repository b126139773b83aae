package watermill_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/internal/testutil"
)

// TestDeadLettersDeliveredAgainAreCountedOnce has the events stream
// delivered a second time, whole, after every message was handled, as a
// consumer reset that overtakes acknowledgements does: the valid events
// come back (as redeliveries, or as duplicates where the consumer's reset
// numbers them as first deliveries), the invalid messages are dead-lettered
// again (JetStream drops the copies by their Nats-Msg-Id), and the dead
// letters are counted once, in the ingest's stats, its hook and the log,
// in every mode, with a BatchStore or a plain Store.
func TestDeadLettersDeliveredAgainAreCountedOnce(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			const valid, invalid = 20, 5
			for i := range valid {
				e.publishEvent(complaint("crm", fmt.Sprint(i)))
				if i%4 == 0 && i/4 < invalid {
					e.publish(domain.TypeComplaintFiled.Subject(), []byte(`{"not":"an event"}`))
				}
			}
			var hooked atomic.Int64
			r := e.start(m.with(e, plaintwm.Config{Hooks: plaintwm.Hooks{DeadLettered: func(string) { hooked.Add(1) }}}))
			const total = valid + invalid
			testutil.WaitFor(t, waitLimit, "every message handled and acked", func() bool { return e.allAcked(total) })
			ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
			defer cancel()
			if _, err := e.js.ResetConsumerToSequence(ctx, plaintnats.EventsStream, plaintnats.DefaultConsumer, 1); err != nil {
				t.Fatal(err)
			}
			testutil.WaitFor(t, waitLimit, "every message delivered again and acked", func() bool {
				return r.Stats().Received >= 2*total && e.allAcked(total)
			})
			st := r.Stats()
			if st.Stored != valid || st.Redelivered+st.Duplicates != valid || st.DeadLettered != invalid || hooked.Load() != invalid {
				t.Fatalf("stats %+v, hook %d: want %d stored and %d dead-lettered once", st, hooked.Load(), valid, invalid)
			}
			ls, err := e.log.Stats()
			if err != nil {
				t.Fatal(err)
			}
			if ls.DeadLettered != invalid {
				t.Fatalf("the log counts %d dead letters, want %d", ls.DeadLettered, invalid)
			}
			dlq, err := e.js.Stream(ctx, plaintnats.DLQStream)
			if err != nil {
				t.Fatal(err)
			}
			info, err := dlq.Info(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if info.State.Msgs != invalid {
				t.Fatalf("the dead-letter stream holds %d messages, want %d", info.State.Msgs, invalid)
			}
		})
	}
}

package watermill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

func TestAckSubjectsAreParsedAsJetStreamDoes(t *testing.T) {
	type want struct {
		seq, delivered uint64
		ok             bool
	}
	for reply, w := range map[string]want{
		"$JS.ACK.PLAINT_EVENTS.plaint.1.42.40.1700000000000000000.7":                   {42, 1, true}, // older servers
		"$JS.ACK._.ACCHASH.PLAINT_EVENTS.plaint.3.1234567.900.1700000000000000000.0.X": {1234567, 3, true},
		"$JS.ACK.hub.ACCHASH.PLAINT_EVENTS.plaint.1.9.9.1700000000000000000.0":         {9, 1, true}, // 11 tokens
		"$JS.ACK.PLAINT_EVENTS.plaint.1.x.40.1700000000000000000.7":                    {},
		"$JS.ACK.PLAINT_EVENTS.plaint.1.42.40.17":                                      {}, // too few tokens
		"_INBOX.abc": {},
		"":           {},
	} {
		stream, consumer, delivered, seq, ok := plaintwm.ParseAck(reply)
		if ok != w.ok || (ok && (seq != w.seq || delivered != w.delivered || stream != "PLAINT_EVENTS" || consumer != "plaint")) {
			t.Errorf("ParseAck(%q) = %q %q %d %d %v, want sequence %d, delivered %d, %v", reply, stream, consumer, delivered, seq, ok, w.seq, w.delivered, w.ok)
		}
	}
}

func TestStoredEventsKnowTheirStreamSequence(t *testing.T) {
	for _, m := range modes {
		if m.name == "batch-store-without-AppendBatch" {
			continue // a store without AppendBatch keeps no stream sequences
		}
		t.Run(m.name, func(t *testing.T) {
			e := newEnv(t)
			const n = 300
			for i := range n {
				e.publishEvent(complaint("crm", fmt.Sprint(i)))
				if i == 100 {
					e.publish(domain.TypeComplaintFiled.Subject(), []byte(`{"not":"an event"}`)) // dead-lettered
				}
			}
			e.publishEvent(complaint("crm", "7")) // a duplicate as its own stream message
			r := e.start(m.with(e, plaintwm.Config{}))
			testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n + 2) })
			if st := r.Stats(); st.Stored != n || st.Duplicates != 1 || st.DeadLettered != 1 {
				t.Fatalf("stats %+v", st)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			stream, err := e.js.Stream(ctx, plaintnats.EventsStream)
			if err != nil {
				t.Fatal(err)
			}
			runs := 0
			err = e.log.View(func(s *eventstore.Snapshot) error {
				for seq := uint64(1); seq <= s.LastSeq(); seq++ {
					st, ok := s.StreamSeq(seq)
					if !ok {
						return fmt.Errorf("event %d has no stream sequence", seq)
					}
					ev, err := s.Decode(mustGet(s, seq))
					if err != nil {
						return err
					}
					msg, err := stream.GetMsg(ctx, st)
					if err != nil {
						return fmt.Errorf("event %d: stream message %d: %w", seq, st, err)
					}
					if id := idOf(msg); id != ev.ID {
						return fmt.Errorf("event %d (id %s) is recorded as stream message %d, which holds id %s", seq, ev.ID, st, id)
					}
				}
				runs, _ = s.StreamRuns()
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d events in %d runs", n, runs)
			if m.cfg.Batch != 1 && runs > 20 {
				t.Fatalf("%d runs for %d events in batch mode", runs, n)
			}
		})
	}
}

func mustGet(s *eventstore.Snapshot, seq uint64) eventstore.Record {
	r, err := s.Get(seq)
	if err != nil {
		panic(err)
	}
	return r
}

func idOf(msg *jetstream.RawStreamMsg) string {
	var ev struct{ ID string }
	_ = json.Unmarshal(msg.Data, &ev)
	return ev.ID
}

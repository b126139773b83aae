package watermill_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

func TestAcksOnlyAfterTheCommitHoldingTheEvent(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		g := newGateStore(e.com)
		r := e.start(m.with(e, plaintwm.Config{Store: m.gate(g)}))
		ev := complaint("crm/eu-west", "5c0d9a86-1b2e-4c3f-9d4e-5f6a7b8c9d0e")
		e.publishEvent(ev)

		testutil.WaitFor(t, waitLimit, "the handler to reach the store", func() bool { return g.entered.Load() == 1 })
		// The append has not committed: the message must be unacknowledged.
		info := e.consumerInfo()
		if info.NumAckPending != 1 || info.AckFloor.Stream != 0 {
			t.Fatalf("before the commit: ack pending %d, ack floor %d; want 1 and 0", info.NumAckPending, info.AckFloor.Stream)
		}
		if e.log.LastSeq() != 0 {
			t.Fatalf("log has %d events before the commit", e.log.LastSeq())
		}
		g.open()
		testutil.WaitFor(t, waitLimit, "the ack", func() bool { return e.allAcked(1) })
		if got := readLog(t, e.log); len(got) != 1 || got[0] != ev.Source+"/"+ev.ID {
			t.Fatalf("log = %v", got)
		}
		st := r.Stats()
		if st.Received != 1 || st.Stored != 1 || st.Duplicates != 0 || st.DeadLettered != 0 || st.Errors != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

func TestManyMessagesInFlightAreGroupCommitted(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		const n = 3000
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		futs := make([]jetstream.PubAckFuture, 0, n)
		for i := range n {
			f, err := e.js.PublishAsync(domain.TypeComplaintFiled.Subject(), payload(t, complaint("crm", fmt.Sprint(i))))
			if err != nil {
				t.Fatal(err)
			}
			futs = append(futs, f)
		}
		select {
		case <-e.js.PublishAsyncComplete():
		case <-ctx.Done():
			t.Fatal("publish did not complete")
		}
		for _, f := range futs {
			select {
			case <-f.Ok():
			case err := <-f.Err():
				t.Fatal(err)
			}
		}
		// Drain the backlog. The store holds every append until 1,000 wait at
		// once: a subscriber that hands over one message at a time never gets
		// there.
		var hookStored atomic.Int64
		g := newGateStore(e.com)
		r := e.start(m.with(e, plaintwm.Config{Store: m.gate(g), Hooks: plaintwm.Hooks{Stored: func() { hookStored.Add(1) }}}))
		testutil.WaitFor(t, waitLimit, "1,000 messages in flight", func() bool { return g.entered.Load() >= 1000 })
		if got := r.Stats().InFlight; got < 1000 {
			t.Fatalf("Stats().InFlight = %d with 1,000 handlers waiting", got)
		}
		if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
			t.Fatalf("ack floor %d before any commit", info.AckFloor.Stream)
		}
		g.open()
		testutil.WaitFor(t, waitLimit, "every event stored and acked", func() bool { return e.log.LastSeq() == n && e.allAcked(n) })
		testutil.WaitFor(t, waitLimit, "no message in flight", func() bool { return r.Stats().InFlight == 0 })
		if st := r.Stats(); st.Stored != n || hookStored.Load() != n {
			t.Fatalf("stats = %+v, hook stored %d", st, hookStored.Load())
		}
		t.Logf("%d events in %d transactions", n, e.commits.Load())
	})
}

func TestPlaintFailureIsRedeliveredNeverDeadLettered(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		// The store fails: its log is closed under the committer.
		if err := e.log.Close(); err != nil {
			t.Fatal(err)
		}
		var hookErrs atomic.Int64
		r := e.start(m.with(e, plaintwm.Config{NakDelay: 20 * time.Millisecond, Hooks: plaintwm.Hooks{Error: func(error) { hookErrs.Add(1) }}}))
		ev := complaint("crm", "1")
		e.publishEvent(ev)
		// Several failures of the same message prove it is redelivered.
		testutil.WaitFor(t, waitLimit, "redeliveries", func() bool { return r.Stats().Errors >= 3 })
		r.stop(t)
		if st := r.Stats(); st.DeadLettered != 0 || st.Stored != 0 || hookErrs.Load() < 3 {
			t.Fatalf("stats = %+v, hook errors %d", st, hookErrs.Load())
		}
		if n := e.dlqMessages(); n != 0 {
			t.Fatalf("%d messages dead-lettered for a failure of plaint itself", n)
		}
		if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
			t.Fatalf("the failed message was acknowledged (ack floor %d)", info.AckFloor.Stream)
		}

		// Restart on a working store: the message is delivered again and stored.
		e.com.Close()
		e.log = nil
		e.openLog()
		r2 := e.start(m.with(e, plaintwm.Config{}))
		testutil.WaitFor(t, waitLimit, "the event stored after the restart", func() bool { return e.allAcked(1) })
		if got := readLog(t, e.log); len(got) != 1 || got[0] != "crm/1" {
			t.Fatalf("log = %v", got)
		}
		if st := r2.Stats(); st.Stored != 1 || st.Errors != 0 {
			t.Fatalf("stats after restart = %+v", st)
		}
	})
}

func (e *env) dlqMessages() uint64 {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := e.js.Stream(ctx, plaintnats.DLQStream)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info.State.Msgs
}

func TestInvalidMessagesAreDeadLetteredThenAcked(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		mk := func(f func(*domain.Event)) []byte {
			ev := complaint("crm", "x")
			f(&ev)
			return payload(t, ev)
		}
		filed := domain.TypeComplaintFiled.Subject()
		big := mk(func(ev *domain.Event) {})
		big = append(big[:len(big)-1], []byte(`,"pad":"`+strings.Repeat("a", domain.MaxEventSize)+`"}`)...)
		cases := []struct {
			name, subject, reason, dlq string
			data                       []byte
		}{
			{"bad json", filed, domain.ReasonBadJSON, "plaint.dlq.complaint.filed", []byte(`{"specversion":"1.0",`)},
			{"unknown type", "plaint.events.complaint.escalated", domain.ReasonUnknownType, "plaint.dlq.complaint.escalated",
				bytes.Replace(mk(func(*domain.Event) {}), []byte(`"complaint.filed"`), []byte(`"complaint.escalated"`), 1)},
			{"missing field", filed, domain.ReasonMissingField, "plaint.dlq.complaint.filed",
				bytes.Replace(mk(func(*domain.Event) {}), []byte(`"customer_id":"C-1042",`), nil, 1)},
			{"invalid field", filed, domain.ReasonInvalidField, "plaint.dlq.complaint.filed",
				bytes.Replace(mk(func(*domain.Event) {}), []byte(`"severity":3`), []byte(`"severity":9`), 1)},
			{"subject mismatch", domain.TypeCustomerRenewed.Subject(), domain.ReasonSubjectMismatch, "plaint.dlq.customer.renewed",
				mk(func(*domain.Event) {})},
			{"before 1990", filed, domain.ReasonTimeRange, "plaint.dlq.complaint.filed",
				mk(func(ev *domain.Event) { ev.Time = time.Date(1989, 12, 31, 0, 0, 0, 0, time.UTC) })},
			{"far future", filed, domain.ReasonTimeRange, "plaint.dlq.complaint.filed",
				mk(func(ev *domain.Event) { ev.Time = time.Now().Add(30 * 24 * time.Hour) })},
			{"oversize", filed, domain.ReasonOversize, "plaint.dlq.complaint.filed", big},
			{"invalid utf-8", filed, domain.ReasonInvalidUTF8, "plaint.dlq.complaint.filed",
				bytes.Replace(mk(func(*domain.Event) {}), []byte(`"billing"`), []byte("\"bill\xffing\""), 1)},
		}
		var hookReasons atomic.Int64
		r := e.start(m.with(e, plaintwm.Config{Hooks: plaintwm.Hooks{DeadLettered: func(string) { hookReasons.Add(1) }}}))
		// Valid events around the bad ones: the stream is never blocked.
		e.publishEvent(complaint("crm", "before"))
		for _, c := range cases {
			e.publish(c.subject, c.data)
		}
		e.publishEvent(complaint("crm", "after"))
		total := uint64(len(cases) + 2)
		testutil.WaitFor(t, waitLimit, "every message handled and acked", func() bool { return e.allAcked(total) })
		st := r.Stats()
		if st.Stored != 2 || st.DeadLettered != uint64(len(cases)) || st.Errors != 0 || hookReasons.Load() != int64(len(cases)) {
			t.Fatalf("stats = %+v", st)
		}
		if got := readLog(t, e.log); !sameSet(got, []string{"crm/before", "crm/after"}) {
			t.Fatalf("log = %v", got)
		}
		ls, err := e.log.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if ls.DeadLettered != uint64(len(cases)) {
			t.Fatalf("log counts %d dead letters, want %d", ls.DeadLettered, len(cases))
		}

		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		dlq, err := e.js.Stream(ctx, plaintnats.DLQStream)
		if err != nil {
			t.Fatal(err)
		}
		// Handlers run concurrently: find each case's dead letter by its payload.
		var letters []*jetstream.RawStreamMsg
		for seq := uint64(1); seq <= uint64(len(cases)); seq++ {
			m, err := dlq.GetMsg(ctx, seq)
			if err != nil {
				t.Fatalf("dead letter %d: %v", seq, err)
			}
			letters = append(letters, m)
		}
		for _, c := range cases {
			var m *jetstream.RawStreamMsg
			for _, l := range letters {
				if bytes.Equal(l.Data, c.data) {
					m = l
				}
			}
			if m == nil {
				t.Errorf("%s: no dead letter with the original payload", c.name)
				continue
			}
			if m.Subject != c.dlq {
				t.Errorf("%s: dead-lettered to %q, want %q", c.name, m.Subject, c.dlq)
			}
			if got := m.Header.Get(plaintnats.HeaderReason); got != c.reason {
				t.Errorf("%s: reason %q, want %q", c.name, got, c.reason)
			}
			if got := m.Header.Get(plaintnats.HeaderError); got == "" {
				t.Errorf("%s: no %s header", c.name, plaintnats.HeaderError)
			}
			if got := m.Header.Get(plaintnats.HeaderOriginalSubject); got != c.subject {
				t.Errorf("%s: original subject %q, want %q", c.name, got, c.subject)
			}
		}
	})
}

func TestDuplicatesAreDroppedAcrossRestarts(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		r := e.start(m.with(e, plaintwm.Config{}))
		e.publishEvent(complaint("crm", "a"))
		e.publishEvent(complaint("crm", "a"))   // a resend
		e.publishEvent(complaint("other", "a")) // another source: not a duplicate
		testutil.WaitFor(t, waitLimit, "three messages acked", func() bool { return e.allAcked(3) })
		if st := r.Stats(); st.Stored != 2 || st.Duplicates != 1 {
			t.Fatalf("stats = %+v", st)
		}
		r.stop(t)
		e.closeLog()

		e.openLog()
		r2 := e.start(m.with(e, plaintwm.Config{}))
		e.publishEvent(complaint("crm", "a")) // a resend long after
		e.publishEvent(complaint("crm", "b"))
		testutil.WaitFor(t, waitLimit, "five messages acked", func() bool { return e.allAcked(5) })
		if st := r2.Stats(); st.Stored != 1 || st.Duplicates != 1 {
			t.Fatalf("stats after restart = %+v", st)
		}
		// (Without AppendBatch the events of a group are appended
		// concurrently, in no particular order.)
		if got := readLog(t, e.log); !sameSet(got, []string{"crm/a", "other/a", "crm/b"}) {
			t.Fatalf("log = %v", got)
		}
		if ls, err := e.log.Stats(); err != nil || ls.Duplicates != 2 {
			t.Fatalf("log duplicates = %d (%v), want 2", ls.Duplicates, err)
		}
	})
}

func TestGracefulStopDrainsInFlightWorkAndRestartContinues(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		g := newGateStore(e.com)
		// A small in-flight limit leaves messages buffered in the client when
		// the stop comes; they must be handed back, not held until the ack wait.
		r := e.start(m.with(e, plaintwm.Config{Store: m.gate(g), MaxInFlight: 8, PullBatch: 16}))
		const n = 200
		e.publishComplaints(n)
		testutil.WaitFor(t, waitLimit, "handlers blocked in the store", func() bool { return g.entered.Load() == 8 })

		var released atomic.Bool
		closed := make(chan bool)
		go func() {
			r.stop(t)
			closed <- released.Load()
		}()
		// Close must wait for the handlers blocked in the store. (This window
		// only gives a broken Close the chance to return early; nothing waits
		// on it for work. The released flag below catches the same bug.)
		select {
		case <-closed:
			t.Fatal("Close returned while handlers were still running")
		case <-time.After(50 * time.Millisecond):
		}
		released.Store(true)
		g.open()
		if !<-closed {
			t.Fatal("Close returned before the in-flight handlers finished")
		}
		st := r.Stats()
		if st.InFlight != 0 || st.Errors != 0 || st.Stored != uint64(g.done.Load()) || st.Stored < 8 {
			t.Fatalf("after stop: stats %+v, store calls finished %d", st, g.done.Load())
		}
		if got := e.log.LastSeq(); got != st.Stored {
			t.Fatalf("log has %d events, ingest stored %d", got, st.Stored)
		}
		// Everything that was stored was acknowledged before Close returned
		// (the acks reached the server; it applies them asynchronously, and
		// nothing else would ack them now: the ack wait is 30s).
		testutil.WaitFor(t, waitLimit, "the acks of the stored events", func() bool { return e.consumerInfo().AckFloor.Stream >= st.Stored })

		// A restart continues where the stop left off, well within the 30s ack
		// wait: the messages the client held but had not handed out were naked.
		r2 := e.start(m.with(e, plaintwm.Config{}))
		testutil.WaitFor(t, waitLimit, "the rest of the backlog", func() bool { return e.allAcked(n) })
		if got := e.log.LastSeq(); got != n {
			t.Fatalf("log has %d events, want %d", got, n)
		}
		if st2 := r2.Stats(); st.Stored+st2.Stored != n || st2.Duplicates != 0 {
			t.Fatalf("stored %d + %d (dups %d), want %d", st.Stored, st2.Stored, st2.Duplicates, n)
		}
	})
}

func TestRunFailsWithoutTheConsumer(t *testing.T) {
	e := newEnv(t)
	in, err := plaintwm.New(e.wire(plaintwm.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.client.DeleteConsumer(ctx, ""); err != nil {
		t.Fatal(err)
	}
	if err := in.Run(ctx); err == nil || !strings.Contains(err.Error(), "consumer PLAINT_EVENTS/plaint") {
		t.Fatalf("Run = %v, want an error naming the consumer", err)
	}
}

func TestCloseBeforeRun(t *testing.T) {
	e := newEnv(t)
	in, err := plaintwm.New(e.wire(plaintwm.Config{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := in.Close(); err != nil {
		t.Fatal(err)
	}
	if err := in.Run(context.Background()); err != nil {
		t.Fatalf("Run after Close = %v, want nil", err)
	}
}

// TestConfigsValidate: New and NewSubscriber name every problem of their
// configuration, joined, wrapping ErrConfig.
func TestConfigsValidate(t *testing.T) {
	_, ingestErr := plaintwm.New(plaintwm.Config{MaxInFlight: -1, NakDelay: -1})
	_, subErr := plaintwm.NewSubscriber(plaintwm.SubscriberConfig{MaxInFlight: -1, PullBatch: -1, BatchWait: -1, Batch: -1})
	for _, c := range []struct {
		name string
		err  error
		want []string
	}{
		{"ingest", ingestErr, []string{"Consumer is required", "DeadLetter is required", "Store is required", "MaxInFlight", "NakDelay"}},
		{"subscriber", subErr, []string{"Consumer is required", "MaxInFlight must be positive", "PullBatch must be positive", "BatchWait", "Batch must be positive"}},
	} {
		if !errors.Is(c.err, plaintwm.ErrConfig) {
			t.Errorf("%s: err %v does not wrap ErrConfig", c.name, c.err)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(c.err.Error(), want) {
				t.Errorf("%s: error %q does not mention %q", c.name, c.err, want)
			}
		}
	}
}

func TestDeadLetterPublishFailureIsRedeliveredNotAcked(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		// Without the dead-letter stream a rejected message cannot be parked:
		// that is plaint's failure, so the message must stay unacknowledged.
		if err := e.js.DeleteStream(ctx, plaintnats.DLQStream); err != nil {
			t.Fatal(err)
		}
		r := e.start(m.with(e, plaintwm.Config{NakDelay: 20 * time.Millisecond}))
		e.publish(domain.TypeComplaintFiled.Subject(), []byte(`not json`))
		testutil.WaitFor(t, waitLimit, "failed dead-letter attempts", func() bool { return r.Stats().Errors >= 2 })
		if info := e.consumerInfo(); info.AckFloor.Stream != 0 {
			t.Fatalf("acknowledged although the dead letter was not stored (ack floor %d)", info.AckFloor.Stream)
		}
		if st := r.Stats(); st.DeadLettered != 0 {
			t.Fatalf("stats = %+v", st)
		}
		// Once the stream is back, the redelivery is dead-lettered and acked.
		if err := e.client.EnsureStreams(ctx, plaintnats.StreamConfig{}); err != nil {
			t.Fatal(err)
		}
		testutil.WaitFor(t, waitLimit, "the dead letter and the ack", func() bool { return e.allAcked(1) })
		if n := e.dlqMessages(); n != 1 {
			t.Fatalf("%d dead letters, want 1", n)
		}
		if st := r.Stats(); st.DeadLettered != 1 || st.Stored != 0 {
			t.Fatalf("stats = %+v", st)
		}
	})
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// failAfterStore stores a batch, then reports a failure the first time, as
// a store that commits but fails before answering would.
type failAfterStore struct {
	plaintwm.BatchStore
	failed  atomic.Bool
	batches atomic.Int64
}

func (f *failAfterStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	f.batches.Add(1)
	res, err := f.BatchStore.AppendBatch(ctx, b)
	if err == nil && len(b.Events) > 0 && f.failed.CompareAndSwap(false, true) {
		return nil, errors.New("disk on fire")
	}
	return res, err
}

func TestBatchFailureNaksTheWholeGroupAndRedeliveryIsDeduplicated(t *testing.T) {
	e := newEnv(t)
	const n = 500
	for i := range n {
		if _, err := e.js.PublishAsync(domain.TypeComplaintFiled.Subject(), payload(t, complaint("crm", fmt.Sprint(i)))); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-e.js.PublishAsyncComplete():
	case <-time.After(20 * time.Second):
		t.Fatal("publish did not complete")
	}
	f := &failAfterStore{BatchStore: e.com}
	var hookRedelivered atomic.Int64
	r := e.start(plaintwm.Config{Store: f, NakDelay: 20 * time.Millisecond, Hooks: plaintwm.Hooks{Redelivered: func() { hookRedelivered.Add(1) }}})
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n) })
	testutil.WaitFor(t, waitLimit, "no message in flight", func() bool { return r.Stats().InFlight == 0 })
	st := r.Stats()
	// The redelivered group's events were stored by the failed attempt:
	// plaint's own retry, counted as redelivered (not as a producer's
	// duplicates), although this store cannot say what it holds.
	if st.Errors != 1 || st.Stored+st.Redelivered != n || st.Redelivered == 0 || st.Duplicates != 0 || st.Received <= n {
		t.Fatalf("stats = %+v: want one failure, its group redelivered and dropped as redelivered", st)
	}
	if h := hookRedelivered.Load(); h != int64(st.Redelivered) {
		t.Fatalf("the Redelivered hook was called %d times, the stats say %d", h, st.Redelivered)
	}
	if got := readLog(t, e.log); len(got) != n {
		t.Fatalf("log has %d events, want %d", len(got), n)
	}
	// A backlog is handled in groups, not message by message.
	if b := f.batches.Load(); b > n/10 {
		t.Fatalf("%d AppendBatch calls for %d messages", b, n)
	}
}

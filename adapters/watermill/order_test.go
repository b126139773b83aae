package watermill_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/nats/natstest"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
	"github.com/plaint/plaint/internal/testutil"
)

// holdFirstStore is a BatchStore whose first AppendBatch is held until a
// later one has committed, or for at most hold: without the ingest's turns
// the later group commits first.
type holdFirstStore struct {
	inner     plaintwm.BatchStore
	hold      time.Duration
	calls     atomic.Int64
	committed chan struct{} // closed when a later call returned
}

func (h *holdFirstStore) Append(ctx context.Context, ev domain.Event) (eventstore.Result, error) {
	return h.inner.Append(ctx, ev)
}

func (h *holdFirstStore) DeadLettered(ctx context.Context, d eventstore.DeadLetter) (eventstore.Result, error) {
	return h.inner.DeadLettered(ctx, d)
}

func (h *holdFirstStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	if h.calls.Add(1) == 1 {
		// A bounded hold, not a wait for work: with the turns no later
		// group reaches the store before this one queued.
		select {
		case <-h.committed:
		case <-time.After(h.hold):
		}
		return h.inner.AppendBatch(ctx, b)
	}
	res, err := h.inner.AppendBatch(ctx, b)
	select {
	case <-h.committed:
	default:
		close(h.committed)
	}
	return res, err
}

// TestBatchesAreStoredInStreamOrder holds the first group of a backlog in
// the store while the Router hands the next groups to other goroutines:
// the log still holds the messages in the stream's order (each event's
// stream sequence above the one before), which every node of a cluster
// relies on (the same log order on each, and as_of=stream:N).
func TestBatchesAreStoredInStreamOrder(t *testing.T) {
	e := newEnv(t)
	const n = 600
	e.publishComplaints(n)
	store := &holdFirstStore{inner: e.com, hold: 2 * time.Second, committed: make(chan struct{})}
	e.start(plaintwm.Config{Store: store, Batch: 50})
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n) })
	if c := store.calls.Load(); c < 3 {
		t.Fatalf("%d groups: the test needs several", c)
	}
	checkStreamOrder(t, e.log)
}

// TestAGroupWithNothingToStoreWaitsForItsTurn holds the first group in the
// store, with groups of dead letters only behind it and a group of valid
// events after those: a group with nothing to store lets the next one go
// only once its own turn has come, so that the last group is not stored
// before the first (a group whose events were all stored before, redelivered,
// is such a group too).
func TestAGroupWithNothingToStoreWaitsForItsTurn(t *testing.T) {
	e := newEnv(t)
	const valid, invalid = 50, 100 // 100 in a row: at least one group of 50 holds only those
	for i := range valid {
		e.publishEvent(complaint("crm", fmt.Sprint(i)))
	}
	for range invalid {
		e.publish(domain.TypeComplaintFiled.Subject(), []byte(`{"not":"an event"}`))
	}
	for i := range valid {
		e.publishEvent(complaint("crm", fmt.Sprint(valid+i)))
	}
	store := &holdFirstStore{inner: e.com, hold: 2 * time.Second, committed: make(chan struct{})}
	r := e.start(plaintwm.Config{Store: store, Batch: 50})
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(2*valid + invalid) })
	checkStreamOrder(t, e.log)
	if st := r.Stats(); st.Stored != 2*valid || st.DeadLettered != invalid {
		t.Fatalf("stats %+v: want %d stored and %d dead-lettered", st, 2*valid, invalid)
	}
}

// TestALostDeliveryIsDeliveredAgainInOrder has another client take one
// delivery of the ingest's consumer mid-stream and never acknowledge it, as
// a server that dies with deliveries on their way does: the ingest sees
// its consumer sequences skip one, rewinds the consumer (Config.Rewind)
// and stores the lost message in its place, long before the ack wait
// would have brought it back after later ones.
func TestALostDeliveryIsDeliveredAgainInOrder(t *testing.T) {
	e := newEnv(t)
	const n = 40
	e.publishComplaints(n)
	g := newGateStore(e.com)
	var rewinds atomic.Int64
	rewind := func(ctx context.Context) error {
		rewinds.Add(1)
		return e.client.ResetConsumer(ctx, "")
	}
	// A small window: the ingest holds a few messages and pulls no more
	// while its store is shut.
	r := e.start(plaintwm.Config{Store: gateBatchStore{g}, MaxInFlight: 4, PullBatch: 2, Batch: 2, Rewind: rewind})
	testutil.WaitFor(t, waitLimit, "the ingest's first groups in the store", func() bool { return g.entered.Load() >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cons, err := e.js.Consumer(ctx, plaintnats.EventsStream, plaintnats.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	stolen, err := cons.Fetch(1, jetstream.FetchMaxWait(waitLimit/2))
	if err != nil {
		t.Fatal(err)
	}
	took := 0
	for range stolen.Messages() {
		took++ // never acknowledged
	}
	if took != 1 {
		t.Fatalf("the other client took %d deliveries, want 1 (%v)", took, stolen.Error())
	}
	g.open()
	testutil.WaitFor(t, waitLimit, "every event stored", func() bool { return e.log.LastSeq() == n })
	if rewinds.Load() == 0 {
		t.Fatal("the ingest never rewound its consumer")
	}
	// What it had stored already came again and counts as redelivered.
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n) })
	if st := r.Stats(); st.Stored != n || st.Duplicates != 0 {
		t.Fatalf("stats %+v: want %d stored and no duplicates", st, n)
	}
	checkStreamOrder(t, e.log)
}

// TestDeliveriesLostBeforeTheFirstAreDeliveredAgainInOrder has another
// client take the consumer's first deliveries before the ingest starts and
// never acknowledge them, as a pull renewed before its first message was
// read (missed heartbeats while a node starts under load) or a stale pull
// of a killed process does: the ingest's first delivery is then not the
// consumer's first, so it rewinds the consumer and stores the lost
// messages first, instead of after the ack wait, after later ones.
func TestDeliveriesLostBeforeTheFirstAreDeliveredAgainInOrder(t *testing.T) {
	e := newEnv(t)
	// A short ack wait: without the rewind the lost messages come back
	// while the test waits, after the later ones.
	natstest.EnsureStreams(t, e.client, plaintnats.StreamConfig{AckWait: time.Second})
	const n, lost = 300, 40
	e.publishComplaints(n)
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	cons, err := e.js.Consumer(ctx, plaintnats.EventsStream, plaintnats.DefaultConsumer)
	if err != nil {
		t.Fatal(err)
	}
	stolen, err := cons.Fetch(lost, jetstream.FetchMaxWait(waitLimit/2))
	if err != nil {
		t.Fatal(err)
	}
	took := 0
	for range stolen.Messages() {
		took++ // never acknowledged
	}
	if took != lost {
		t.Fatalf("the other client took %d deliveries, want %d (%v)", took, lost, stolen.Error())
	}
	var rewinds atomic.Int64
	rewind := func(ctx context.Context) error {
		rewinds.Add(1)
		return e.client.ResetConsumer(ctx, "")
	}
	r := e.start(plaintwm.Config{Store: e.com, Batch: 50, Rewind: rewind})
	testutil.WaitFor(t, waitLimit, "every event stored and acked", func() bool { return e.log.LastSeq() >= n && e.allAcked(n) })
	checkStreamOrder(t, e.log)
	if rewinds.Load() == 0 {
		t.Fatal("the ingest never rewound its consumer")
	}
	if st := r.Stats(); st.Stored != n || st.Duplicates != 0 {
		t.Fatalf("stats %+v: want %d stored and no duplicates", st, n)
	}
}

// checkStreamOrder fails unless each event of the log was stored from a
// later stream message than the one before.
func checkStreamOrder(t *testing.T, l *eventstore.Log) {
	t.Helper()
	err := l.View(func(s *eventstore.Snapshot) error {
		breaks, places, err := logtest.StreamOrderBreaks(s, 1)
		if err == nil && breaks > 0 {
			err = fmt.Errorf("%s: the log is not in the stream's order (%d events out of it)", places[0], breaks)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// failOnceStore is the committer with one AppendBatch that fails, as
// plaint's own failure (not an invalid event): the call numbered fail is
// held for at most hold, so that the groups after it are handed out and
// wait for their turn, and then fails without storing anything.
type failOnceStore struct {
	*eventstore.Committer
	fail  int64
	hold  time.Duration
	calls atomic.Int64
}

func (f *failOnceStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	if len(b.Events) == 0 || f.calls.Add(1) != f.fail {
		return f.Committer.AppendBatch(ctx, b)
	}
	// A bounded hold, not a wait for work: the groups behind this one
	// can only wait for its turn meanwhile.
	select {
	case <-time.After(f.hold):
	case <-ctx.Done():
	}
	return nil, errors.New("disk on fire")
}

// TestAFailedGroupIsStoredBeforeTheGroupsAfterIt fails the second group's
// append with plaint's own failure while the groups after it wait for
// their turn: none of them may be stored before it, so that the log ends
// in the stream's order, every message stored once.
func TestAFailedGroupIsStoredBeforeTheGroupsAfterIt(t *testing.T) {
	e := newEnv(t)
	const n = 600
	e.publishComplaints(n)
	store := &failOnceStore{Committer: e.com, fail: 2, hold: 300 * time.Millisecond}
	rewind := func(ctx context.Context) error { return e.client.ResetConsumer(ctx, "") }
	r := e.start(plaintwm.Config{Store: store, Batch: 50, NakDelay: 50 * time.Millisecond, Rewind: rewind})
	testutil.WaitFor(t, waitLimit, "every event stored and acked", func() bool { return e.log.LastSeq() >= n && e.allAcked(n) })
	if c := store.calls.Load(); c < 4 {
		t.Fatalf("%d groups: the test needs several", c)
	}
	if st := r.Stats(); st.Stored != n || st.Duplicates != 0 || st.Errors != 1 {
		t.Fatalf("stats %+v: want %d stored, no duplicates, one failure", st, n)
	}
	if got := readLog(t, e.log); len(got) != n {
		t.Fatalf("the log holds %d events, want %d", len(got), n)
	}
	checkStreamOrder(t, e.log)
}

// refusingStore is the committer behind a rule of the store's own that the
// decoder does not have: it refuses the events whose ids are in refuse,
// handing the committer such an event without its customer so that the
// committer's own check rejects the batch holding it (EINVALID). The ingest
// then appends that group's events one by one (batches without Queued):
// the first valid one of those is held until a group after it has
// committed, or for at most hold, so that a group after it that may go
// first is stored first. (Several are refused: a group of the refused
// event alone has no valid one to show the order with.)
type refusingStore struct {
	*eventstore.Committer
	refuse    map[string]bool
	hold      time.Duration
	rejected  atomic.Bool   // a group's batch was refused
	committed chan struct{} // closed once a group's batch committed after it
	once      sync.Once
	held      atomic.Bool
}

func (s *refusingStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	if i := slices.IndexFunc(b.Events, func(ev domain.Event) bool { return s.refuse[ev.ID] }); i >= 0 {
		evs := slices.Clone(b.Events)
		evs[i].Data.CustomerID = ""
		b.Events, b.Valid = evs, false
		res, err := s.Committer.AppendBatch(ctx, b)
		if b.Queued != nil && domain.ErrorCode(err) == domain.EINVALID {
			s.rejected.Store(true)
		}
		return res, err
	}
	if b.Queued == nil && len(b.Events) == 1 && s.rejected.Load() && s.held.CompareAndSwap(false, true) {
		// A bounded hold, not a wait for work: with the group's turn kept
		// no group after it reaches the store meanwhile.
		select {
		case <-s.committed:
		case <-time.After(s.hold):
		}
	}
	res, err := s.Committer.AppendBatch(ctx, b)
	if err == nil && b.Queued != nil && s.rejected.Load() {
		s.once.Do(func() { close(s.committed) })
	}
	return res, err
}

// TestAGroupTheStoreRejectsKeepsItsTurn has the store reject groups'
// batches for events the decoder accepted: the ingest appends their events
// one by one, dead-letters only those, and keeps the group's turn until
// the last is stored, so that the groups after it, handed out and waiting,
// are stored after it and the log keeps the stream's order.
func TestAGroupTheStoreRejectsKeepsItsTurn(t *testing.T) {
	e := newEnv(t)
	const n = 600
	e.publishComplaints(n)
	refuse := map[string]bool{"100": true, "300": true, "500": true}
	store := &refusingStore{Committer: e.com, refuse: refuse, hold: 2 * time.Second, committed: make(chan struct{})}
	rewind := func(ctx context.Context) error { return e.client.ResetConsumer(ctx, "") }
	r := e.start(plaintwm.Config{Store: store, Batch: 50, Rewind: rewind})
	testutil.WaitFor(t, waitLimit, "every message acked", func() bool { return e.allAcked(n) })
	if !store.rejected.Load() || !store.held.Load() {
		t.Fatalf("the store refused no group's batch (%v) or held no append one by one (%v): the test shows nothing", store.rejected.Load(), store.held.Load())
	}
	bad := len(refuse)
	if st := r.Stats(); st.Stored != uint64(n-bad) || st.DeadLettered != uint64(bad) || st.Duplicates != 0 || st.Errors != 0 {
		t.Fatalf("stats %+v: want %d stored, %d dead-lettered, no duplicates or failures", st, n-bad, bad)
	}
	if got := e.dlqMessages(); got != uint64(bad) {
		t.Fatalf("%d dead letters, want %d", got, bad)
	}
	checkStreamOrder(t, e.log)
}

package watermill_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"

	"github.com/nats-io/nats.go/jetstream"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// env is a real in-process NATS server with the plaint streams and a real
// bbolt log in a temporary directory.
type env struct {
	t      *testing.T
	srv    *plaintnats.Server
	client *plaintnats.Client  // what the ingest gets its consumer and dead-letter function from
	js     jetstream.JetStream // a connection of the test's own, to look at the streams
	dir    string

	log     *eventstore.Log
	com     *eventstore.Committer
	commits atomic.Int64 // transactions committed by com
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv, client := natstest.ServerWithStreams(t)
	_, js := natstest.Connect(t, srv.ClientURL())
	e := &env{t: t, srv: srv, client: client, js: js, dir: t.TempDir()}
	e.openLog()
	t.Cleanup(e.closeLog)
	return e
}

// openLog opens the log and a committer on it.
func (e *env) openLog() {
	e.t.Helper()
	l, err := eventstore.Open(filepath.Join(e.dir, "events.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.log = l
	e.com = eventstore.NewCommitter(l, eventstore.WithCommitHook(func(int, int) { e.commits.Add(1) }))
}

func (e *env) closeLog() {
	if e.log == nil {
		return
	}
	e.com.Close()
	if err := e.log.Close(); err != nil {
		e.t.Error(err)
	}
	e.log, e.com = nil, nil
}

// running is an Ingest running in the background.
type running struct {
	*plaintwm.Ingest
	errc chan error
}

// wire fills in what serve wires into an ingest's cfg: the durable
// consumer, the dead-letter function and the flush of the client, and,
// unless set, the committer as the store.
func (e *env) wire(cfg plaintwm.Config) plaintwm.Config {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := e.client.IngestConsumer(ctx, "")
	if err != nil {
		e.t.Fatal(err)
	}
	cfg.Consumer, cfg.DeadLetter, cfg.Flush = cons, e.client.PublishDeadLetter, e.client.Flush
	if cfg.Store == nil {
		cfg.Store = e.com
	}
	return cfg
}

// start runs an Ingest with cfg (wired, see wire) and stops it when the
// test ends.
func (e *env) start(cfg plaintwm.Config) *running {
	e.t.Helper()
	in, err := plaintwm.New(e.wire(cfg))
	if err != nil {
		e.t.Fatal(err)
	}
	r := &running{Ingest: in, errc: make(chan error, 1)}
	go func() { r.errc <- in.Run(context.Background()) }()
	select {
	case <-in.Running():
	case err := <-r.errc:
		e.t.Fatalf("Run returned before running: %v", err)
	case <-time.After(10 * time.Second):
		e.t.Fatal("ingest did not start")
	}
	e.t.Cleanup(func() {
		r.stop(e.t)
		e.logStateIfFailed(r)
	})
	return r
}

// logStateIfFailed logs, when the test failed, where the consumer and the
// log stand (what a timed-out wait leaves to explain).
func (e *env) logStateIfFailed(r *running) {
	if !e.t.Failed() {
		return
	}
	info := e.consumerInfo()
	var last uint64
	if e.log != nil {
		last = e.log.LastSeq()
	}
	e.t.Logf("at the failure: consumer delivered %+v, ack floor %+v, %d pending, %d ack pending, %d redelivered; log last seq %d; ingest stats %+v",
		info.Delivered, info.AckFloor, info.NumPending, info.NumAckPending, info.NumRedelivered, last, r.Stats())
}

// stop closes the ingest and checks that Run returned nil.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if err := r.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case err, ok := <-r.errc:
		if ok && err != nil {
			t.Errorf("Run: %v", err)
		}
		if ok {
			close(r.errc)
		}
	case <-time.After(30 * time.Second):
		t.Error("Run did not return after Close")
	}
}

var baseTime = time.Now().UTC().Add(-48 * time.Hour).Truncate(time.Second)

// complaint returns a valid complaint.filed event.
func complaint(source, id string) domain.Event {
	return domain.Event{
		ID: id, Source: source, Type: domain.TypeComplaintFiled, Time: baseTime, Subject: "C-1042",
		Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: "C-1042", Category: "billing", Segment: "enterprise", Channel: "phone",
			Severity: 3, RootCause: "process", Product: "fiber", Region: "north"},
	}
}

func payload(t testing.TB, ev domain.Event) []byte {
	t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (e *env) publish(subject string, data []byte) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.js.Publish(ctx, subject, data); err != nil {
		e.t.Fatalf("publish to %s: %v", subject, err)
	}
}

func (e *env) publishEvent(ev domain.Event) {
	e.t.Helper()
	e.publish(ev.Type.Subject(), payload(e.t, ev))
}

// publishComplaints publishes n complaints of source crm, with ids 0 to
// n-1 in that order.
func (e *env) publishComplaints(n int) {
	e.t.Helper()
	for i := range n {
		e.publishEvent(complaint("crm", fmt.Sprint(i)))
	}
}

func (e *env) consumerInfo() *jetstream.ConsumerInfo {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := e.js.Consumer(ctx, plaintnats.EventsStream, plaintnats.DefaultConsumer)
	if err != nil {
		e.t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	return info
}

// allAcked reports whether every message of the events stream is acknowledged.
func (e *env) allAcked(total uint64) bool {
	info := e.consumerInfo()
	return info.NumPending == 0 && info.NumAckPending == 0 && info.AckFloor.Stream == total
}

// waitLimit is how long a test waits for a condition.
const waitLimit = 20 * time.Second

// gateStore wraps a Store: Append blocks until the gate opens.
type gateStore struct {
	inner   plaintwm.Store
	gate    chan struct{}
	once    sync.Once
	entered atomic.Int64 // Append calls that reached the gate
	done    atomic.Int64 // Append calls that returned
	// order hands gateBatchStore's batches to the inner store in the order
	// they were queued: ticket issued on entry, turn the next to go.
	order        sync.Mutex
	turnCond     *sync.Cond
	issued, turn uint64
}

func newGateStore(inner plaintwm.Store) *gateStore {
	return &gateStore{inner: inner, gate: make(chan struct{})}
}

func (g *gateStore) open() { g.once.Do(func() { close(g.gate) }) }

func (g *gateStore) Append(ctx context.Context, ev domain.Event) (eventstore.Result, error) {
	g.entered.Add(1)
	<-g.gate
	defer g.done.Add(1)
	return g.inner.Append(ctx, ev)
}

func (g *gateStore) DeadLettered(ctx context.Context, d eventstore.DeadLetter) (eventstore.Result, error) {
	return g.inner.DeadLettered(ctx, d)
}

// gateBatchStore is a gateStore with AppendBatch, gated the same way (each
// event of a batch counts as one call). A batch counts as queued (the next
// group of the ingest may go) when it reaches the gate, as with a
// committer whose commit is slow; and, as with that committer, the
// batches held at the gate reach the inner store in the order they were
// queued, not in whatever order their goroutines wake when it opens.
type gateBatchStore struct{ *gateStore }

func (g gateBatchStore) AppendBatch(ctx context.Context, b eventstore.Batch) ([]eventstore.Result, error) {
	n := int64(len(b.Events))
	g.order.Lock()
	if g.turnCond == nil {
		g.turnCond = sync.NewCond(&g.order)
	}
	ticket := g.issued
	g.issued++
	g.order.Unlock()
	if b.Queued != nil {
		b.Queued()
	}
	if n > 0 {
		g.entered.Add(n)
		<-g.gate
		defer g.done.Add(n)
	}
	g.order.Lock()
	for g.turn != ticket {
		g.turnCond.Wait()
	}
	g.order.Unlock()
	// The next batch may go once the inner store has queued this one (its
	// committer calls Queued, also when it returns early).
	var next sync.Once
	b.Queued = func() {
		next.Do(func() {
			g.order.Lock()
			g.turn++
			g.turnCond.Broadcast()
			g.order.Unlock()
		})
	}
	defer b.Queued()
	return g.inner.(plaintwm.BatchStore).AppendBatch(ctx, b)
}

// storeOnly hides the AppendBatch of a store.
type storeOnly struct{ plaintwm.Store }

// mode is a way to run the ingest; the tests of its promises run in each.
type mode struct {
	name string
	cfg  plaintwm.Config // Batch and BatchWait
	// store returns the store to give the ingest: s itself, or s without
	// its AppendBatch.
	store func(s plaintwm.Store) plaintwm.Store
	// gate returns a gated store on s, with AppendBatch if the mode uses it.
	gate func(g *gateStore) plaintwm.Store
}

var modes = []mode{
	{"batch", plaintwm.Config{},
		func(s plaintwm.Store) plaintwm.Store { return s },
		func(g *gateStore) plaintwm.Store { return gateBatchStore{g} }},
	{"batch-store-without-AppendBatch", plaintwm.Config{},
		func(s plaintwm.Store) plaintwm.Store { return storeOnly{s} },
		func(g *gateStore) plaintwm.Store { return g }},
	{"per-message", plaintwm.Config{Batch: 1},
		func(s plaintwm.Store) plaintwm.Store { return s },
		func(g *gateStore) plaintwm.Store { return g }},
}

// forEachMode runs test in every mode.
func forEachMode(t *testing.T, test func(t *testing.T, m mode)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { test(t, m) })
	}
}

// with returns cfg in mode m: its Batch and BatchWait, and its store on
// cfg.Store (or on the env's committer).
func (m mode) with(e *env, cfg plaintwm.Config) plaintwm.Config {
	cfg.Batch, cfg.BatchWait = m.cfg.Batch, m.cfg.BatchWait
	if cfg.Store == nil {
		cfg.Store = m.store(e.com)
	}
	return cfg
}

// readLog returns the ids stored in the log, in order.
func readLog(t testing.TB, l *eventstore.Log) []string {
	t.Helper()
	var ids []string
	if err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if seq != uint64(len(ids)+1) {
			return fmt.Errorf("seq %d out of order", seq)
		}
		ids = append(ids, ev.Source+"/"+ev.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return ids
}

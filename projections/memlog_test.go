package projections

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections/customers"
)

// memLog is a second store: an event log kept in memory, in the compact
// record format (eventstore.Codec), with nothing of bbolt. The engine runs
// on it through its Log port.
type memLog struct {
	mu      sync.RWMutex
	codec   *eventstore.Codec
	recs    []eventstore.Record
	keys    map[[2]string]bool
	changed chan struct{}
	now     func() time.Time
}

func newMemLog(now func() time.Time) *memLog {
	return &memLog{codec: eventstore.NewCodec(), keys: map[[2]string]bool{}, changed: make(chan struct{}), now: now}
}

// Append stores the events that are not duplicates, all with one record time.
func (m *memLog) Append(evs ...domain.Event) error {
	for i := range evs {
		if err := domain.Validate(&evs[i]); err != nil {
			return err
		}
	}
	m.mu.Lock()
	rt := m.now().UnixNano()
	for i := range evs {
		k := [2]string{evs[i].Source, evs[i].ID}
		if m.keys[k] {
			continue
		}
		m.keys[k] = true
		m.recs = append(m.recs, m.codec.Encode(&evs[i], rt))
	}
	close(m.changed)
	m.changed = make(chan struct{})
	m.mu.Unlock()
	return nil
}

func (m *memLog) LastSeq() uint64 {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return uint64(len(m.recs))
}

func (m *memLog) Changed() <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.changed
}

func (m *memLog) ViewRecords(fn func(eventstore.RecordView) error) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return fn(memView{m: m, recs: m.recs})
}

// RecordSum is the store's own business: here, the checksum the codec puts
// at the start of each record.
func (m *memLog) RecordSum(seq uint64) (uint32, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if seq == 0 || seq > uint64(len(m.recs)) {
		return 0, domain.Errorf(domain.ENOTFOUND, "no record %d", seq)
	}
	return binary.LittleEndian.Uint32(m.recs[seq-1]), nil
}

func (m *memLog) Erasures() uint64 { return 0 }

// memView is a memLog's read view, valid while the view's lock is held.
type memView struct {
	m    *memLog
	recs []eventstore.Record
}

func (v memView) LastSeq() uint64 { return uint64(len(v.recs)) }

func (v memView) Scan(from, to uint64, fn func(uint64, eventstore.Record) error) error {
	if to == 0 || to > v.LastSeq() {
		to = v.LastSeq()
	}
	for seq := max(from, 1); seq <= to; seq++ {
		if err := fn(seq, v.recs[seq-1]); err != nil {
			if err == eventstore.ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}

func (v memView) Get(seq uint64) (eventstore.Record, error) {
	if seq == 0 || seq > v.LastSeq() {
		return nil, domain.Errorf(domain.ENOTFOUND, "no record %d", seq)
	}
	return v.recs[seq-1], nil
}

func (v memView) Decode(r eventstore.Record) (domain.Event, error) { return v.m.codec.Decode(r) }

func (v memView) Optional(r eventstore.Record) (eventstore.Optional, error) {
	return v.m.codec.Optional(r)
}

func (v memView) String(id uint32) string { return v.m.codec.String(id) }

func (v memView) DictLen() int { return v.m.codec.Len() }

func (v memView) SeqAt(t time.Time) (uint64, error) {
	n := sort.Search(len(v.recs), func(i int) bool { return v.recs[i].RecordTime() > t.UnixNano() })
	return uint64(n), nil
}

var _ Log = (*memLog)(nil)

// answers is what an engine answers about a log: trends, the active base, a
// spec's table and the lost-customer review, as JSON.
func answers(t *testing.T, e *Engine) string {
	t.Helper()
	ctx := context.Background()
	tr, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory, DimSegment}, From: "2024-01", To: "2026-12"})
	if err != nil {
		t.Fatal(err)
	}
	base, err := e.Query(ctx, baseName, AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	sp, err := ParseSpec([]byte("name: by-channel\ngroup_by: [channel]\nmeasures: [count, distinct:customer_id, avg:severity]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Create(sp); err != nil {
		t.Fatal(err)
	}
	spec, err := e.Query(ctx, "by-channel", AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	rev, err := e.Review(ctx, customers.ReviewQuery{Period: "2025-Q3", Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal([]any{tr, base, spec, rev})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestEngineRunsOnAnotherStore runs the engine on an in-memory log and on
// the bbolt log, both given the same batches at the same record times, and
// checks that every answer is the same, live appends included.
func TestEngineRunsOnAnotherStore(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bl, dir := openTestLog(t, start)
	mc := &clock{t: start}
	ml := newMemLog(mc.now)
	g := newGen(21)
	appendBoth := func(n int) {
		g.batches(n, func(evs []domain.Event) {
			if _, err := bl.Append(evs...); err != nil {
				t.Fatal(err)
			}
			if err := ml.Append(evs...); err != nil {
				t.Fatal(err)
			}
		})
	}
	appendBoth(1500)
	if bl.LastSeq() != ml.LastSeq() {
		t.Fatalf("bbolt log at %d, memory log at %d", bl.LastSeq(), ml.LastSeq())
	}
	be := openTestEngine(t, bl, filepath.Join(dir, "projections.db"))
	me := openTestEngine(t, ml, filepath.Join(dir, "projections-mem.db"), WithChunk(200))
	if b, m := answers(t, be), answers(t, me); b != m {
		t.Fatalf("the engines answer differently:\nbbolt  %s\nmemory %s", b, m)
	}

	// Live: Run advances the memory log's projections as it changes.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- me.Run(ctx) }()
	advanced := make(chan uint64, 100)
	stop := me.OnAdvance("by-channel", func(a Advance) { advanced <- a.To })
	defer stop()
	appendBoth(300)
	deadline := time.After(20 * time.Second)
	for at := uint64(0); at < ml.LastSeq(); {
		select {
		case at = <-advanced:
		case <-deadline:
			t.Fatalf("the spec on the memory log advanced to %d, log at %d", at, ml.LastSeq())
		}
	}
	if b, m := answers(t, be), answers(t, me); b != m {
		t.Fatalf("after live appends the engines answer differently:\nbbolt  %s\nmemory %s", b, m)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

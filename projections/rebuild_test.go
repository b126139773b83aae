package projections

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// gate blocks the saves of replacement builds until released, and reports
// every save.
type gate struct {
	release chan struct{}
	saved   chan string
}

func newGate() *gate { return &gate{release: make(chan struct{}), saved: make(chan string, 1000)} }

// open forgets the saves so far and lets replacement builds go on.
func (g *gate) open() {
	for {
		select {
		case <-g.saved:
		default:
			close(g.release)
			return
		}
	}
}

func (g *gate) hook(name string, seq uint64) {
	if strings.HasSuffix(name, nextSuffix) {
		<-g.release
	}
	g.saved <- name
}

// waitSaved waits, up to a deadline, for a save of name.
func (g *gate) waitSaved(t *testing.T, name string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case n := <-g.saved:
			if n == name {
				return
			}
		case <-deadline:
			t.Fatalf("no save of %s", name)
		}
	}
}

// serveV1 creates the spec x, grouped by category, and waits until it
// answers; it returns the spec's next version, which adds a measure.
func serveV1(t *testing.T, e *Engine) *Spec {
	t.Helper()
	v1, _ := ParseSpec([]byte("name: x\ngroup_by: [category]\n"))
	v2, _ := ParseSpec([]byte("name: x\ngroup_by: [category]\nmeasures: [count, distinct:customer_id]\n"))
	if _, err := e.Create(v1); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Query(context.Background(), "x", AsOf{}); err != nil {
		t.Fatal(err)
	}
	return v2
}

func TestChangedSpecRebuildsWhileOldServes(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(3), 2000)
	g := newGate()
	e := openTestEngine(t, l, filepath.Join(dir, "projections.db"), WithChunk(300), WithCheckpointEvery(0), WithCheckpointHook(g.hook))
	ctx := context.Background()
	v2 := serveV1(t, e)
	st, err := e.Create(v2)
	if err != nil {
		t.Fatal(err)
	}
	if st.Rebuild == nil || st.Rebuild.State != "building" || st.State != "live" {
		t.Fatalf("status after the change: %+v", st)
	}
	// The replacement is held at its first checkpoint: the old one answers,
	// caught up with new events.
	appendRandom(t, l, newGen(4), 100)
	old, err := e.Query(ctx, "x", AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(old.Columns) != 3 || old.AsOfSeq != l.LastSeq() {
		t.Fatalf("while rebuilding: columns %v at %d (log at %d)", old.Columns, old.AsOfSeq, l.LastSeq())
	}
	g.open()
	g.waitSaved(t, "x")
	got, err := e.Query(ctx, "x", AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Columns) != 4 || got.AsOfSeq != l.LastSeq() {
		t.Fatalf("after the rebuild: columns %v at %d", got.Columns, got.AsOfSeq)
	}
	if st, _ := e.Status("x"); st.Rebuild != nil || st.State != "live" {
		t.Fatalf("status after the rebuild: %+v", st)
	}
	// Dropping removes it, also from the state file.
	if err := e.Drop("x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Status("x"); err == nil {
		t.Fatal("dropped projection still has a status")
	}
}

func TestNewCodeVersionRebuildsWhileOldServes(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(5), 2000)
	state := filepath.Join(dir, "projections.db")
	ctx := context.Background()
	q := TrendQuery{By: []Dimension{DimCategory}, From: "2024-01", To: "2026-12"}
	e := openTestEngine(t, l, state)
	want, err := e.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// Pretend the saved customer base was built by an older version of the
	// code (trend caches are never saved).
	name, _ := baseDefinition()
	db, err := bolt.Open(state, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		var m meta
		b := tx.Bucket(bucketMeta)
		if err := json.Unmarshal(b.Get([]byte(name)), &m); err != nil {
			return err
		}
		m.Def.Version = baseVersion - 1
		v, _ := json.Marshal(m)
		return b.Put([]byte(name), v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	g := newGate()
	e2 := openTestEngine(t, l, state, WithChunk(300), WithCheckpointEvery(0), WithCheckpointHook(g.hook))
	st, err := e2.Status(name)
	if err != nil || st.Version != baseVersion-1 || st.Rebuild == nil || st.Rebuild.Version != baseVersion {
		t.Fatalf("status %+v, %v", st, err)
	}
	got, err := e2.Trends(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Rows) != len(want.Rows) {
		t.Fatalf("old version served %d rows, want %d", len(got.Rows), len(want.Rows))
	}
	g.open()
	g.waitSaved(t, name)
	if st, _ := e2.Status(name); st.Version != baseVersion || st.Rebuild != nil {
		t.Fatalf("after the rebuild: %+v", st)
	}
}

// TestPromotedRebuildIsNotOverwrittenByTheOldVersion: a save of the old
// version that is under way (or about to start) when a rebuild is promoted
// must not land after it, or a restart would bring the old spec back.
func TestPromotedRebuildIsNotOverwrittenByTheOldVersion(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(5), 1000)
	g := newGate()
	state := filepath.Join(dir, "projections.db")
	e, err := Open(l, state, WithChunk(300), WithCheckpointEvery(0), WithCheckpointHook(g.hook))
	if err != nil {
		t.Fatal(err)
	}
	v2 := serveV1(t, e)
	e.mu.Lock()
	old := e.projs["x"]
	e.mu.Unlock()
	if _, err := e.Create(v2); err != nil {
		t.Fatal(err)
	}
	g.open()
	g.waitSaved(t, "x")
	// The periodic saver took its list before the promotion and now saves
	// the old version.
	old.mu.Lock()
	old.dirty = true
	err = e.save(old, nil)
	old.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTestEngine(t, l, state)
	st, err := e2.Status("x")
	if err != nil {
		t.Fatal(err)
	}
	if st.Spec == nil || len(st.Spec.Measures) != 2 {
		t.Fatalf("after a restart the projection is back to %+v", st.Spec)
	}
}

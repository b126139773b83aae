package projections

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// countFold is a kind registered from outside the engine, as the alert
// detector registers its own: complaints by category, saved whole
// ("test-count") or entry by entry ("test-count-entries").
type countFold struct {
	n     map[string]int64
	dirty map[string]bool
	puts  int // entries written by the last SaveEntries
}

type countPart struct{ n map[string]int64 }

func newCountFold() *countFold { return &countFold{n: map[string]int64{}, dirty: map[string]bool{}} }

func (f *countFold) NewPart() Part { return &countPart{n: map[string]int64{}} }

func (p *countPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	var n uint64
	err := s.Scan(from, to, func(seq uint64, r eventstore.Record) error {
		n++
		if r.Type() != domain.TypeComplaintFiled {
			return nil
		}
		ev, err := decodeCurrent(s, r)
		if err != nil {
			return err
		}
		p.n[ev.Data.Category]++
		return nil
	})
	seen.Add(n)
	return err
}

func (f *countFold) Merge(pp Part) error {
	for c, n := range pp.(*countPart).n {
		f.n[c] += n
		f.dirty[c] = true
	}
	return nil
}

func (f *countFold) MarshalState() ([]byte, error) { return json.Marshal(f.n) }

func (f *countFold) UnmarshalState(b []byte) error {
	f.n = map[string]int64{}
	return json.Unmarshal(b, &f.n)
}

// Answer returns a copy of the counts: small enough here.
func (f *countFold) Answer() any { return maps.Clone(f.n) }

func (f *countFold) Table(name string) (*Table, error) {
	t := &Table{Name: name, Columns: []string{"category", "count"}}
	for c, n := range f.n {
		t.Rows = append(t.Rows, []any{c, n})
	}
	return t, nil
}

// countEntries is countFold saved entry by entry: one entry a category.
type countEntries struct{ *countFold }

func (f countEntries) SaveEntries(b Entries, all bool) error {
	f.puts = 0
	for c, n := range f.n {
		if !all && !f.dirty[c] {
			continue
		}
		v, _ := json.Marshal(n)
		if err := b.Put([]byte("c/"+c), v); err != nil {
			return err
		}
		f.puts++
	}
	clear(f.dirty)
	return nil
}

func (f countEntries) LoadEntries(b Entries) error {
	f.n = map[string]int64{}
	return b.ForEach(func(k, v []byte) error {
		var n int64
		if err := json.Unmarshal(v, &n); err != nil {
			return err
		}
		f.n[string(k[2:])] = n
		return nil
	})
}

func init() {
	MustRegisterKind(Kind{Name: "test-count", Version: 1, Persist: PersistWhole,
		New: func(*Definition, Env) (Fold, error) { return newCountFold(), nil }})
	MustRegisterKind(Kind{Name: "test-count-entries", Version: 1, Persist: PersistEntries,
		New: func(*Definition, Env) (Fold, error) { return countEntries{newCountFold()}, nil }})
	// A kind whose fold lacks what its persistence needs (for
	// TestRegisterKindRejects): registered here, once, so that the test can
	// run again in the same process (-count).
	MustRegisterKind(Kind{Name: "test-bad-persist", Version: 1, Persist: PersistEntries,
		New: func(*Definition, Env) (Fold, error) { return newCountFold(), nil }})
}

// wantCounts counts the complaints by category among stored events up to seq.
func wantCounts(evs []stored, seq uint64) map[string]int64 {
	want := map[string]int64{}
	for _, s := range evs {
		if s.seq <= seq && s.ev.Type == domain.TypeComplaintFiled {
			ev := s.ev
			domain.Upcast(&ev)
			want[ev.Data.Category]++
		}
	}
	return want
}

// readCounts reads the counts of the projection name through Read.
func readCounts(t *testing.T, e *Engine, name string) (map[string]int64, uint64) {
	t.Helper()
	var got map[string]int64
	var at uint64
	err := e.Read(context.Background(), name, func(f Fold, seq uint64) error {
		switch f := f.(type) {
		case *countFold:
			got = maps.Clone(f.n)
		case countEntries:
			got = maps.Clone(f.n)
		}
		at = seq
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return got, at
}

// TestRegisteredKindsAreBuiltSavedAndLoaded builds a projection of each
// kind registered from this test file, checks its state against the
// events, and checks that a restart loads it (whole, or from its entries,
// of which a save writes only the changed ones) instead of rebuilding.
func TestRegisteredKindsAreBuiltSavedAndLoaded(t *testing.T) {
	for _, kind := range []string{"test-count", "test-count-entries"} {
		t.Run(kind, func(t *testing.T) {
			l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			g := newGen(3)
			evs := appendRandom(t, l, g, 800)
			path := filepath.Join(dir, "projections.db")
			name := "builtin/" + kind
			e, err := Open(l, path, WithChunk(100))
			if err != nil {
				t.Fatal(err)
			}
			st, err := e.Ensure(name, Definition{Kind: kind})
			if err != nil {
				t.Fatal(err)
			}
			if st.Kind != kind || st.Version != 1 {
				t.Fatalf("status %+v", st)
			}
			got, at := readCounts(t, e, name)
			if want := wantCounts(evs, at); at != l.LastSeq() || !reflect.DeepEqual(got, want) {
				t.Fatalf("at %d (log %d): %v, want %v", at, l.LastSeq(), got, want)
			}
			tab, err := e.Query(context.Background(), name, AsOf{})
			if err != nil || len(tab.Rows) != len(got) {
				t.Fatalf("query: %v, %v", tab, err)
			}
			// One more complaint of one category: the next save writes one entry.
			ev := g.event()
			ev.ID, ev.Type, ev.Schema = "one-more", domain.TypeComplaintFiled, domain.CurrentSchema
			ev.Data = domain.Data{CustomerID: "C-1", Category: "billing", Segment: "smb", Severity: 2}
			res, err := l.Append(ev)
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, stored{seq: res[0].Seq, ev: ev})
			readCounts(t, e, name)
			if err := e.Close(); err != nil {
				t.Fatal(err)
			}
			if kind == "test-count-entries" {
				if p := e.projs[name].f.(countEntries); p.puts != 1 {
					t.Fatalf("the save after one complaint wrote %d entries, want 1", p.puts)
				}
			}

			e = openTestEngine(t, l, path)
			st, err = e.Status(name)
			if err != nil || st.State != "live" || st.Checkpoint != l.LastSeq() {
				t.Fatalf("after reopen: %+v, %v (log at %d)", st, err, l.LastSeq())
			}
			got, at = readCounts(t, e, name)
			if want := wantCounts(evs, at); !reflect.DeepEqual(got, want) {
				t.Fatalf("loaded %v, want %v", got, want)
			}
		})
	}
}

// TestRegisterKindRejects checks what a registration must hold.
func TestRegisterKindRejects(t *testing.T) {
	newF := func(*Definition, Env) (Fold, error) { return newCountFold(), nil }
	if err := RegisterKind(Kind{Name: "test-count", Version: 1, Persist: PersistWhole, New: newF}); !errors.Is(err, ErrKindExists) {
		t.Fatalf("duplicate: %v", err)
	}
	if err := RegisterKind(Kind{Name: kindTrend, Version: 9, Persist: PersistNone, New: newF}); !errors.Is(err, ErrKindExists) {
		t.Fatalf("a built-in's name: %v", err)
	}
	err := RegisterKind(Kind{})
	for _, want := range []string{"without a name", "version 0", "no New", "persistence 0"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("empty kind: %v, want it to say %q", err, want)
		}
	}
	// A kind whose fold lacks what its persistence needs (registered in
	// init) fails at Ensure.
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	e := openTestEngine(t, l, filepath.Join(dir, "projections.db"))
	if _, err := e.Ensure("builtin/bad", Definition{Kind: "test-bad-persist"}); err == nil || !strings.Contains(err.Error(), "no EntryState") {
		t.Fatalf("Ensure of a fold without EntryState: %v", err)
	}
	for _, name := range []string{"mine", "builtin/", "builtin/trend/month/category"} {
		if _, err := e.Ensure(name, Definition{Kind: "test-count"}); domain.ErrorCode(err) != domain.EINVALID {
			t.Fatalf("Ensure(%q): %v, want EINVALID", name, err)
		}
	}
	if _, err := e.Ensure("builtin/x", Definition{Kind: "no-such-kind"}); domain.ErrorCode(err) != domain.EINVALID {
		t.Fatalf("unknown kind: %v", err)
	}
	if err := e.Read(context.Background(), "builtin/none", func(Fold, uint64) error { return nil }); domain.ErrorCode(err) != domain.ENOTFOUND {
		t.Fatalf("Read of no projection: %v", err)
	}
}

// TestAdvanceHookSeesEveryAdvanceInOrder subscribes to a registered
// projection before it exists and checks that the hook sees its build in
// chunks and every live batch after, each step starting where the last
// ended, up to the end of the log, with the fold's answer at each step.
func TestAdvanceHookSeesEveryAdvanceInOrder(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newGen(5)
	evs := appendRandom(t, l, g, 600)
	e := openTestEngine(t, l, filepath.Join(dir, "projections.db"), WithChunk(100))
	const name = "builtin/test-count"
	var mu sync.Mutex
	var seen []Advance
	got := make(chan struct{}, 1)
	stop := e.OnAdvance(name, func(a Advance) {
		mu.Lock()
		seen = append(seen, a)
		mu.Unlock()
		select {
		case got <- struct{}{}:
		default:
		}
	})
	defer stop()
	// Advances of other projections are not this hook's.
	if _, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if _, err := e.Ensure(name, Definition{Kind: "test-count"}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		evs = append(evs, appendRandom(t, l, g, 40)...)
	}
	waitAdvanced := func(to uint64) []Advance {
		deadline := time.After(20 * time.Second)
		for {
			mu.Lock()
			s := append([]Advance(nil), seen...)
			mu.Unlock()
			if len(s) > 0 && s[len(s)-1].To >= to {
				return s
			}
			select {
			case <-got:
			case <-deadline:
				t.Fatalf("hook saw %d advances, none up to %d", len(s), to)
			}
		}
	}
	s := waitAdvanced(l.LastSeq())
	if len(s) < 6 {
		t.Fatalf("%d advances for a build of 6 chunks and live batches", len(s))
	}
	next := uint64(1)
	for i, a := range s {
		if a.Name != name || a.From != next || a.To < a.From || a.Rebuilt {
			t.Fatalf("advance %d = %+v, want %s from %d", i, a, name, next)
		}
		if want := wantCounts(evs, a.To); !reflect.DeepEqual(a.Answer, want) {
			t.Fatalf("advance %d to %d: answer %v, want %v", i, a.To, a.Answer, want)
		}
		next = a.To + 1
	}
	if !s[len(s)-1].Built || s[0].Built {
		t.Fatalf("built: first %v, last %v", s[0].Built, s[len(s)-1].Built)
	}

	// After stop, nothing more is delivered.
	stop()
	mu.Lock()
	n := len(seen)
	mu.Unlock()
	appendRandom(t, l, g, 30)
	if _, at := readCounts(t, e, name); at != l.LastSeq() {
		t.Fatalf("read at %d, log at %d", at, l.LastSeq())
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != n {
		t.Fatalf("%d advances delivered after stop", len(seen)-n)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestAdvanceHookOnEveryProjection checks that a hook on "" sees the
// advances of every serving projection, and that Close delivers what was
// queued before it returns.
func TestAdvanceHookOnEveryProjection(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(8), 300)
	e, err := Open(l, filepath.Join(dir, "projections.db"))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	names := map[string]uint64{}
	e.OnAdvance("", func(a Advance) {
		mu.Lock()
		names[a.Name] = max(names[a.Name], a.To)
		mu.Unlock()
	})
	if _, err := e.Trends(context.Background(), TrendQuery{By: []Dimension{DimCategory}}); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	trend, _ := trendDefinition([]Dimension{DimCategory}, domain.BucketMonth)
	for _, n := range []string{trend, baseName, firstsName} {
		if names[n] != l.LastSeq() {
			t.Fatalf("hook saw %s up to %d, log at %d (all: %v)", n, names[n], l.LastSeq(), names)
		}
	}
}

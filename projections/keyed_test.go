package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// memEntries is an entries bucket in memory that counts its writes. Like
// bbolt's, it keeps the slices Put is given.
type memEntries struct {
	m      map[string][]byte
	writes int // puts and deletes
}

func (b *memEntries) Get(k []byte) []byte { return b.m[string(k)] }

func (b *memEntries) Put(k, v []byte) error {
	b.m[string(k)] = v
	b.writes++
	return nil
}

func (b *memEntries) Delete(k []byte) error {
	delete(b.m, string(k))
	b.writes++
	return nil
}

// ForEach visits the entries in key order, as bbolt does.
func (b *memEntries) ForEach(fn func(k, v []byte) error) error {
	for _, k := range slices.Sorted(maps.Keys(b.m)) {
		if err := fn([]byte(k), b.m[k]); err != nil {
			return err
		}
	}
	return nil
}

// TestCheckpointWritesOnlyChangedKeys folds a log into the base and a spec,
// saves them whole, folds a few more events and checks that the next save
// writes only the header and the entries those events changed, and that a
// fold loaded from the entries answers as the one that saved them.
func TestCheckpointWritesOnlyChangedKeys(t *testing.T) {
	sp, err := ParseSpec([]byte("name: by-channel\ngroup_by: [channel, customer_id, currency]\nmeasures: [count, distinct:customer_id, avg:severity, sum:amount]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, base := baseDefinition()
	for _, def := range []*Definition{base, specDefinition(sp)} {
		t.Run(def.Kind, func(t *testing.T) {
			ml := newMemLog((&clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}).now)
			g := newGen(9)
			g.custs = 400
			appendGen(t, ml, g, 3000)
			f, _, err := def.newFold(Env{})
			if err != nil {
				t.Fatal(err)
			}
			o := defaultOptions()
			fold := func(from, to uint64) {
				if err := foldRange(context.Background(), ml, f, from, to, &o, new(atomic.Uint64)); err != nil {
					t.Fatal(err)
				}
			}
			fold(1, ml.LastSeq())
			es := f.(EntryState)
			b := &memEntries{m: map[string][]byte{}}
			if err := es.SaveEntries(b, true); err != nil {
				t.Fatal(err)
			}
			if b.writes != len(b.m) || len(b.m) < 400 {
				t.Fatalf("a save of all wrote %d times %d entries; want one write an entry, at least 400", b.writes, len(b.m))
			}

			from := ml.LastSeq() + 1
			appendGen(t, ml, g, 4)
			fold(from, ml.LastSeq())
			before := maps.Clone(b.m)
			b.writes = 0
			if err := es.SaveEntries(b, false); err != nil {
				t.Fatal(err)
			}
			changed := 0
			for k, v := range b.m {
				if !bytes.Equal(before[k], v) {
					changed++
				}
			}
			// The header is written at every save, changed or not.
			if b.writes > changed+1 || changed == 0 || b.writes > 12 {
				t.Fatalf("after 4 events a save wrote %d times, %d entries changed (of %d)", b.writes, changed, len(b.m))
			}
			b.writes = 0
			if err := es.SaveEntries(b, false); err != nil || b.writes != 1 {
				t.Fatalf("a save with nothing changed wrote %d times (%v); want the header only", b.writes, err)
			}

			loaded, _, err := def.newFold(Env{})
			if err != nil {
				t.Fatal(err)
			}
			if err := loaded.(EntryState).LoadEntries(b); err != nil {
				t.Fatal(err)
			}
			if got, want := tableJSON(t, loaded), tableJSON(t, f); got != want {
				t.Fatalf("loaded from its entries the fold answers\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// tableJSON renders f's table as JSON.
func tableJSON(t *testing.T, f Fold) string {
	t.Helper()
	tab, err := f.(Tabler).Table("t")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(tab)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// appendGen appends n of g's events to ml in one batch.
func appendGen(t *testing.T, ml *memLog, g *gen, n int) {
	t.Helper()
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = g.event()
	}
	if err := ml.Append(evs...); err != nil {
		t.Fatal(err)
	}
}

// TestRestartRestoresIdenticalAnswers answers, appends, closes and reopens
// an engine twice (saves of all the entries, then of what changed after a
// load) and checks that every answer after each restart is the one before
// it and the one an engine built from scratch gives.
func TestRestartRestoresIdenticalAnswers(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l, dir := openTestLog(t, start)
	g := newGen(33)
	state := filepath.Join(dir, "projections.db")
	appendRandom(t, l, g, 1200)
	e := openTestEngine(t, l, state)
	answers(t, e)
	for round := range 2 {
		appendRandom(t, l, g, 150)
		want := answers(t, e)
		if err := e.Close(); err != nil {
			t.Fatal(err)
		}
		e = openTestEngine(t, l, state)
		if got := answers(t, e); got != want {
			t.Fatalf("round %d: after a restart the engine answers\n%s\nwant\n%s", round, got, want)
		}
		if fresh := answers(t, openTestEngine(t, l, "")); fresh != want {
			t.Fatalf("round %d: an engine built from scratch answers\n%s\nthe restarted one\n%s", round, fresh, want)
		}
	}
}

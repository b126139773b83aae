package projections

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestDropFreesMemoryAndTheStateFile builds a large projection (customer ×
// day), drops it, and checks that the heap and projections.db shrink back,
// and that the compacted state file still serves the other projections,
// after a reopen too.
func TestDropFreesMemoryAndTheStateFile(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newGen(61)
	g.custs = 200_000
	for i := 0; i < 20; i++ { // big batches: quick to append
		evs := make([]domain.Event, 10_000)
		for j := range evs {
			evs[j] = g.event()
		}
		if _, err := l.Append(evs...); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(dir, "projections.db")
	e := openTestEngine(t, l, state)
	ctx := context.Background()
	keep, _ := ParseSpec([]byte("name: keep\ngroup_by: [category]\n"))
	big, _ := ParseSpec([]byte("name: big\ngroup_by: [customer_id]\nbucket: day\nmeasures: [count, distinct:category]\n"))
	for _, sp := range []*Spec{keep, big} {
		if _, err := e.Create(sp); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Query(ctx, sp.Name, AsOf{}); err != nil {
			t.Fatal(err)
		}
	}
	want, err := e.Query(ctx, keep.Name, AsOf{})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := e.Status(big.Name)
	size := func() int64 {
		fi, err := os.Stat(state)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	heapBefore, fileBefore := heapInUse(), size()
	if err := e.Drop(big.Name); err != nil {
		t.Fatal(err)
	}
	heapAfter, fileAfter := heapInUse(), size()
	t.Logf("big: about %d groups (%d bytes estimated); heap %d -> %d; projections.db %d -> %d",
		st.MemoryBytes/specCellBytes(&compiledSpec{measures: []measure{{kind: "count"}, {kind: "distinct"}}}), st.MemoryBytes,
		heapBefore, heapAfter, fileBefore, fileAfter)
	if fileBefore < 8<<20 || fileAfter > fileBefore/4 {
		t.Fatalf("projections.db %d bytes before the drop, %d after", fileBefore, fileAfter)
	}
	if heapBefore < heapAfter || heapBefore-heapAfter < uint64(st.MemoryBytes)/2 {
		t.Fatalf("heap %d before the drop, %d after; the projection held about %d", heapBefore, heapAfter, st.MemoryBytes)
	}
	// The compacted file keeps serving and saving.
	appendRandom(t, l, g, 100)
	got, err := e.Query(ctx, keep.Name, AsOf{})
	if err != nil || got.AsOfSeq != l.LastSeq() || len(got.Rows) < len(want.Rows) {
		t.Fatalf("after compaction: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e2 := openTestEngine(t, l, state)
	if st, err := e2.Status(keep.Name); err != nil || st.State != "live" {
		t.Fatalf("after a reopen: %+v %v", st, err)
	}
	if _, err := e2.Status(big.Name); err == nil {
		t.Fatal("the dropped projection came back")
	}
}

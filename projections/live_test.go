package projections

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// TestRunKeepsProjectionsLive checks that Run advances built projections as
// batches are appended, without any query, and saves those that are not a
// cache.
func TestRunKeepsProjectionsLive(t *testing.T) {
	l, dir := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	g := newGen(9)
	appendRandom(t, l, g, 500)
	saved := make(chan uint64, 1000)
	e := openTestEngine(t, l, filepath.Join(dir, "projections.db"), WithPersistEvery(time.Millisecond),
		WithCheckpointHook(func(name string, seq uint64) {
			if name == baseName {
				saved <- seq
			}
		}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	if _, err := e.Trends(ctx, TrendQuery{By: []Dimension{DimCategory}}); err != nil {
		t.Fatal(err)
	}
	appendRandom(t, l, g, 300)
	want := l.LastSeq()
	deadline := time.After(20 * time.Second)
	for got := uint64(0); got < want; {
		select {
		case got = <-saved:
		case <-deadline:
			t.Fatalf("projection saved at %d, log at %d", got, want)
		}
	}
	// The trend cache is advanced too (in the same loop, maybe in the
	// round after the one that advanced the saved base).
	name, _ := trendDefinition([]Dimension{DimCategory}, domain.BucketMonth)
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(time.Millisecond) { // polling a condition
		st, err := e.Status(name)
		if err == nil && st.Checkpoint == want {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("trend cache at %d (%v), log at %d", st.Checkpoint, err, want)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

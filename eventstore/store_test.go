package eventstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

var t0 = time.Date(2026, 10, 3, 14, 22, 0, 0, time.UTC)

func appendN(tb testing.TB, l *eventstore.Log, source string, n int) {
	tb.Helper()
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = logtest.Event(source, fmt.Sprint(i), t0.Add(time.Duration(i)*time.Minute))
	}
	if _, err := l.Append(evs...); err != nil {
		tb.Fatal(err)
	}
}

func TestOpenTwiceIsLocked(t *testing.T) {
	dir := t.TempDir()
	MustOpen(t, dir)
	start := time.Now()
	_, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithReadOnly(), eventstore.WithLockTimeout(100*time.Millisecond))
	if !errors.Is(err, eventstore.ErrLocked) {
		t.Fatalf("err = %v, want ErrLocked", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatal("Open hung instead of failing fast")
	}
}

func TestReadOnlyOpenOfMissingLog(t *testing.T) {
	_, err := eventstore.Open(filepath.Join(t.TempDir(), "nope.db"), eventstore.WithReadOnly())
	if !errors.Is(err, eventstore.ErrNotExist) {
		t.Fatalf("err = %v, want ErrNotExist", err)
	}
}

// TestVerifyFindsCorruption flips a byte of what holds record 1042 behind the
// log's back: in a log of blocks (the default) the block that holds it, in a
// log of format 2 the record under its own key. Verify must name it.
func TestVerifyFindsCorruption(t *testing.T) {
	for _, c := range []struct {
		name   string
		blocks bool
		want   string
	}{
		{"blocks", true, "block at 1025: block checksum mismatch"},
		{"format 2", false, "record 1042: checksum mismatch"},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "events.db")
			l, err := eventstore.Open(path, eventstore.WithBlocks(c.blocks))
			if err != nil {
				t.Fatal(err)
			}
			// In blocks: 1..1024 and 1025..1100.
			appendN(t, l, "s", 1100)
			if _, err := l.Verify(context.Background(), nil); err != nil {
				t.Fatalf("clean log: %v", err)
			}
			l.Close()
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(func(tx *bolt.Tx) error {
				b := tx.Bucket([]byte("events"))
				k, v := holding(b.Cursor(), 1042)
				v = bytes.Clone(v)
				v[20] ^= 0xff
				return b.Put(k, v)
			}); err != nil {
				t.Fatal(err)
			}
			db.Close()
			l, err = eventstore.Open(path, eventstore.WithReadOnly())
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			_, err = l.Verify(context.Background(), nil)
			if !errors.Is(err, eventstore.ErrCorrupt) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want ErrCorrupt with %q", err, c.want)
			}
		})
	}
}

// holding returns the key and value of the events bucket that hold record
// seq: the record under its own key, or the block whose first sequence is
// the greatest key before it.
func holding(c *bolt.Cursor, seq uint64) (k, v []byte) {
	want := binary.BigEndian.AppendUint64(nil, seq)
	if k, v = c.Seek(want); k != nil && bytes.Equal(k, want) {
		return k, v
	}
	if k == nil {
		return c.Last()
	}
	return c.Prev()
}

func TestCommitterGroupsConcurrentAppends(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	var commits, stored, dups int
	var mu sync.Mutex
	c := eventstore.NewCommitter(l, eventstore.WithCommitHook(func(s, d int) {
		mu.Lock()
		commits++
		stored += s
		dups += d
		mu.Unlock()
	}))
	const workers, each = 16, 200
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				// Every event is sent twice: once by this worker, once by its neighbour.
				for _, src := range []int{w, (w + 1) % workers} {
					if _, err := c.Append(context.Background(), logtest.Event(fmt.Sprint(src), fmt.Sprint(i), t0)); err != nil {
						errs <- err
						return
					}
				}
			}
		}(w)
	}
	wg.Wait()
	if _, err := c.DeadLettered(context.Background(), eventstore.DeadLetter{}); err != nil {
		t.Fatal(err)
	}
	c.Close()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if stored != workers*each || dups != workers*each {
		t.Fatalf("stored %d dups %d, want %d each", stored, dups, workers*each)
	}
	if commits >= 2*workers*each {
		t.Fatalf("%d commits for %d events: no grouping", commits, 2*workers*each)
	}
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != workers*each || st.Duplicates != workers*each || st.DeadLettered != 1 || st.LastSeq != workers*each {
		t.Fatalf("stats = %+v", st)
	}
	if _, err := c.Append(context.Background(), logtest.Event("x", "y", t0)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("append after close: %v", err)
	}
}

func TestCommitterReportsStoreFailure(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	c := eventstore.NewCommitter(l)
	defer c.Close()
	l.Close()
	if _, err := c.Append(context.Background(), logtest.Event("s", "1", t0)); err == nil {
		t.Fatal("append to a closed log succeeded")
	}
}

func TestStatsAndSeqAt(t *testing.T) {
	clock := t0
	l := MustOpen(t, t.TempDir(), eventstore.WithClock(func() time.Time { return clock }))
	appendN(t, l, "a", 10)
	clock = clock.Add(time.Hour)
	appendN(t, l, "b", 5)
	st, err := l.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != 15 || st.FirstSeq != 1 || st.LastSeq != 15 || st.ByType["complaint.filed"] != 15 ||
		!st.FirstEventTime.Equal(t0) || !st.LastEventTime.Equal(t0.Add(9*time.Minute)) || st.BytesPerEvent <= 0 {
		t.Fatalf("stats = %+v", st)
	}
	err = l.View(func(s *eventstore.Snapshot) error {
		for _, tc := range []struct {
			at   time.Time
			want uint64
		}{{t0.Add(-time.Second), 0}, {t0, 10}, {t0.Add(30 * time.Minute), 10}, {t0.Add(time.Hour), 15}} {
			got, err := s.SeqAt(tc.at)
			if err != nil || got != tc.want {
				return fmt.Errorf("SeqAt(%s) = %d, %v; want %d", tc.at, got, err, tc.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestFollowSeesNewAppends(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	appendN(t, l, "a", 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got := make(chan uint64, 10)
	done := make(chan error, 1)
	go func() {
		done <- l.Follow(ctx, 2, func(seq uint64, ev domain.Event) error {
			got <- seq
			if seq == 5 {
				return eventstore.ErrStop
			}
			return nil
		})
	}()
	for _, want := range []uint64{2, 3} {
		if s := <-got; s != want {
			t.Fatalf("got %d want %d", s, want)
		}
	}
	appendN(t, l, "b", 2)
	for _, want := range []uint64{4, 5} {
		select {
		case s := <-got:
			if s != want {
				t.Fatalf("got %d want %d", s, want)
			}
		case <-ctx.Done():
			t.Fatal("follow did not see the new events")
		}
	}
}

func TestBackupIsAReadableLog(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	appendN(t, l, "a", 50)
	out := filepath.Join(t.TempDir(), "copy.db")
	if _, err := l.BackupFile(out); err != nil {
		t.Fatal(err)
	}
	b, err := eventstore.Open(out, eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if rep, err := b.Verify(context.Background(), nil); err != nil || rep.Records != 50 {
		t.Fatalf("backup verify: %+v %v", rep, err)
	}
}

func TestReopenRebuildsDedupeInParallel(t *testing.T) {
	dir := t.TempDir()
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync())
	if err != nil {
		t.Fatal(err)
	}
	const n = 120_000 // above the size at which the rebuild uses every core
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = logtest.Event("s", fmt.Sprint(i), t0)
		if i%2 == 0 {
			evs[i].ID = fmt.Sprintf("00000000-0000-4000-8000-%012d", i) // stored as a binary UUID
		}
	}
	if _, err := l.Append(evs...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = MustOpen(t, dir)
	res, err := l.Append(evs[0], evs[1], evs[n/2], evs[n/2+1], evs[n-1], logtest.Event("s", "new", t0))
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res[:5] {
		if !r.Duplicate {
			t.Fatalf("re-append %d after reopen was stored again (seq %d)", i, r.Seq)
		}
	}
	if res[5].Duplicate || res[5].Seq != n+1 {
		t.Fatalf("new event: %+v", res[5])
	}
}

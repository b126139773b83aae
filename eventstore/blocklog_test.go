package eventstore_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

// TestContractBlocks runs the log contract on a log that writes blocks.
func TestContractBlocks(t *testing.T) {
	logtest.Run(t, func(tb testing.TB, dir string) logtest.Log {
		return MustOpen(tb, dir, eventstore.WithBlocks(true))
	})
}

// blockLogEvents returns n events of a few customers, with varied fields.
func blockLogEvents(seed uint64, n int) []domain.Event {
	r := rand.New(rand.NewPCG(seed, 3))
	types := []domain.Type{domain.TypeComplaintFiled, domain.TypeComplaintFiled, domain.TypeCustomerAcquired, domain.TypeReferralMade, domain.TypeRevenueRecorded}
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = customerEvent(types[r.IntN(len(types))], fmt.Sprintf("e%d-%d", seed, i), fmt.Sprintf("C-%d", r.IntN(40)),
			t0.Add(time.Duration(r.IntN(100_000))*time.Second))
		if r.IntN(7) == 0 {
			evs[i].Subject = "someone else"
		}
	}
	return evs
}

// blockLogAppend appends evs in commits of the sizes in sizes (repeated),
// each one second of record time after the last, and returns the last
// sequence of each commit.
func blockLogAppend(t *testing.T, l *eventstore.Log, clock *time.Time, evs []domain.Event, sizes ...int) []uint64 {
	t.Helper()
	var ends []uint64
	for i, k := 0, 0; i < len(evs); k++ {
		j := min(i+sizes[k%len(sizes)], len(evs))
		*clock = clock.Add(time.Second)
		res, err := l.Append(evs[i:j]...)
		if err != nil {
			t.Fatal(err)
		}
		ends = append(ends, res[len(res)-1].Seq)
		i = j
	}
	return ends
}

// checkBlockLog checks that l reads want (the event at each sequence from
// 1) through Scan, Get, ReadFrom and scans from every kind of start, that
// SeqAt gives the last sequence of each commit at its record time, and
// that Verify passes.
func checkBlockLog(t *testing.T, l *eventstore.Log, want []domain.Event, commitEnds []uint64, commitTimes []time.Time) {
	t.Helper()
	err := l.View(func(s *eventstore.Snapshot) error {
		if s.LastSeq() != uint64(len(want)) {
			t.Fatalf("last %d, want %d", s.LastSeq(), len(want))
		}
		next := uint64(1)
		if err := s.Scan(0, 0, func(seq uint64, r eventstore.Record) error {
			if seq != next {
				t.Fatalf("scan gave %d, want %d", seq, next)
			}
			next++
			ev, err := s.Decode(r)
			if err != nil || ev != want[seq-1] {
				t.Fatalf("scan %d: %v %+v, want %+v", seq, err, ev, want[seq-1])
			}
			// Get decodes a whole block: ask for a sample, and the edges
			// of the blocks of 1024.
			if seq%61 == 0 || seq%1024 <= 1 || seq == uint64(len(want)) {
				g, err := s.Get(seq)
				if err != nil || !bytes.Equal(g, r) {
					t.Fatalf("get %d: %v", seq, err)
				}
			}
			return nil
		}); err != nil {
			return err
		}
		if next != uint64(len(want))+1 {
			t.Fatalf("scan ended at %d", next)
		}
		r := rand.New(rand.NewPCG(1, 1))
		for range 200 {
			from := 1 + r.Uint64N(uint64(len(want)))
			to := from + r.Uint64N(3000)
			got := from
			if err := s.Scan(from, to, func(seq uint64, _ eventstore.Record) error {
				if seq != got {
					t.Fatalf("scan %d..%d gave %d, want %d", from, to, seq, got)
				}
				got++
				return nil
			}); err != nil {
				return err
			}
			if want := min(to, uint64(len(want))) + 1; got != want {
				t.Fatalf("scan %d..%d ended at %d, want %d", from, to, got, want)
			}
		}
		if _, err := s.Get(uint64(len(want)) + 1); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("get past the end: %v", err)
		}
		for i, end := range commitEnds {
			at, err := s.SeqAt(commitTimes[i])
			if err != nil || at != end {
				t.Fatalf("SeqAt(commit %d) = %d, %v; want %d", i, at, err, end)
			}
			if at, err := s.SeqAt(commitTimes[i].Add(-time.Nanosecond)); err != nil || i > 0 && at != commitEnds[i-1] {
				t.Fatalf("SeqAt(before commit %d) = %d, %v", i, at, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	st, err := l.Stats()
	if err != nil || st.LastSeq != uint64(len(want)) || st.Events != uint64(len(want)) {
		t.Fatalf("stats %+v, %v", st, err)
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil || rep.Records != uint64(len(want)) {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
}

// TestBlockLogMixedFormats writes one log in turns of single records
// (format 2) and blocks, with commits of many sizes (some filling the last
// block, some spanning several), reopening it between turns, and checks
// that it reads every event back, in every way, after each.
func TestBlockLogMixedFormats(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	clock := t0
	now := func() time.Time { return clock }
	var want []domain.Event
	var ends []uint64
	var times []time.Time
	turns := []struct {
		blocks bool
		n      int
		sizes  []int
	}{
		{false, 700, []int{1, 50, 300}},
		{true, 3000, []int{1, 7, 1024, 2000, 3}},
		{false, 200, []int{9, 100}},
		{true, 2500, []int{1030, 1, 1, 600}},
		{true, 10, []int{1}},
	}
	for i, turn := range turns {
		opts := []eventstore.Option{eventstore.WithClock(now), eventstore.WithNoSync(), eventstore.WithBlocks(turn.blocks)}
		l, err := eventstore.Open(path, opts...)
		if err != nil {
			t.Fatal(err)
		}
		evs := blockLogEvents(uint64(i), turn.n)
		before := len(ends)
		ends = append(ends, blockLogAppend(t, l, &clock, evs, turn.sizes...)...)
		for k := before; k < len(ends); k++ {
			times = append(times, clock.Add(-time.Duration(len(ends)-1-k)*time.Second))
		}
		want = append(want, evs...)
		checkBlockLog(t, l, want, ends, times)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l, err = eventstore.Open(path, eventstore.WithReadOnly())
		if err != nil {
			t.Fatal(err)
		}
		checkBlockLog(t, l, want, ends, times)
		rep, err := l.Verify(context.Background(), nil)
		if err != nil || (i > 0) != (rep.Blocks > 0) {
			t.Fatalf("turn %d: verify %+v, %v", i, rep, err)
		}
		l.Close()
	}
	// A log that holds blocks says so, so that an older plaint refuses it.
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		if f := tx.Bucket([]byte("meta")).Get([]byte("format")); !bytes.Equal(f, []byte{3}) {
			t.Fatalf("format %v, want 3", f)
		}
		if n := tx.Bucket([]byte("events")).Stats().KeyN; n >= len(want)/2 {
			t.Fatalf("%d keys for %d events", n, len(want))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestBlockLogDamage checks that verify and reads find a damaged block.
func TestBlockLogDamage(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "events.db")
	l, err := eventstore.Open(path, eventstore.WithBlocks(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(blockLogEvents(1, 2000)...); err != nil {
		t.Fatal(err)
	}
	l.Close()
	flipByte(t, path, 1025, -3) // in the second block, from 1025
	l, err = eventstore.Open(path, eventstore.WithReadOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Verify(context.Background(), nil); !eventstore.IsCorrupt(err) || !bytes.Contains([]byte(err.Error()), []byte("block at 1025: block checksum mismatch")) {
		t.Fatalf("verify: %v", err)
	}
}

// flipByte flips the byte at offset at (from the end when negative) of the
// value stored under key seq in the log file at path.
func flipByte(t *testing.T, path string, seq uint64, at int) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	key := binary.BigEndian.AppendUint64(nil, seq)
	err = db.Update(func(tx *bolt.Tx) error {
		events := tx.Bucket([]byte("events"))
		v := bytes.Clone(events.Get(key))
		if len(v) == 0 {
			return fmt.Errorf("no value under %d", seq)
		}
		v[(at+len(v))%len(v)] ^= 0xff
		return events.Put(key, v)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestBlockLogErasure forgets a customer whose events share blocks with
// other customers' in a log of blocks and in the same log of single
// records, and checks that both then hold the same records, byte for byte
// (but the erasure event's own id), and verify.
func TestBlockLogErasure(t *testing.T) {
	ctx := context.Background()
	evs := blockLogEvents(5, 3000)
	evs[10] = customerEvent(domain.TypeComplaintFiled, "x10", "C-7", t0)
	evs[10].Data.ComplaintID = "C-7/10"
	evs[11] = customerEvent(domain.TypeReferralMade, "x11", "C-8", t0)
	evs[11].Data.ReferredID = "C-7"
	var logs [2]*eventstore.Log
	for i, blocks := range []bool{false, true} {
		clock := t0
		opts := []eventstore.Option{eventstore.WithClock(func() time.Time { return clock }), eventstore.WithBlocks(blocks)}
		l := MustOpen(t, t.TempDir(), opts...)
		blockLogAppend(t, l, &clock, evs, 400, 1, 900)
		plan, err := l.PlanForget(ctx, "C-7")
		if err != nil {
			t.Fatal(err)
		}
		if len(plan.Kept()) == 0 && plan.LastSeq == 0 {
			t.Fatal("empty plan")
		}
		clock = clock.Add(time.Second)
		rep, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "test", RequestedBy: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if rep.Rewritten == 0 {
			t.Fatalf("blocks=%v: nothing rewritten", blocks)
		}
		if _, err := l.Verify(ctx, nil); err != nil {
			t.Fatal(err)
		}
		logs[i] = l
	}
	var recs [2][][]byte
	for i, l := range logs {
		if err := l.View(func(s *eventstore.Snapshot) error {
			return s.Scan(0, 0, func(seq uint64, r eventstore.Record) error {
				ev, err := s.Decode(r)
				if err != nil {
					return err
				}
				if ev.Data.CustomerID == "C-7" || ev.Subject == "C-7" || ev.Data.ReferredID == "C-7" {
					t.Fatalf("record %d still names C-7: %+v", seq, ev)
				}
				recs[i] = append(recs[i], bytes.Clone(r))
				return nil
			})
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(recs[0]) != len(recs[1]) || len(recs[0]) != len(evs)+1 {
		t.Fatalf("%d and %d records", len(recs[0]), len(recs[1]))
	}
	for i := range evs { // the erasure event after them has an id of its own
		if !bytes.Equal(recs[0][i], recs[1][i]) {
			t.Fatalf("record %d differs:\n%x\n%x", i+1, recs[0][i], recs[1][i])
		}
	}
}

package eventstore_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

// TestDeadLettersAreCountedOncePerStreamMessage counts dead letters by their
// stream message through the committer and the log, in batches and one at
// a time, with a message repeated in one batch, in a later batch and after
// a reopen, beside events and dead letters without a sequence, and a
// message of a stream made anew at a sequence counted before: each message
// is counted once, the results say which were counted before, and verify
// holds the counter against what was recorded.
func TestDeadLettersAreCountedOncePerStreamMessage(t *testing.T) {
	// dl is the dead letter of stream message seq, stored at the
	// stream's time 1000+seq (a stream made anew stores it later: dlAnew).
	dl := func(seq uint64) eventstore.DeadLetter {
		return eventstore.DeadLetter{StreamSeq: seq, StreamTime: int64(1000 + seq)}
	}
	dlAnew := func(seq uint64) eventstore.DeadLetter {
		return eventstore.DeadLetter{StreamSeq: seq, StreamTime: int64(9000 + seq)}
	}
	dir := t.TempDir()
	l := MustOpen(t, dir)
	c := eventstore.NewCommitter(l)
	ctx := context.Background()
	ev := logtest.Event("crm", "1", t0)
	res, err := c.AppendBatch(ctx, eventstore.Batch{Events: []domain.Event{ev}, DeadLetters: []eventstore.DeadLetter{dl(5), dl(6), dl(5), {}}})
	if err != nil {
		t.Fatal(err)
	}
	wantDup := []bool{false, false, false, true, false}
	if len(res) != len(wantDup) {
		t.Fatalf("%d results, want %d (the event's, then one per dead letter)", len(res), len(wantDup))
	}
	for i, r := range res {
		if r.Duplicate != wantDup[i] {
			t.Fatalf("result %d: duplicate %v, want %v (%+v)", i, r.Duplicate, wantDup[i], res)
		}
	}
	// Again, with 6 counted before and 7 new: only 7 counts.
	res, err = c.AppendBatch(ctx, eventstore.Batch{DeadLetters: []eventstore.DeadLetter{dl(6), dl(7)}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || res[1].Duplicate {
		t.Fatalf("results %+v: want 6 counted before, 7 not", res)
	}
	// One at a time (the plain Store's way): 7 again is not counted, one
	// without a sequence is.
	for _, d := range []struct {
		dl  eventstore.DeadLetter
		dup bool
	}{{dl(7), true}, {eventstore.DeadLetter{}, false}} {
		r, err := c.DeadLettered(ctx, d.dl)
		if err != nil {
			t.Fatal(err)
		}
		if r.Duplicate != d.dup {
			t.Fatalf("DeadLettered(%+v): duplicate %v, want %v", d.dl, r.Duplicate, d.dup)
		}
	}
	c.Close()
	stats := func(l *eventstore.Log) eventstore.Stats {
		st, err := l.Stats()
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// 5, 6, 7 and the two without a sequence: 5.
	if st := stats(l); st.DeadLettered != 5 || st.Events != 1 {
		t.Fatalf("stats %+v: want 5 dead-lettered and 1 event", st)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l2, err := eventstore.Open(filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	// After a reopen 7 and 5 were counted; 8 is new, and so is 5 of a
	// stream made anew (another time at the same sequence).
	res, err = l2.CommitBatch(eventstore.Batch{DeadLetters: []eventstore.DeadLetter{dl(7), dl(5), dl(8), dlAnew(5)}})
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Duplicate || !res[1].Duplicate || res[2].Duplicate || res[3].Duplicate {
		t.Fatalf("after a reopen: results %+v, want 7 and 5 counted before, 8 and the new stream's 5 not", res)
	}
	if st := stats(l2); st.DeadLettered != 7 {
		t.Fatalf("after a reopen: %d dead-lettered, want 7", st.DeadLettered)
	}
	rep, err := l2.Verify(ctx, nil)
	if err != nil {
		t.Fatalf("verify: %v (%v)", err, rep.Problems)
	}
}

package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

// TestStreamPositionsResolveToTheLogAtThem stores stream messages 10..16,
// 18 and 20 (17 a dead letter, 19 a duplicate) and a local event: each
// stream position is the log up to the last event of a message at or
// before it, and verify counts the runs.
func TestStreamPositionsResolveToTheLogAtThem(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	ev := func(id int) domain.Event { return logtest.Event("crm", fmt.Sprint(id), t0) }
	for _, b := range []eventstore.Batch{
		{Events: []domain.Event{ev(1), ev(2), ev(3), ev(4), ev(5)}, StreamSeqs: []uint64{10, 11, 12, 13, 14}},
		{Events: []domain.Event{ev(6), ev(7)}, StreamSeqs: []uint64{15, 16}},
		{Events: []domain.Event{ev(8), ev(1), ev(9)}, StreamSeqs: []uint64{18, 19, 20}},
	} {
		if _, err := l.CommitBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Append(ev(10)); err != nil { // no stream sequence: log seq 10
		t.Fatal(err)
	}
	want := map[uint64]uint64{1: 0, 9: 0, 10: 1, 14: 5, 16: 7, 17: 7, 18: 8, 19: 8, 20: 9}
	err := l.View(func(s *eventstore.Snapshot) error {
		for pos, w := range want {
			got, err := s.SeqAtStream(pos)
			if err != nil || got != w {
				t.Errorf("stream position %d: log %d (%v), want %d", pos, got, err, w)
			}
		}
		if _, err := s.SeqAtStream(21); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Errorf("a position past the last stream message held: %v, want not found", err)
		}
		if got := s.LastStreamSeq(); got != 20 {
			t.Errorf("last stream sequence %d, want 20", got)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sp := rep.StreamPositions; sp.Runs != 3 || sp.Events != 9 || sp.OrderBreaks != 0 {
		t.Fatalf("verify: stream positions %+v, want 3 runs of 9 events in order", sp)
	}
}

// TestStreamPositionsOfALogOutOfStreamOrder is a log a plaint before the
// ingest kept the stream's order could write (messages 4..6 stored before
// 1..3): the positions at the swapped groups' edges resolve, those inside
// them cannot and say why, and verify counts the break without calling
// the log corrupt.
func TestStreamPositionsOfALogOutOfStreamOrder(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	ev := func(id int) domain.Event { return logtest.Event("crm", fmt.Sprint(id), t0) }
	for _, b := range []eventstore.Batch{
		{Events: []domain.Event{ev(4), ev(5), ev(6)}, StreamSeqs: []uint64{4, 5, 6}},
		{Events: []domain.Event{ev(1), ev(2), ev(3)}, StreamSeqs: []uint64{1, 2, 3}},
		{Events: []domain.Event{ev(7)}, StreamSeqs: []uint64{7}},
	} {
		if _, err := l.CommitBatch(b); err != nil {
			t.Fatal(err)
		}
	}
	err := l.View(func(s *eventstore.Snapshot) error {
		for pos, w := range map[uint64]uint64{6: 6, 7: 7} {
			if got, err := s.SeqAtStream(pos); err != nil || got != w {
				t.Errorf("stream position %d: log %d (%v), want %d", pos, got, err, w)
			}
		}
		for _, pos := range []uint64{1, 3, 5} {
			if _, err := s.SeqAtStream(pos); domain.ErrorCode(err) != domain.ECONFLICT {
				t.Errorf("stream position %d inside the swapped groups: %v, want a conflict", pos, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := l.Verify(context.Background(), nil)
	if err != nil {
		t.Fatalf("verify calls a log out of stream order corrupt: %v", err)
	}
	if rep.StreamPositions.OrderBreaks != 1 {
		t.Fatalf("verify: %+v, want 1 order break", rep.StreamPositions)
	}
}

// TestForgetKeepsTheStreamPositions forgets a customer: the records are
// rewritten in place, so every stream position resolves as before and
// verify still finds the runs sound.
func TestForgetKeepsTheStreamPositions(t *testing.T) {
	l, _ := forgetLog(t)
	positions := func() []string {
		var out []string
		err := l.View(func(s *eventstore.Snapshot) error {
			for pos := s.LastStreamSeq(); pos > 0 && len(out) < 50; pos-- {
				seq, err := s.SeqAtStream(pos)
				out = append(out, fmt.Sprint(pos, seq, domain.ErrorCode(err)))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	before := positions()
	if len(before) == 0 {
		t.Fatal("the test log has no stream positions")
	}
	ctx := context.Background()
	plan, err := l.PlanForget(ctx, "C-1042")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Forget(ctx, plan, eventstore.ForgetOptions{Reason: "test", RequestedBy: "alice"}); err != nil {
		t.Fatal(err)
	}
	if after := positions(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("stream positions before the erasure %v, after %v", before, after)
	}
	if rep, err := l.Verify(ctx, nil); err != nil || rep.StreamPositions.Runs == 0 {
		t.Fatalf("verify after the erasure: %+v %v", rep.StreamPositions, err)
	}
}

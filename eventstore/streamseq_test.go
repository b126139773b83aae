package eventstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/eventstore/logtest"
)

// streamSeqs returns the stream sequence of every stored event, 0 when unknown.
func streamSeqs(t *testing.T, l *eventstore.Log) (seqs []uint64, runs int) {
	t.Helper()
	err := l.View(func(s *eventstore.Snapshot) error {
		for seq := uint64(1); seq <= s.LastSeq(); seq++ {
			st, _ := s.StreamSeq(seq)
			seqs = append(seqs, st)
		}
		runs, _ = s.StreamRuns()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seqs, runs
}

func TestStreamSequencesAreKeptAsRuns(t *testing.T) {
	l := MustOpen(t, t.TempDir())
	ev := func(id int) domain.Event { return logtest.Event("crm", fmt.Sprint(id), t0) }
	// Stream 10..14 in one batch, 15..16 continuing it in the next, then a
	// gap (a dead letter at 17), a duplicate at 19 and an event without a
	// stream sequence.
	if _, err := l.CommitBatch(eventstore.Batch{Events: []domain.Event{ev(1), ev(2), ev(3), ev(4), ev(5)}, StreamSeqs: []uint64{10, 11, 12, 13, 14}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CommitBatch(eventstore.Batch{Events: []domain.Event{ev(6), ev(7)}, StreamSeqs: []uint64{15, 16}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CommitBatch(eventstore.Batch{Events: []domain.Event{ev(8), ev(1), ev(9)}, StreamSeqs: []uint64{18, 19, 20}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(ev(10)); err != nil {
		t.Fatal(err)
	}
	got, runs := streamSeqs(t, l)
	want := []uint64{10, 11, 12, 13, 14, 15, 16, 18, 20, 0}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("stream sequences %v, want %v", got, want)
	}
	if runs != 3 {
		t.Fatalf("%d runs, want 3 (10-16, 18, 20)", runs)
	}
}

func TestConcurrentBatchesStayConsecutive(t *testing.T) {
	l := MustOpen(t, t.TempDir(), eventstore.WithNoSync())
	c := eventstore.NewCommitter(l)
	defer c.Close()
	// Eight writers, each appending batches of 200 events from its own
	// range of stream sequences, as concurrent ingest groups do.
	const writers, batches, size = 8, 10, 200
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				base := uint64(1 + (w*batches+b)*size)
				evs := make([]domain.Event, size)
				seqs := make([]uint64, size)
				for i := range evs {
					evs[i] = logtest.Event("crm", fmt.Sprint(base+uint64(i)), t0.Add(time.Duration(i)*time.Second))
					seqs[i] = base + uint64(i)
				}
				if _, err := c.AppendBatch(context.Background(), eventstore.Batch{Events: evs, StreamSeqs: seqs}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	got, runs := streamSeqs(t, l)
	if len(got) != writers*batches*size {
		t.Fatalf("%d events stored", len(got))
	}
	// Every event knows its own stream sequence (its id is that sequence).
	err := l.ReadFrom(1, func(seq uint64, ev domain.Event) error {
		if fmt.Sprint(got[seq-1]) != ev.ID {
			return fmt.Errorf("event %s at %d has stream sequence %d", ev.ID, seq, got[seq-1])
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs > writers*batches {
		t.Fatalf("%d runs for %d batches: batches were interleaved", runs, writers*batches)
	}
}

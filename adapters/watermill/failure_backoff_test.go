package watermill_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	plaintwm "github.com/plaint/plaint/adapters/watermill"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/testutil"
)

// flakyStore fails every append while broken, as a full disk would, and
// records when each append was tried.
type flakyStore struct {
	plaintwm.Store
	broken atomic.Bool
	mu     sync.Mutex
	tries  []time.Time
}

func (s *flakyStore) Append(ctx context.Context, ev domain.Event) (eventstore.Result, error) {
	s.mu.Lock()
	s.tries = append(s.tries, time.Now())
	s.mu.Unlock()
	if s.broken.Load() {
		return eventstore.Result{}, errors.New("commit: no space left on device")
	}
	return s.Store.Append(ctx, ev)
}

func (s *flakyStore) attempts() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.tries...)
}

func TestOwnFailuresBackOffAndAreLoggedOncePerKind(t *testing.T) {
	forEachMode(t, func(t *testing.T, m mode) {
		e := newEnv(t)
		store := &flakyStore{Store: e.com}
		store.broken.Store(true)
		var buf lockedBuffer
		logger := slog.New(slog.NewJSONHandler(&buf, nil))
		cfg := m.with(e, plaintwm.Config{Store: store, Logger: logger, NakDelay: 20 * time.Millisecond, MaxNakDelay: 160 * time.Millisecond})
		r := e.start(cfg)
		e.publishEvent(complaint("crm", "1"))
		testutil.WaitFor(t, waitLimit, "7 tries", func() bool { return len(store.attempts()) >= 7 })
		if failing, _ := r.Failing(); !failing {
			t.Fatal("Failing() is false while every append fails")
		}
		tries := store.attempts()
		// Gaps double from 20 ms up to the 160 ms cap.
		if gap := tries[6].Sub(tries[5]); gap < 120*time.Millisecond {
			t.Fatalf("gap between the 6th and 7th try %s; want the backoff near its 160ms cap (tries %v)", gap, tries)
		}
		if gap := tries[1].Sub(tries[0]); gap > 120*time.Millisecond {
			t.Fatalf("first retry after %s; want about 20ms", gap)
		}
		if lines := buf.lines("ingest: message not stored, it will be redelivered"); len(lines) != 1 || lines[0]["kind"] != "append" {
			t.Fatalf("%d failure lines for one kind within the interval, want 1: %v", len(lines), lines)
		}
		store.broken.Store(false)
		testutil.WaitFor(t, waitLimit, "the event stored once the store works", func() bool { return e.allAcked(1) })
		testutil.WaitFor(t, waitLimit, "the recovery line", func() bool { return len(buf.lines("ingest: storing again")) == 1 })
		if failing, _ := r.Failing(); failing {
			t.Fatal("Failing() is still true after a success")
		}
	})
}

// TestRedeliveriesOfStoredEventsAreNotDuplicates: while dead letters cannot
// be written, the group holding a valid event and a bad one comes back
// again and again; the stored event's redeliveries are plaint's own
// retries, not duplicates a producer sent.
func TestRedeliveriesOfStoredEventsAreNotDuplicates(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.js.DeleteStream(ctx, plaintnats.DLQStream); err != nil {
		t.Fatal(err)
	}
	e.publishEvent(complaint("crm", "good"))
	e.publish(domain.TypeComplaintFiled.Subject(), []byte(`not json`))
	var hookRedelivered atomic.Int64
	r := e.start(plaintwm.Config{NakDelay: 20 * time.Millisecond, MaxNakDelay: 40 * time.Millisecond, BatchWait: 50 * time.Millisecond,
		Hooks: plaintwm.Hooks{Redelivered: func() { hookRedelivered.Add(1) }}})
	testutil.WaitFor(t, waitLimit, "several failed rounds", func() bool { return r.Stats().Errors >= 4 })
	st := r.Stats()
	ls, err := e.log.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if st.Stored != 1 || st.Duplicates != 0 || ls.Duplicates != 0 || st.Redelivered < 2 {
		t.Fatalf("ingest %+v, log duplicates %d: want the event stored once, redelivered without counting duplicates", st, ls.Duplicates)
	}
	if h := hookRedelivered.Load(); h < 2 {
		t.Fatalf("the Redelivered hook was called %d times, want at least 2", h)
	}
}

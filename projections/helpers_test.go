package projections

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// clock is a fake record-time clock: each batch appended moves it on.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Hour)
	return c.t
}

// openTestLog opens a fresh log in a temporary directory; record times start
// at start and move an hour per append.
func openTestLog(t testing.TB, start time.Time) (*eventstore.Log, string) {
	t.Helper()
	dir := t.TempDir()
	c := &clock{t: start}
	l, err := eventstore.Open(filepath.Join(dir, "events.db"), eventstore.WithNoSync(), eventstore.WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, dir
}

func openTestEngine(t testing.TB, l Log, statePath string, opts ...Option) *Engine {
	t.Helper()
	e, err := Open(l, statePath, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// openRandomEngine opens a test log (record times from 2026-01-01) holding
// n events of the generator seeded with seed, and an engine over it that
// keeps no state file.
func openRandomEngine(t testing.TB, seed uint64, n int, opts ...Option) (*eventstore.Log, *Engine) {
	t.Helper()
	l, _ := openTestLog(t, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	appendRandom(t, l, newGen(seed), n)
	return l, openTestEngine(t, l, "", opts...)
}

var (
	testCategories = []string{"billing", "delivery", "outage", "technical", "service"}
	testSegments   = []string{"enterprise", "smb", "consumer"}
	testChannels   = []string{"phone", "email", "chat"}
	testRegions    = []string{"north", "south"}
	testTopics     = []string{"Late delivery of my router", "Overcharged on my invoice", "Rude agent on the phone", "Strange noise"}
)

// gen makes random events. Event times fall in 2024-2026; ids repeat now
// and then (duplicates the log must drop).
type gen struct {
	r     *rand.Rand
	n     int
	ids   []string
	custs int
}

func newGen(seed uint64) *gen {
	return &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), custs: 60}
}

func (g *gen) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *gen) event() domain.Event {
	g.n++
	id := fmt.Sprintf("e-%d", g.n)
	if len(g.ids) > 0 && g.r.IntN(12) == 0 {
		id = g.ids[g.r.IntN(len(g.ids))] // a duplicate, however late
	} else {
		g.ids = append(g.ids, id)
	}
	t := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(int64(3 * 365 * 24 * time.Hour))))
	cust := fmt.Sprintf("C-%d", g.r.IntN(g.custs))
	ev := domain.Event{ID: id, Source: "crm/" + g.pick([]string{"a", "b"}), Time: t, Subject: cust, Schema: domain.CurrentSchema}
	switch k := g.r.IntN(20); {
	case k < 13:
		ev.Type = domain.TypeComplaintFiled
		ev.Data = domain.Data{CustomerID: cust, Category: g.pick(testCategories), Segment: g.pick(testSegments),
			Channel: g.pick(testChannels), Region: g.pick(testRegions), Severity: uint8(1 + g.r.IntN(5))}
		if g.r.IntN(10) == 0 {
			ev.Data.Channel = "" // absent dimension
		}
		if g.r.IntN(8) == 0 { // a v0 producer
			ev.Schema = 0
			ev.Data.Category = ""
			ev.Data.Topic = g.pick(testTopics)
		}
	case k < 16:
		ev.Type = domain.TypeCustomerAcquired
		ev.Data = domain.Data{CustomerID: cust, Segment: g.pick(testSegments)}
	case k < 18:
		ev.Type = domain.TypeCustomerDefected
		ev.Data = domain.Data{CustomerID: cust, Reason: "price"}
	default:
		ev.Type = domain.TypeRevenueRecorded
		ev.Data = domain.Data{CustomerID: cust, Amount: domain.Money(g.r.Int64N(100000)), Currency: "EUR", Segment: g.pick(testSegments)}
	}
	return ev
}

// batches hands n random events to fn in batches of 1 to 40.
func (g *gen) batches(n int, fn func(evs []domain.Event)) {
	for n > 0 {
		b := min(n, 1+g.r.IntN(40))
		n -= b
		evs := make([]domain.Event, b)
		for i := range evs {
			evs[i] = g.event()
		}
		fn(evs)
	}
}

// appendRandom appends n random events in random batches and returns the
// events as stored, in log order (duplicates dropped), with their record
// times.
func appendRandom(t testing.TB, l *eventstore.Log, g *gen, n int) []stored {
	t.Helper()
	var out []stored
	g.batches(n, func(evs []domain.Event) {
		res, err := l.Append(evs...)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range res {
			if !r.Duplicate {
				out = append(out, stored{seq: r.Seq, ev: evs[i]})
			}
		}
	})
	// Fill in record times from the log.
	byseq := map[uint64]int{}
	for i, s := range out {
		byseq[s.seq] = i
	}
	err := l.ViewRecords(func(s Snapshot) error {
		return s.Scan(1, 0, func(seq uint64, r eventstore.Record) error {
			if i, ok := byseq[seq]; ok {
				out[i].rt = r.RecordTime()
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

type stored struct {
	seq uint64
	rt  int64
	ev  domain.Event
}

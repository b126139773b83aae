package customers

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/customers/customerstest"
)

// keys gives customers keys in order of appearance, as a log dictionary
// would.
type keys struct {
	ids   map[string]uint32
	names []string
}

func newKeys() *keys { return &keys{ids: map[string]uint32{}, names: []string{""}} }

func (k *keys) key(s string) uint32 {
	if id, ok := k.ids[s]; ok {
		return id
	}
	id := uint32(len(k.names))
	k.ids[s], k.names = id, append(k.names, s)
	return id
}

func (k *keys) name(id uint32) string { return k.names[id] }

// fold folds evs into a new state in batches of the given size, with
// ApplyAll, or with ApplyBatch when batch is negative (-batch facts a
// Batch).
func fold(t *testing.T, evs []domain.Event, batch int, ks *keys) *State {
	t.Helper()
	s := New()
	var facts []Fact
	var b Batch
	for i := range evs {
		if f, ok := FactOf(&evs[i], ks.key(evs[i].Data.CustomerID), s.Strs); ok {
			facts = append(facts, f)
			b.Add(&f)
		}
		if len(facts) >= max(batch, -batch) || i == len(evs)-1 {
			var err error
			if batch < 0 {
				err = s.ApplyBatch(&b)
			} else {
				err = s.ApplyAll(facts)
			}
			if err != nil {
				t.Fatal(err)
			}
			facts = facts[:0]
			b.Reset()
		}
	}
	return s
}

func sameJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	g, _ := json.MarshalIndent(got, "", " ")
	w, _ := json.MarshalIndent(want, "", " ")
	if string(g) != string(w) {
		t.Fatalf("%s differs from the naive recomputation:\n%s", what, diff(string(g), string(w)))
	}
}

// diff returns the first differing lines of a and b, with context.
func diff(a, b string) string {
	al, bl := splitLines(a), splitLines(b)
	for i := 0; i < max(len(al), len(bl)); i++ {
		x, y := "", ""
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			lo := max(0, i-8)
			return fmt.Sprintf("line %d\n--- got (context)\n%s\n--- want\n%s", i, join(al[lo:min(len(al), i+3)]), join(bl[lo:min(len(bl), i+3)]))
		}
	}
	return ""
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := range len(s) {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func join(ls []string) string {
	out := ""
	for _, l := range ls {
		out += l + "\n"
	}
	return out
}

// TestFiguresMatchNaiveRecomputation checks every figure of the review,
// the scorecard and the linkage against the naive recomputation, over
// generated histories with every case, folded one event at a time, in
// large parallel batches of facts in log order and grouped by customer
// (Batch), and after a save and load.
func TestFiguresMatchNaiveRecomputation(t *testing.T) {
	now := time.Date(2025, 11, 20, 0, 0, 0, 0, time.UTC) // 2025-11 and 2025-Q4 still running
	for _, seed := range []uint64{1, 2, 3} {
		delivered := customerstest.World(seed, 260)
		evs := customerstest.Dedupe(delivered)
		if len(evs) == len(delivered) {
			t.Fatal("the world has no duplicates")
		}
		checkWorld(t, evs)
		nv := newNaive(evs)
		for _, batch := range []int{1, 5000, -5000} {
			ks := newKeys()
			s := fold(t, evs, batch, ks)
			check(t, fmt.Sprintf("seed %d batch %d", seed, batch), s, nv, ks, now)
			if batch == 1 {
				continue
			}
			saved := map[uint32][]byte{}
			s.MarkAllDirty()
			if err := s.TakeDirty(func(k uint32, h []byte) error { saved[k] = append([]byte(nil), h...); return nil }); err != nil {
				t.Fatal(err)
			}
			if s.Dirty() != 0 {
				t.Fatal("dirty marks left after TakeDirty")
			}
			l, err := Load(s.Header(), func(fn func(uint32, []byte) error) error {
				for k, h := range saved {
					if err := fn(k, h); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			check(t, fmt.Sprintf("seed %d loaded", seed), l, nv, ks, now)
		}
	}
}

// checkWorld makes sure the generated history holds every case.
func checkWorld(t *testing.T, evs []domain.Event) {
	t.Helper()
	var late, comeback, noValue, noValueNoRevenue, noComplaint, costs, renewReasons, competitors, preexisting int
	byCust := map[string][]domain.Event{}
	var maxT time.Time
	for _, ev := range evs {
		if ev.Time.Before(maxT) {
			late++
		}
		if ev.Time.After(maxT) {
			maxT = ev.Time
		}
		byCust[ev.Data.CustomerID] = append(byCust[ev.Data.CustomerID], ev)
		switch {
		case ev.Type == domain.TypeRevenueRecorded && ev.Data.HasCost:
			costs++
		case ev.Type == domain.TypeCustomerRenewed && ev.Data.Reason != "":
			renewReasons++
		case ev.Type == domain.TypeCustomerDefected && ev.Data.Competitor != "":
			competitors++
		}
	}
	for _, cevs := range byCust {
		slices.SortStableFunc(cevs, func(a, b domain.Event) int { return a.Time.Compare(b.Time) })
		defs, acq, complained, revenue := 0, 0, false, false
		for _, ev := range cevs {
			switch ev.Type {
			case domain.TypeCustomerAcquired:
				acq++
			case domain.TypeComplaintFiled:
				complained = true
			case domain.TypeRevenueRecorded:
				revenue = true
			case domain.TypeCustomerDefected:
				defs++
				if !complained {
					noComplaint++
				}
				if ev.Data.Currency == "" {
					noValue++
					if !revenue {
						noValueNoRevenue++
					}
				}
				if defs == 1 && acq == 0 {
					preexisting++
				}
			}
		}
		if defs >= 2 && acq >= 2 {
			comeback++
		}
	}
	for name, n := range map[string]int{"late events": late, "customers who came back and defected again": comeback,
		"defections without a stated value": noValue, "defections without value or revenue": noValueNoRevenue,
		"defections with no complaint before": noComplaint, "costs": costs, "renewal reasons": renewReasons,
		"competitors": competitors, "customers never seen acquired": preexisting} {
		if n == 0 {
			t.Fatalf("the generated history has no %s", name)
		}
	}
}

func check(t *testing.T, what string, s *State, nv *naive, ks *keys, now time.Time) {
	t.Helper()
	for _, p := range []string{"2024-03", "2024-09", "2025-01", "2025-06", "2025-11", "2024-Q2", "2025-Q1", "2025-Q4", "2023-12"} {
		for _, q := range []ReviewQuery{{Period: p, Now: now}, {Period: p, Now: now, Top: 3, Limit: 5}} {
			got, err := s.Review(q, ks.name)
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, what+" review "+p, got, nv.review(q))
		}
	}
	for _, q := range []ScorecardQuery{{From: "2024-01", To: "2025-12", BySegment: true, Now: now}, {From: "2023-11", To: "2024-06", Now: now}} {
		got, err := s.Scorecard(q)
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, what+" scorecard", got, nv.scorecard(q))
	}
	asOf := time.Unix(0, s.Latest()).UTC()
	for _, q := range []LinkageQuery{{}, {Window: 30 * 24 * time.Hour, BySegment: true}, {From: "2024-06", To: "2025-03"},
		{AsOf: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC), BySegment: true}} {
		got, err := s.Linkage(q)
		if err != nil {
			t.Fatal(err)
		}
		at := asOf
		if !q.AsOf.IsZero() {
			at = q.AsOf
		}
		want := nv.linkage(q, at)
		// Ranks: by complainants, and by revenue at risk in RiskCurrency.
		for i := range got.Rows {
			r := &got.Rows[i]
			for j := range got.Rows {
				o := &got.Rows[j]
				if o.Complainants > r.Complainants && o.RankByCount > r.RankByCount {
					t.Fatalf("%s: rank by count %d (%d complainants) above %d (%d)", what, r.RankByCount, r.Complainants, o.RankByCount, o.Complainants)
				}
				if o.riskKey.Cmp(r.riskKey) > 0 && o.RankByRisk > r.RankByRisk {
					t.Fatalf("%s: rank by risk out of order", what)
				}
			}
			r.RankByCount, r.RankByRisk = 0, 0
		}
		got.RiskCurrency = ""
		key := func(r LinkRow) string { return r.Category + "/" + r.Segment }
		slices.SortFunc(got.Rows, func(a, b LinkRow) int { return compareStr(key(a), key(b)) })
		slices.SortFunc(want.Rows, func(a, b LinkRow) int { return compareStr(key(a), key(b)) })
		if len(want.Rows) == 0 {
			t.Fatalf("%s: the linkage has no rows", what)
		}
		sameJSON(t, what+" linkage", got, want)
	}
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

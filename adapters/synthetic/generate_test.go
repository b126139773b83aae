package synthetic_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/synthetic"
	"github.com/plaint/plaint/domain"
)

func generate(t *testing.T, cfg synthetic.Config) ([]domain.Event, synthetic.Summary) {
	t.Helper()
	var evs []domain.Event
	sum, err := synthetic.Generate(context.Background(), cfg, func(ev *domain.Event) error {
		evs = append(evs, *ev)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs, sum
}

func digest(t *testing.T, cfg synthetic.Config) ([32]byte, int64) {
	t.Helper()
	h := sha256.New()
	sum, err := synthetic.Generate(context.Background(), cfg, func(ev *domain.Event) error {
		b, err := ev.MarshalJSON()
		if err != nil {
			return err
		}
		h.Write(append(b, '\n'))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out, sum.Events
}

func TestSameSeedSameEventsByteForByte(t *testing.T) {
	cfg := synthetic.Config{Customers: 400, Months: 14, Seed: 42}
	a, n := digest(t, cfg)
	b, _ := digest(t, cfg)
	if a != b {
		t.Fatal("two runs with the same seed differ")
	}
	if n < 1000 {
		t.Fatalf("only %d events", n)
	}
	cfg.Seed = 43
	if c, _ := digest(t, cfg); c == a {
		t.Fatal("a different seed gave the same events")
	}
}

func TestEveryEventIsValidAndRoundTrips(t *testing.T) {
	evs, sum := generate(t, synthetic.Config{Customers: 300, Months: 18, Seed: 7})
	dec := domain.Decoder{Now: func() time.Time { return synthetic.DefaultEnd.AddDate(0, 1, 0) }}
	seen := map[string]bool{}
	var prev time.Time
	for i := range evs {
		ev := &evs[i]
		if err := domain.Validate(ev); err != nil {
			t.Fatalf("event %d (%s) invalid: %v", i, ev.Type, err)
		}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		got, err := dec.Decode(ev.Type.Subject(), b)
		if err != nil {
			t.Fatalf("event %d does not decode: %v\n%s", i, err, b)
		}
		if !reflect.DeepEqual(got, *ev) {
			t.Fatalf("event %d changed in a round trip:\n got %+v\nwant %+v", i, got, *ev)
		}
		if seen[ev.Source+"/"+ev.ID] {
			t.Fatalf("duplicate key %s/%s", ev.Source, ev.ID)
		}
		seen[ev.Source+"/"+ev.ID] = true
		if ev.Time.Before(prev) {
			t.Fatalf("event %d at %s comes after one at %s", i, ev.Time, prev)
		}
		prev = ev.Time
		if ev.Time.Before(sum.Start) || !ev.Time.Before(sum.End) {
			t.Fatalf("event %d at %s is outside [%s, %s)", i, ev.Time, sum.Start, sum.End)
		}
	}
	if want := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC); !sum.End.Equal(want) {
		t.Fatalf("history ends %s, want %s", sum.End, want)
	}
	if int64(len(evs)) != sum.Events {
		t.Fatalf("summary says %d events, emitted %d", sum.Events, len(evs))
	}
}

// TestHistoryHasARealisticShape checks the properties the trend views,
// defection review and alerts rely on.
func TestHistoryHasARealisticShape(t *testing.T) {
	const months = 24
	evs, sum := generate(t, synthetic.Config{Customers: 3000, Months: months, Seed: 1})
	types := map[domain.Type]int{}
	dims := map[string]map[string]bool{"segment": {}, "channel": {}, "category": {}, "root_cause": {}, "product": {}, "region": {}}
	acquired := map[string]time.Time{}
	defectedAt := map[string]time.Time{}
	complaintsOf := map[string][]time.Time{}
	var weekday, weekend float64
	monthly := map[string][months]int{}
	var perMonth [months]int
	for i := range evs {
		ev := &evs[i]
		types[ev.Type]++
		switch ev.Type {
		case domain.TypeCustomerAcquired:
			acquired[ev.Data.CustomerID] = ev.Time
		case domain.TypeCustomerDefected:
			defectedAt[ev.Data.CustomerID] = ev.Time
		case domain.TypeComplaintFiled:
			complaintsOf[ev.Data.CustomerID] = append(complaintsOf[ev.Data.CustomerID], ev.Time)
			d := ev.Data
			for k, v := range map[string]string{"segment": d.Segment, "channel": d.Channel, "category": d.Category, "root_cause": d.RootCause, "product": d.Product, "region": d.Region} {
				dims[k][v] = true
			}
			if wd := ev.Time.Weekday(); wd == time.Saturday || wd == time.Sunday {
				weekend++
			} else {
				weekday++
			}
			m := (ev.Time.Year()-sum.Start.Year())*12 + int(ev.Time.Month()) - int(sum.Start.Month())
			c := monthly[d.Category]
			c[m]++
			monthly[d.Category] = c
			perMonth[m]++
		}
	}
	for _, ty := range []domain.Type{domain.TypeComplaintFiled, domain.TypeComplaintResolved, domain.TypeCustomerAcquired,
		domain.TypeCustomerRenewed, domain.TypeCustomerDefected, domain.TypeReferralMade, domain.TypeRevenueRecorded} {
		if types[ty] == 0 {
			t.Errorf("no %s events", ty)
		}
	}
	if len(acquired) != 3000 || sum.Customers != 3000 {
		t.Errorf("%d customers acquired (summary %d), want 3000", len(acquired), sum.Customers)
	}
	for dim, min := range map[string]int{"segment": 4, "channel": 5, "category": 15, "root_cause": 8, "product": 4, "region": 4} {
		if len(dims[dim]) < min {
			t.Errorf("%d distinct %s values in complaints, want at least %d", len(dims[dim]), dim, min)
		}
	}
	// Weekdays are 5/7 of days; with the weekday shape they carry far more.
	if weekday/(weekday+weekend) < 0.8 {
		t.Errorf("weekday share of complaints %.2f, want > 0.8", weekday/(weekday+weekend))
	}
	// Customers defect more in months following a complaint: the monthly
	// defection rate of customers who complained in the previous 90 days (or
	// that month) is at least twice that of the others.
	var rate [2][2]float64 // [complained recently][defected]
	for m := range months {
		from := sum.Start.AddDate(0, m, 0)
		to := from.AddDate(0, 1, 0)
		for id, acq := range acquired {
			if !acq.Before(from) {
				continue
			}
			if d, ok := defectedAt[id]; ok && d.Before(from) {
				continue
			}
			recent := 0
			for _, at := range complaintsOf[id] {
				if !at.Before(from.AddDate(0, 0, -90)) && at.Before(to) {
					recent = 1
					break
				}
			}
			def := 0
			if d, ok := defectedAt[id]; ok && d.Before(to) {
				def = 1
			}
			rate[recent][def]++
		}
	}
	withC := rate[1][1] / (rate[1][0] + rate[1][1])
	without := rate[0][1] / (rate[0][0] + rate[0][1])
	t.Logf("monthly defection rate: %.4f after a complaint, %.4f without", withC, without)
	if withC < 2*without {
		t.Errorf("monthly defection rate after a complaint %.4f, without %.4f; want at least twice", withC, without)
	}
	// The rising categories' share of complaints climbs in the last months.
	for _, cat := range []string{"app-login", "price-increase"} {
		share := func(m int) float64 { return float64(monthly[cat][m]) / float64(perMonth[m]) }
		var before float64
		for m := months - 9; m < months-3; m++ {
			before += share(m)
		}
		before /= 6
		if last := share(months - 1); last < 2*before {
			t.Errorf("%s: share %.3f in the last month, %.3f before; want it to at least double", cat, last, before)
		}
	}
}

func TestGenerateStopsOnEmitError(t *testing.T) {
	stop := errors.New("stop")
	n := 0
	_, err := synthetic.Generate(context.Background(), synthetic.Config{Customers: 100, Months: 3}, func(*domain.Event) error {
		n++
		if n == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 10 {
		t.Fatalf("err %v after %d events, want stop after 10", err, n)
	}
}

func TestConfigValidate(t *testing.T) {
	_, err := synthetic.Generate(context.Background(), synthetic.Config{Customers: -1, Months: 500, Rising: []string{"nope"}, Late: 0.9},
		func(*domain.Event) error { t.Fatal("an event from an invalid configuration"); return nil })
	if !errors.Is(err, synthetic.ErrConfig) {
		t.Fatalf("err %v does not wrap ErrConfig", err)
	}
	for _, want := range []string{"customers is -1", "months is 500", `rising category "nope"`, "late is 0.9"} {
		if !bytes.Contains([]byte(err.Error()), []byte(want)) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
}

func TestHistoryCarriesCostCompetitorAndRenewalReason(t *testing.T) {
	evs, _ := generate(t, synthetic.Config{Customers: 600, Months: 18, Seed: 7})
	var costs, revenues, competitors, defections, reasons, renewals int
	for _, ev := range evs {
		d := ev.Data
		switch ev.Type {
		case domain.TypeRevenueRecorded:
			revenues++
			if d.HasCost {
				costs++
				if d.Cost <= 0 || d.Cost >= d.Amount {
					t.Fatalf("cost %s of revenue %s", d.Cost.Format(d.Currency), d.Amount.Format(d.Currency))
				}
			}
		case domain.TypeCustomerDefected:
			defections++
			if d.Competitor != "" {
				competitors++
			}
		case domain.TypeCustomerRenewed:
			renewals++
			if d.Reason != "" {
				reasons++
			}
		}
	}
	if revenues == 0 || costs != revenues {
		t.Fatalf("%d of %d revenue events carry a cost", costs, revenues)
	}
	if defections == 0 || competitors == 0 || competitors == defections {
		t.Fatalf("%d of %d defections name a competitor; want some, not all", competitors, defections)
	}
	if renewals == 0 || reasons == 0 || reasons == renewals {
		t.Fatalf("%d of %d renewals give a reason; want some, not all", reasons, renewals)
	}
}

// TestHistoryHasEveryReviewCase checks the cases the lost-customer review
// must handle: customers who leave without a complaint before, who come back
// and leave again, defections without a stated value, late and duplicate
// events (when asked for).
func TestHistoryHasEveryReviewCase(t *testing.T) {
	evs, sum := generate(t, synthetic.Config{Customers: 2000, Months: 24, Seed: 5, Late: 0.01, Duplicates: 0.005})
	seen := map[string]bool{}
	var late, dups, noValue, noComplaint, again int
	var maxT time.Time
	complained := map[string]bool{}
	defections := map[string]int{}
	for _, ev := range evs {
		k := ev.Source + "/" + ev.ID
		if seen[k] {
			dups++
			continue
		}
		seen[k] = true
		if ev.Time.Before(maxT) {
			late++
		}
		if ev.Time.After(maxT) {
			maxT = ev.Time
		}
	}
	sorted := append([]domain.Event(nil), evs...)
	slices.SortStableFunc(sorted, func(a, b domain.Event) int { return a.Time.Compare(b.Time) })
	for _, ev := range sorted {
		switch ev.Type {
		case domain.TypeComplaintFiled:
			complained[ev.Data.CustomerID] = true
		case domain.TypeCustomerDefected:
			defections[ev.Data.CustomerID]++
			if defections[ev.Data.CustomerID] == 2 {
				again++
			}
			if ev.Data.Currency == "" {
				noValue++
			}
			if !complained[ev.Data.CustomerID] {
				noComplaint++
			}
		}
	}
	if late == 0 || dups == 0 || int64(dups) != sum.Duplicates || sum.Late == 0 || noValue == 0 || noComplaint == 0 || again == 0 || sum.CameBack == 0 {
		t.Fatalf("late %d (summary %d), duplicates %d (%d), no value %d, no complaint before %d, defected again %d, came back %d",
			late, sum.Late, dups, sum.Duplicates, noValue, noComplaint, again, sum.CameBack)
	}
	if _, err := synthetic.Generate(context.Background(), synthetic.Config{Late: 0.9}, func(*domain.Event) error { return nil }); err == nil {
		t.Fatal("a late share of 0.9 was accepted")
	}
}

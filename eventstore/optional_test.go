package eventstore_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// TestOptionalAgreesWithDecode reads the optional fields of a generated
// corpus (extra fields, subjects, UUID and text ids, amounts, costs,
// reasons, competitors) with Snapshot.Optional and checks each against the
// fully decoded event.
func TestOptionalAgreesWithDecode(t *testing.T) {
	g := &corpusGen{r: rand.New(rand.NewPCG(8, 8))}
	d := &domain.Decoder{Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }}
	var events []domain.Event
	for i := range 2000 {
		ev, err := d.Decode("", []byte(g.event(i)))
		if err != nil {
			t.Fatal(err)
		}
		if i%7 == 0 && ev.Type == domain.TypeComplaintFiled {
			ev.Data.ComplaintID = "CMP-" + ev.ID
		}
		events = append(events, ev)
	}
	l := MustOpen(t, t.TempDir())
	events = append(events, domain.Event{ID: "ref-1", Source: "crm", Type: domain.TypeReferralMade, Time: events[0].Time,
		Subject: "C-1", Schema: domain.CurrentSchema, Data: domain.Data{CustomerID: "C-1", ReferredID: "C-9"}})
	if _, err := l.Append(events...); err != nil {
		t.Fatal(err)
	}
	var costs, amounts, competitors, cids int
	err := l.View(func(s *eventstore.Snapshot) error {
		return s.Scan(1, 0, func(seq uint64, r eventstore.Record) error {
			want, err := s.Decode(r)
			if err != nil {
				return err
			}
			o, err := s.Optional(r)
			if err != nil {
				t.Fatalf("record %d: %v", seq, err)
			}
			w := want.Data
			if string(o.ComplaintID) != w.ComplaintID || s.String(o.Reason) != w.Reason ||
				s.String(o.Competitor) != w.Competitor || s.String(o.Referred) != w.ReferredID ||
				s.String(o.Resolution) != w.Resolution || s.String(o.Currency) != w.Currency ||
				o.Amount != w.Amount || o.Cost != w.Cost || o.HasCost != w.HasCost {
				t.Fatalf("record %d: Optional %+v disagrees with %+v", seq, o, w)
			}
			if o.HasCost {
				costs++
			}
			if o.Currency != 0 {
				amounts++
			}
			if o.Competitor != 0 {
				competitors++
			}
			if o.ComplaintID != nil {
				cids++
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if costs == 0 || amounts == 0 || competitors == 0 || cids == 0 {
		t.Fatalf("corpus too tame: %d costs, %d amounts, %d competitors, %d complaint ids", costs, amounts, competitors, cids)
	}
}

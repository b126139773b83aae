package domain_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// builtEvent is an event as plaint builds one, from the fuzzer's values:
// the strings of other fill the data fields that have no argument of their
// own, separated by "|".
func builtEvent(id, source, subject, ct, cust, cat, seg, other, cur, topic string, typ, schema, sev uint8, tns, amount, cost int64, hasCost bool) domain.Event {
	o := strings.SplitN(other, "|", 9)
	for len(o) < 9 {
		o = append(o, "")
	}
	return domain.Event{ID: id, Source: source, Type: domain.Type(typ % 13), Time: time.Unix(0, tns).UTC(), Subject: subject,
		Schema: schema % 3, ContentType: ct,
		Data: domain.Data{CustomerID: cust, Category: cat, Segment: seg, Channel: o[0], RootCause: o[1], Product: o[2],
			Region: o[3], Severity: sev % 8, ComplaintID: o[4], Resolution: o[5], Reason: o[6], ReferredID: o[7],
			Competitor: o[8], Amount: domain.Money(amount), Currency: cur, Cost: domain.Money(cost), HasCost: hasCost, Topic: topic}}
}

// checkBuiltAgrees fails unless CheckBuilt gives what Decode gives of the
// event's rendering, on its type's subject, and leaves the event unchanged.
func checkBuiltAgrees(t *testing.T, d *domain.Decoder, ev domain.Event) {
	t.Helper()
	before := ev
	payload := ev.AppendJSON(nil)
	_, want := d.Decode(ev.Type.Subject(), payload)
	got := d.CheckBuilt(&ev, payload)
	if (got == nil) != (want == nil) || got != nil && got.Error() != want.Error() {
		t.Fatalf("CheckBuilt says %v, Decode says %v, of %s", got, want, payload)
	}
	if !reflect.DeepEqual(ev, before) {
		t.Fatalf("CheckBuilt changed the event:\n%+v\n%+v", before, ev)
	}
}

// TestCheckBuiltAgreesWithDecode: CheckBuilt answers as Decode of the
// rendering for events that pass and for each kind of problem a built
// event can have, with and without plaint's own types allowed.
func TestCheckBuiltAgreesWithDecode(t *testing.T) {
	at := time.Date(2026, 10, 3, 14, 22, 0, 123, time.UTC)
	good := domain.Event{ID: "5c0d", Source: "crm/eu-west", Type: domain.TypeComplaintFiled, Time: at, Subject: "C-1",
		Schema: domain.CurrentSchema, Data: domain.Data{CustomerID: "C-1", Category: "billing", Segment: "smb", Severity: 3}}
	revenue := domain.Event{ID: "r1", Source: "s", Type: domain.TypeRevenueRecorded, Time: at, Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: "C-1", Currency: "EUR", Amount: 1250, Cost: 300, HasCost: true}}
	cases := map[string]func(*domain.Event){
		"good":                         func(*domain.Event) {},
		"a slug to normalise":          func(e *domain.Event) { e.Data.Category = "Billing / Invoices" },
		"a slug without letters":       func(e *domain.Event) { e.Data.Category = "//" },
		"a slug too long":              func(e *domain.Event) { e.Data.Segment = strings.Repeat("a", 200) },
		"no id":                        func(e *domain.Event) { e.ID = "" },
		"an id too long":               func(e *domain.Event) { e.ID = strings.Repeat("x", 1000) },
		"a control character":          func(e *domain.Event) { e.Subject = "C\x01" },
		"a blank source":               func(e *domain.Event) { e.Source = "   " },
		"invalid UTF-8":                func(e *domain.Event) { e.Data.CustomerID = "C\xff" },
		"no customer":                  func(e *domain.Event) { e.Data.CustomerID = "" },
		"severity 6":                   func(e *domain.Event) { e.Data.Severity = 6 },
		"before the earliest time":     func(e *domain.Event) { e.Time = time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC) },
		"the zero time":                func(e *domain.Event) { e.Time = time.Time{} },
		"far in the future":            func(e *domain.Event) { e.Time = now.Add(48 * time.Hour) },
		"a year past 9999":             func(e *domain.Event) { e.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) },
		"schema 0 without a topic":     func(e *domain.Event) { e.Schema = 0 },
		"schema 0 with a topic":        func(e *domain.Event) { e.Schema, e.Data.Topic = 0, "  late bill " },
		"a schema from the future":     func(e *domain.Event) { e.Schema = domain.CurrentSchema + 1 },
		"a JSON content type":          func(e *domain.Event) { e.ContentType = "application/cloudevents+json; charset=utf-8" },
		"another content type":         func(e *domain.Event) { e.ContentType = "text/plain" },
		"a field the type lacks":       func(e *domain.Event) { e.Data.Competitor = "rival" },
		"a pseudonym":                  func(e *domain.Event) { e.Data.CustomerID = domain.PseudonymPrefix + "7" },
		"a reserved type":              func(e *domain.Event) { e.Type = domain.TypeAlertRaised },
		"an unknown type":              func(e *domain.Event) { e.Type = 0 },
		"a topic too long":             func(e *domain.Event) { e.Data.Topic = strings.Repeat("t", domain.MaxTopicLen+1) },
		"a payload over the limit":     func(e *domain.Event) { e.Data.Topic = strings.Repeat("t", domain.MaxEventSize) },
		"an amount without currency":   func(e *domain.Event) { e.Data.Amount = 5 },
		"revenue":                      func(e *domain.Event) { *e = revenue },
		"revenue in lower case":        func(e *domain.Event) { *e = revenue; e.Data.Currency = "eur" },
		"revenue in no currency":       func(e *domain.Event) { *e = revenue; e.Data.Currency = "XYZ" },
		"revenue without a currency":   func(e *domain.Event) { *e = revenue; e.Data.Currency = "" },
		"revenue of an amount too big": func(e *domain.Event) { *e = revenue; e.Data.Amount = 1 << 62 },
		"revenue with a cost too big":  func(e *domain.Event) { *e = revenue; e.Data.Cost = -1 << 62 },
	}
	for name, change := range cases {
		for _, alerts := range []bool{false, true} {
			t.Run(name, func(t *testing.T) {
				ev := good
				change(&ev)
				d := decoder()
				d.AllowAlerts = alerts
				checkBuiltAgrees(t, d, ev)
			})
		}
	}
}

// FuzzCheckBuilt holds CheckBuilt to Decode's answer for any event plaint
// could build.
func FuzzCheckBuilt(f *testing.F) {
	f.Add("5c0d", "crm/eu-west", "C-1", "", "C-1", "Billing", "smb", "phone|process|fiber|north", "", "", uint8(1), uint8(1), uint8(3), int64(1759501320000000000), int64(0), int64(0), false, false)
	f.Add("r1", "s", "", "application/json", "C-1", "", "", "", "eur", "", uint8(7), uint8(1), uint8(0), int64(1759501320000000000), int64(1250), int64(-3), true, false)
	f.Add("1", "s", "", "", "erased-3", "", "", "||||||||x", "", " topic ", uint8(1), uint8(0), uint8(9), int64(-1), int64(0), int64(0), false, true)
	f.Add("\xff", "s\x00", "\u2028", "text/plain", "", "//", "a\u202eb", "", "XYZ", "", uint8(8), uint8(2), uint8(6), int64(1<<62), int64(1<<62), int64(0), true, true)
	f.Fuzz(func(t *testing.T, id, source, subject, ct, cust, cat, seg, other, cur, topic string, typ, schema, sev uint8, tns, amount, cost int64, hasCost, alerts bool) {
		d := decoder()
		d.AllowAlerts = alerts
		checkBuiltAgrees(t, d, builtEvent(id, source, subject, ct, cust, cat, seg, other, cur, topic, typ, schema, sev, tns, amount, cost, hasCost))
	})
}

package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

var now = time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)

func decoder() *domain.Decoder { return &domain.Decoder{Now: func() time.Time { return now }} }

const good = `{"specversion":"1.0","id":"5c0d","source":"crm/eu-west","type":"complaint.filed",
 "time":"2026-10-03T14:22:00Z","subject":"C-1042",
 "data":{"customer_id":"C-1042","category":"Billing","segment":"enterprise","channel":"phone",
         "severity":3,"root_cause":"process","product":"fiber","region":"north"}}`

func TestDecodeGood(t *testing.T) {
	ev, err := decoder().Decode("plaint.events.complaint.filed", []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Event{ID: "5c0d", Source: "crm/eu-west", Type: domain.TypeComplaintFiled,
		Time: time.Date(2026, 10, 3, 14, 22, 0, 0, time.UTC), Subject: "C-1042", Schema: 1,
		Data: domain.Data{CustomerID: "C-1042", Category: "billing", Segment: "enterprise", Channel: "phone",
			Severity: 3, RootCause: "process", Product: "fiber", Region: "north"}}
	// The category was sent as "Billing": the canonical slug is billing, and
	// the as-sent text is kept for output.
	var err2 error
	if want.AsSent, err2 = domain.NewAsSent(domain.Member{Data: true, Name: "category", Raw: `"Billing"`}); err2 != nil {
		t.Fatal(err2)
	}
	if ev != want {
		t.Fatalf("got %+v\nwant %+v", ev, want)
	}
}

func TestDecodeRoundTrip(t *testing.T) {
	ev, err := decoder().Decode("", []byte(`{"specversion":"1.0","id":"r1","source":"s","type":"revenue.recorded",
		"time":"2026-01-02T03:04:05.123456789+02:00","data":{"customer_id":"C-1","amount":"1234.5","currency":"eur"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Data.Amount != 123450 || ev.Data.Currency != "EUR" {
		t.Fatalf("amount = %d %s, want 123450 EUR", ev.Data.Amount, ev.Data.Currency)
	}
	b, err := ev.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	ev2, err := decoder().Decode("", b)
	if err != nil {
		t.Fatalf("decode own encoding %s: %v", b, err)
	}
	if ev != ev2 {
		t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
	}
}

func TestDecodeRejects(t *testing.T) {
	mut := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	tests := []struct {
		name, subject, payload, reason, field string
	}{
		{"bad json", "", `{"specversion":`, domain.ReasonBadJSON, ""},
		{"trailing data", "", good + `{}`, domain.ReasonBadJSON, ""},
		{"trailing brace", "", good + ` }`, domain.ReasonBadJSON, ""},
		{"trailing bracket", "", good + `]`, domain.ReasonBadJSON, ""},
		{"not an object", "", `[1,2]`, domain.ReasonBadJSON, ""},
		{"invalid utf8", "", "{\"id\":\"\xff\"}", domain.ReasonInvalidUTF8, ""},
		{"oversize", "", `{"x":"` + strings.Repeat("a", domain.MaxEventSize) + `"}`, domain.ReasonOversize, ""},
		{"wrong specversion", "", mut(`"1.0"`, `"0.3"`), domain.ReasonInvalidField, "specversion"},
		{"missing specversion", "", mut(`"specversion":"1.0",`, ``), domain.ReasonMissingField, "specversion"},
		{"unknown type", "", mut(`complaint.filed`, `complaint.eaten`), domain.ReasonUnknownType, "type"},
		{"alert from outside", "", mut(`complaint.filed`, `alert.raised`), domain.ReasonReservedType, "type"},
		{"subject mismatch", "plaint.events.customer.renewed", good, domain.ReasonSubjectMismatch, "type"},
		{"missing id", "", mut(`"id":"5c0d",`, ``), domain.ReasonMissingField, "id"},
		{"missing source", "", mut(`"source":"crm/eu-west",`, ``), domain.ReasonMissingField, "source"},
		{"control char in id", "", mut(`"5c0d"`, `"5c\u0001"`), domain.ReasonInvalidField, "id"},
		{"missing time", "", mut(`"time":"2026-10-03T14:22:00Z",`, ``), domain.ReasonMissingField, "time"},
		{"bad time", "", mut(`2026-10-03T14:22:00Z`, `yesterday`), domain.ReasonInvalidField, "time"},
		{"before 1990", "", mut(`2026-10-03`, `1989-12-31`), domain.ReasonTimeRange, "time"},
		{"far future", "", mut(`2026-10-03`, `2027-10-03`), domain.ReasonTimeRange, "time"},
		{"missing data", "", `{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","time":"2026-10-03T14:22:00Z"}`, domain.ReasonMissingField, "data"},
		{"data not object", "", `{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","time":"2026-10-03T14:22:00Z","data":[1]}`, domain.ReasonBadJSON, "data"},
		{"missing customer", "", mut(`"customer_id":"C-1042",`, ``), domain.ReasonMissingField, "data.customer_id"},
		{"missing category", "", mut(`"category":"Billing",`, ``), domain.ReasonMissingField, "data.category"},
		{"severity range", "", mut(`"severity":3`, `"severity":9`), domain.ReasonInvalidField, "data.severity"},
		{"severity type", "", mut(`"severity":3`, `"severity":"high"`), domain.ReasonInvalidField, "data.severity"},
		{"slug without letters", "", mut(`"Billing"`, `"!!!"`), domain.ReasonInvalidField, "data.category"},
		{"bad schema version", "", mut(`"subject"`, `"schemaversion":7,"subject"`), domain.ReasonInvalidField, "schemaversion"},
		{"bad content type", "", mut(`"subject"`, `"datacontenttype":"text/xml","subject"`), domain.ReasonInvalidField, "datacontenttype"},
		{"amount precision", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"1.234"}}`, domain.ReasonInvalidField, "data.amount"},
		{"revenue without amount", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C"}}`, domain.ReasonMissingField, "data.amount"},
		{"resolved without complaint", "", `{"specversion":"1.0","id":"1","source":"s","type":"complaint.resolved","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C"}}`, domain.ReasonMissingField, "data.complaint_id"},
		{"acquired without segment", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.acquired","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C"}}`, domain.ReasonMissingField, "data.segment"},
		{"referral without referred", "", `{"specversion":"1.0","id":"1","source":"s","type":"referral.made","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C"}}`, domain.ReasonMissingField, "data.referred_customer_id"},
		{"bad currency", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":1,"currency":"euro"}}`, domain.ReasonInvalidField, "data.currency"},
		{"v0 without topic", "", `{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","schemaversion":0,"time":"2026-10-03T14:22:00Z","data":{"customer_id":"C"}}`, domain.ReasonMissingField, "data.topic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decoder().Decode(tt.subject, []byte(tt.payload))
			var de *domain.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want a *domain.Error", err)
			}
			if de.Code != domain.EINVALID || de.Reason != tt.reason || de.Field != tt.field {
				t.Fatalf("got code=%s reason=%s field=%q (%v), want reason=%s field=%q", de.Code, de.Reason, de.Field, err, tt.reason, tt.field)
			}
		})
	}
}

func TestDecodeAcceptsSchemaZero(t *testing.T) {
	ev, err := decoder().Decode("", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","schemaversion":0,"time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","topic":"My bill is wrong"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Schema != 0 || ev.Data.Topic != "My bill is wrong" || ev.Data.Category != "" {
		t.Fatalf("got %+v", ev)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add("plaint.events.complaint.filed", []byte(good))
	f.Add("", []byte(`{"specversion":"1.0","id":"r1","source":"s","type":"revenue.recorded","time":"2026-01-02T03:04:05Z","data":{"customer_id":"C-1","amount":"-0.5"}}`))
	f.Add("", []byte(`{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","schemaversion":0,"time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","topic":"x"}}`))
	f.Add("x", []byte(`null`))
	f.Fuzz(func(t *testing.T, subject string, payload []byte) {
		d := decoder()
		ev, err := d.Decode(subject, payload)
		if err != nil {
			var de *domain.Error
			if !errors.As(err, &de) || de.Code != domain.EINVALID || de.Reason == "" {
				t.Fatalf("rejection without a reason: %v", err)
			}
			return
		}
		if err := domain.Validate(&ev); err != nil {
			t.Fatalf("decoded event does not validate: %v", err)
		}
		b, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		ev2, err := d.Decode("", b)
		if err != nil {
			t.Fatalf("own encoding %s rejected: %v", b, err)
		}
		if ev2 != ev {
			t.Fatalf("round trip changed the event:\n%+v\n%+v", ev, ev2)
		}
	})
}

package domain_test

import (
	"errors"
	"fmt"
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
		// Open fields are bounded (issue 6).
		{"field name over 256 bytes", "", mut(`"subject"`, `"`+strings.Repeat("n", 257)+`":1,"subject"`), domain.ReasonInvalidField, ""},
		{"nested field name over 256 bytes", "", mut(`"region":"north"`, `"region":"north","o":{"`+strings.Repeat("n", 257)+`":1}`), domain.ReasonInvalidField, "data"},
		{"more than 256 fields", "", mut(`"region":"north"`, `"region":"north"`+manyFields(250)), domain.ReasonInvalidField, ""},
		{"nesting deeper than 32", "", mut(`"region":"north"`, `"region":"north","deep":`+strings.Repeat("[", 31)+strings.Repeat("]", 31)), domain.ReasonInvalidField, "data.deep"},
		{"empty field name", "", mut(`"region":"north"`, `"region":"north","":1`), domain.ReasonInvalidField, "data"},
		// Lenient input that merged or altered data (issue 8 item 9).
		{"lone high surrogate", "", mut(`"5c0d"`, `"\ud800"`), domain.ReasonInvalidUTF8, ""},
		{"lone low surrogate", "", mut(`"5c0d"`, `"\udfff"`), domain.ReasonInvalidUTF8, ""},
		{"lone surrogate in a custom field", "", mut(`"region":"north"`, `"region":"north","note":"x\ud83d"`), domain.ReasonInvalidUTF8, ""},
		{"bidi override in an id", "", mut(`"C-1042","category"`, `"\u202eC-1042","category"`), domain.ReasonInvalidField, "data.customer_id"},
		{"zero-width only id", "", mut(`"5c0d"`, `"\u200b\u200c"`), domain.ReasonInvalidField, "id"},
		{"C1 control in an id", "", mut(`"crm/eu-west"`, `"crm\u0085"`), domain.ReasonInvalidField, "source"},
		{"whitespace only id", "", mut(`"5c0d"`, `"  \t "`), domain.ReasonInvalidField, "id"},
		{"jsonxml content type", "", mut(`"subject"`, `"datacontenttype":"application/jsonxml","subject"`), domain.ReasonInvalidField, "datacontenttype"},
		{"+24:00 offset", "", mut(`2026-10-03T14:22:00Z`, `2026-10-03T14:22:00+24:00`), domain.ReasonInvalidField, "time"},
		{"not an ISO 4217 currency", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":1,"currency":"ABC"}}`, domain.ReasonInvalidField, "data.currency"},
		{"top-level null", "", `null`, domain.ReasonBadJSON, ""},
		{"currency without an amount", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.acquired","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","segment":"smb","currency":"EUR"}}`, domain.ReasonInvalidField, "data.currency"},
		// Sums wrap (issue 8 item 5): amounts are bounded.
		{"amount beyond 10^15", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"92233720368547758.07"}}`, domain.ReasonInvalidField, "data.amount"},
		{"amount of 10^15", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"-1000000000000000","currency":"JPY"}}`, domain.ReasonInvalidField, "data.amount"},
		// New known fields are validated.
		{"cost precision", "", `{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"1","cost":"0.001"}}`, domain.ReasonInvalidField, "data.cost"},
		{"cost on a defection", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.defected","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"1","cost":"1"}}`, domain.ReasonInvalidField, "data.cost"},
		{"competitor without letters", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.defected","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","competitor":"!!"}}`, domain.ReasonInvalidField, "data.competitor"},
		{"competitor on a renewal", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.renewed","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","competitor":"rival"}}`, domain.ReasonInvalidField, "data.competitor"},
		{"severity on a defection", "", `{"specversion":"1.0","id":"1","source":"s","type":"customer.defected","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","severity":3}}`, domain.ReasonInvalidField, "data.severity"},
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

// manyFields returns n members ,"f0":0,"f1":1,...
func manyFields(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `,"f%d":%d`, i, i)
	}
	return b.String()
}

func TestDecodeKeepsNewFields(t *testing.T) {
	for _, c := range []struct {
		payload string
		check   func(ev domain.Event) bool
	}{
		{`{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"100.00","currency":"EUR","cost":"70.00"}}`,
			func(ev domain.Event) bool { return ev.Data.HasCost && ev.Data.Cost == 7000 && ev.Data.Amount == 10000 }},
		{`{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"1","cost":0}}`,
			func(ev domain.Event) bool { return ev.Data.HasCost && ev.Data.Cost == 0 && ev.Data.Currency == "USD" }},
		{`{"specversion":"1.0","id":"1","source":"s","type":"customer.defected","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","competitor":"Rival Inc."}}`,
			func(ev domain.Event) bool { return ev.Data.Competitor == "rival-inc" }},
		{`{"specversion":"1.0","id":"1","source":"s","type":"customer.renewed","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","reason":"Price Lock"}}`,
			func(ev domain.Event) bool { return ev.Data.Reason == "price-lock" }},
		{`{"specversion":"1.0","id":"1","source":"s","type":"customer.renewed","time":"2026-10-03T14:22:00Z","datacontenttype":"application/cloudevents+json; charset=utf-8","data":{"customer_id":"C"}}`,
			func(ev domain.Event) bool { return ev.ContentType == "application/cloudevents+json; charset=utf-8" }},
		{`{"specversion":"1.0","id":"1","source":"s","type":"complaint.filed","time":"2026-10-03T14:22:00+23:59","data":{"customer_id":"C","category":"Счёт"}}`,
			func(ev domain.Event) bool {
				return ev.Data.Category == "счёт" && ev.Time.Equal(time.Date(2026, 10, 2, 14, 23, 0, 0, time.UTC))
			}},
		{`{"specversion":"1.0","id":"1","source":"s","type":"revenue.recorded","time":"2026-10-03T14:22:00Z","data":{"customer_id":"C","amount":"999999999999999.99"}}`,
			func(ev domain.Event) bool { return ev.Data.Amount == 99999999999999999 }},
	} {
		ev, err := decoder().Decode("", []byte(c.payload))
		if err != nil || !c.check(ev) {
			t.Errorf("%s: %+v, %v", c.payload, ev, err)
		}
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

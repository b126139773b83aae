package csv_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	plaintcsv "github.com/plaint/plaint/adapters/csv"
	"github.com/plaint/plaint/domain"
)

func TestParseMappingReportsEveryProblemPrecisely(t *testing.T) {
	cases := []struct {
		name, format, doc string
		want              []string
	}{
		{"unknown key", "yaml", "id: {column: a}\nsource: {value: s}\ntime: {column: t}\nfields: {customer_id: {column: c}, category: {column: k, colum: x}}\n",
			[]string{"field colum not found"}},
		{"many problems", "yaml", `
type: complaint.fild
id: {value: x}
source: {}
time: {layout: "02-01"}
fields:
  custmer_id: {column: c}
  channel: {column: ch, value: phone}
  segment: {value: smb, map: {a: b}}
  region: {column: r, unmapped: sometimes}
delimiter: ";;"
on_error: explode
`, []string{
			`type: unknown event type "complaint.fild"`,
			"id: must be a column, not a constant value",
			"source: a column or a constant value is required",
			"time.column: is required",
			`time.layout: "02-01" has no year`,
			"fields.custmer_id: unknown field (known: amount, category,",
			"fields.channel: column and value are exclusive",
			"fields.segment: map applies to a column, not to a constant value",
			`fields.region: unmapped: "sometimes" must be keep, default or reject`,
			`delimiter: ";;" must be one character`,
			`on_error: "explode" must be "skip" or "fail"`,
		}},
		{"required fields of the type", "yaml", "type: customer.acquired\nid: {column: a}\nsource: {value: s}\ntime: {column: t}\nfields: {customer_id: {column: c}}\n",
			[]string{"fields.segment: is required for customer.acquired events"}},
		{"json unknown key", "json", `{"id":{"column":"a"},"sourc":{"value":"s"}}`, []string{`unknown field "sourc"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := plaintcsv.ParseMapping([]byte(c.doc), c.format)
			if err == nil {
				t.Fatal("want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not mention %q", err, w)
				}
			}
		})
	}
}

const jsonMapping = `{
  "type": "complaint.filed",
  "id": {"column": "ticket"},
  "source": {"column": "system", "prefix": "crm/"},
  "time": {"column": "opened", "layout": "2006-01-02 15:04", "location": "Europe/Paris"},
  "fields": {
    "customer_id": {"column": "account"},
    "category": {"column": "topic"},
    "channel": {"column": "via", "map": {"Tel": "phone", "Mail": "email"}, "unmapped": "reject"},
    "segment": {"value": "SMB"},
    "severity": {"column": "prio", "default": "3"},
    "amount": {"column": "disputed"},
    "currency": {"value": "eur"}
  },
  "delimiter": ";"
}`

const ticketsCSV = "ticket;system;opened;account;topic;via;prio;disputed;notes\n" +
	"T-1;eu;2026-03-02 09:30;A-7;Billing / Invoices;tel;;12.50;private text\n" +
	"T-2;eu;2026-03-02 10:00;A-8;Network;Fax;2;;secret\n" +
	"T-3;eu;02/03/2026;A-9;Network;Mail;2;;\n" +
	"T-4;eu;2026-03-03 11:00;;Network;Mail;2;;\n" +
	"T-5;eu;2026-03-03 12:00;A-9;Network;Mail;9;;\n" +
	"T-6;eu;2026-03-03 12:00;A-9;!!!;Mail;1;;\n"

func TestImportAppliesTheMappingAndReportsBadRows(t *testing.T) {
	m, err := plaintcsv.ParseMapping([]byte(jsonMapping), "json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Event
	var rejs []string
	sum, err := plaintcsv.Import(context.Background(), strings.NewReader(ticketsCSV), m,
		func(ev *domain.Event) error { evs = append(evs, *ev); return nil },
		func(r plaintcsv.Rejection) { rejs = append(rejs, r.String()) })
	if err != nil {
		t.Fatal(err)
	}
	if sum != (plaintcsv.Summary{Rows: 6, Accepted: 1, Rejected: 5}) {
		t.Fatalf("summary %+v", sum)
	}
	want := domain.Event{
		ID: "T-1", Source: "crm/eu", Type: domain.TypeComplaintFiled, Schema: domain.CurrentSchema,
		Time: time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC), Subject: "A-7",
		Data: domain.Data{CustomerID: "A-7", Category: "billing-invoices", Channel: "phone", Segment: "smb",
			Severity: 3, Amount: 1250, Currency: "EUR"},
	}
	got := evs[0]
	if !got.Time.Equal(want.Time) {
		t.Fatalf("time %s, want %s", got.Time, want.Time)
	}
	got.Time = want.Time
	if got != want {
		t.Fatalf("event\n got %+v\nwant %+v", got, want)
	}
	wantRejs := []string{
		`line 3 (row 2): channel: value "Fax" of column "via" has no entry in the map`,
		`line 4 (row 3): time: "02/03/2026" does not match the layout "2006-01-02 15:04"`,
		`line 5 (row 4): data.customer_id: is required for complaint.filed`,
		`line 6 (row 5): data.severity: "9" is not an integer from 1 to 5`,
		`line 7 (row 6): data.category: "!!!" has no letters or digits`,
	}
	if strings.Join(rejs, "\n") != strings.Join(wantRejs, "\n") {
		t.Fatalf("rejections\n%s\nwant\n%s", strings.Join(rejs, "\n"), strings.Join(wantRejs, "\n"))
	}
	for _, r := range rejs {
		if strings.Contains(r, "private") || strings.Contains(r, "secret") {
			t.Fatalf("rejection %q quotes an unmapped column", r)
		}
	}
}

func TestImportStopsAfterMaxRejected(t *testing.T) {
	m, err := plaintcsv.ParseMapping([]byte(strings.Replace(jsonMapping, `"delimiter": ";"`, `"delimiter": ";", "max_rejected": 2`, 1)), "json")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := plaintcsv.Import(context.Background(), strings.NewReader(ticketsCSV), m,
		func(*domain.Event) error { return nil }, nil)
	var re *plaintcsv.RowError
	if !errors.As(err, &re) || !re.Limit || re.Rejection.Row != 4 || sum.Rejected != 3 {
		t.Fatalf("err %v, summary %+v; want the limit hit at row 4", err, sum)
	}
}

func TestImportRejectsAMappingThatDoesNotFitTheHeader(t *testing.T) {
	m, err := plaintcsv.ParseMapping([]byte(jsonMapping), "json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = plaintcsv.Import(context.Background(), strings.NewReader("ticket;opened\nT-1;2026-01-01 00:00\n"), m,
		func(*domain.Event) error { return nil }, nil)
	for _, w := range []string{`source: column "system" is not in the CSV header (columns: ticket, opened)`, `customer_id: column "account"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err %v, want it to mention %q", err, w)
		}
	}
}

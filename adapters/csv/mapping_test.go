package csv_test

import (
	"context"
	"errors"
	"fmt"
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
			[]string{`unknown key "colum"`}},
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
		{"json unknown key", "json", `{"id":{"column":"a"},"sourc":{"value":"s"}}`, []string{`unknown key "sourc"`}},
		{"unknown format", "toml", `id = "a"`, []string{`unknown format "toml"`}},
		{"bad limits", "yaml", "id: {column: a}\nsource: {value: s}\ntime: {column: t}\nfields: {customer_id: {column: c}, category: {column: k}}\nmax_rejected: 120%\nragged: sometimes\n",
			[]string{`max_rejected: 120% must be from 0% to 100%`, `ragged: "sometimes" must be "pad" or "reject"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := plaintcsv.ParseMapping([]byte(c.doc), c.format)
			if !errors.Is(err, plaintcsv.ErrMapping) {
				t.Fatalf("err %v does not wrap ErrMapping", err)
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
	sum, rejs, evs, err := importRows(t, strings.Replace(jsonMapping, `"delimiter": ";"`, `"delimiter": ";", "max_rejected": "100%"`, 1), ticketsCSV)
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
	sum, _, _, err := importRows(t, strings.Replace(jsonMapping, `"delimiter": ";"`, `"delimiter": ";", "max_rejected": 2`, 1), ticketsCSV)
	var re *plaintcsv.RowError
	if !errors.As(err, &re) || !re.Limit || re.Rejection.Row != 4 || sum.Rejected != 3 {
		t.Fatalf("err %v, summary %+v; want the limit hit at row 4", err, sum)
	}
}

func TestImportRejectsAMappingThatDoesNotFitTheHeader(t *testing.T) {
	_, _, _, err := importRows(t, jsonMapping, "ticket;opened\nT-1;2026-01-01 00:00\n")
	if !errors.Is(err, plaintcsv.ErrMapping) {
		t.Errorf("err %v does not wrap ErrMapping", err)
	}
	for _, w := range []string{`source: column "system" is not in the CSV header (columns: ticket, opened)`, `customer_id: column "account"`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("err %v, want it to mention %q", err, w)
		}
	}
}

func TestParseMappingNamesTheUnknownKeyNotTheGoType(t *testing.T) {
	_, err := plaintcsv.ParseMapping([]byte("id: {column: a}\nsourse: {value: s}\n"), "yaml")
	if err == nil || !strings.Contains(err.Error(), `unknown key "sourse"`) || strings.Contains(err.Error(), "csv.Mapping") {
		t.Fatalf("err %v; want the key named, not the Go type", err)
	}
}

const raggedMapping = `{"id": {"column": "id"}, "source": {"value": "s"}, "time": {"column": "t", "layout": "2006-01-02"},
 "fields": {"customer_id": {"column": "c"}, "category": {"column": "k"}, "region": {"column": "r", "default": "unknown"}}%s}`

func importRows(t *testing.T, mapping, rows string) (plaintcsv.Summary, []string, []domain.Event, error) {
	t.Helper()
	m, err := plaintcsv.ParseMapping([]byte(mapping), "json")
	if err != nil {
		t.Fatal(err)
	}
	var evs []domain.Event
	var rejs []string
	sum, err := plaintcsv.Import(context.Background(), strings.NewReader(rows), m,
		func(ev *domain.Event) error { evs = append(evs, *ev); return nil },
		func(r plaintcsv.Rejection) { rejs = append(rejs, r.String()) })
	return sum, rejs, evs, err
}

func TestImportPadsRowsMissingTrailingFields(t *testing.T) {
	rows := "id,t,c,k,r,notes\n1,2026-01-02,C1,billing,north,x\n2,2026-01-02,C2,billing\n3,2026-01-02,C3,billing,,,extra\n"
	sum, rejs, evs, err := importRows(t, fmt.Sprintf(raggedMapping, `, "max_rejected": 1`), rows)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Accepted != 2 || len(evs) != 2 || evs[1].Data.Region != "unknown" {
		t.Fatalf("summary %+v, events %+v; want the short row padded", sum, evs)
	}
	if len(rejs) != 1 || rejs[0] != "line 4 (row 3): expected 6 fields, got 7" {
		t.Fatalf("rejections %q", rejs)
	}
	sum, rejs, _, err = importRows(t, fmt.Sprintf(raggedMapping, `, "ragged": "reject", "max_rejected": "100%"`), rows)
	if err != nil || sum.Accepted != 1 || len(rejs) != 2 || rejs[0] != "line 3 (row 2): expected 6 fields, got 4" {
		t.Fatalf("ragged: reject: err %v, summary %+v, rejections %q", err, sum, rejs)
	}
}

func TestImportFailsWhenRejectionsPassTheDefaultShare(t *testing.T) {
	// Every row has the wrong date layout: the import must fail, not exit 0.
	rows := "id,t,c,k,r\n1,02/01/2026,C1,billing,n\n2,02/01/2026,C2,billing,n\n"
	sum, _, _, err := importRows(t, fmt.Sprintf(raggedMapping, ""), rows)
	var re *plaintcsv.RowError
	if !errors.As(err, &re) || !re.Limit || sum.Rejected != 2 || !strings.Contains(err.Error(), "2 of 2 rows rejected, more than max_rejected (1%) allows") {
		t.Fatalf("err %v, summary %+v; want the default 1%% limit to fail the import", err, sum)
	}
	// One bad row in 200 is within 1%.
	var b strings.Builder
	b.WriteString("id,t,c,k,r\n")
	for i := range 200 {
		date := "2026-01-02"
		if i == 7 {
			date = "bad"
		}
		fmt.Fprintf(&b, "%d,%s,C%d,billing,n\n", i, date, i)
	}
	if sum, _, _, err := importRows(t, fmt.Sprintf(raggedMapping, ""), b.String()); err != nil || sum.Rejected != 1 {
		t.Fatalf("err %v, summary %+v; want 1 in 200 allowed", err, sum)
	}
	// on_error: fail allows none.
	if _, _, _, err := importRows(t, fmt.Sprintf(raggedMapping, `, "on_error": "fail"`), b.String()); !errors.As(err, &re) || re.Limit {
		t.Fatalf("err %v; want on_error: fail to stop at the bad row", err)
	}
}

func TestImportRejectsRowsEmitRefuses(t *testing.T) {
	m, err := plaintcsv.ParseMapping([]byte(fmt.Sprintf(raggedMapping, `, "max_rejected": 5`)), "json")
	if err != nil {
		t.Fatal(err)
	}
	var rejs []string
	sum, err := plaintcsv.Import(context.Background(), strings.NewReader("id,t,c,k,r\n1,2026-01-02,C1,billing,n\n2,2099-01-02,C2,billing,n\n"), m,
		func(ev *domain.Event) error {
			if ev.Time.Year() > 2090 {
				return &domain.Error{Code: domain.EINVALID, Field: "time", Message: "is in the future"}
			}
			return nil
		},
		func(r plaintcsv.Rejection) { rejs = append(rejs, r.String()) })
	if err != nil || sum.Accepted != 1 || sum.Rejected != 1 || len(rejs) != 1 || rejs[0] != "line 3 (row 2): time: is in the future" {
		t.Fatalf("err %v, summary %+v, rejections %q", err, sum, rejs)
	}
}

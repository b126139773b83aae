package projections

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
)

// decodeAll decodes wire-format events with a fixed clock.
func decodeAll(t *testing.T, msgs ...string) []domain.Event {
	t.Helper()
	d := &domain.Decoder{Now: func() time.Time { return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC) }}
	out := make([]domain.Event, len(msgs))
	for i, m := range msgs {
		ev, err := d.Decode("", []byte(m))
		if err != nil {
			t.Fatalf("event %d: %v\n%s", i, err, m)
		}
		out[i] = ev
	}
	return out
}

// replaySpec stores events in a fresh log and replays src over it.
func replaySpec(t *testing.T, src string, events ...domain.Event) (*Table, error) {
	t.Helper()
	l, _ := openTestLog(t, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC))
	if _, err := l.Append(events...); err != nil {
		t.Fatal(err)
	}
	sp, err := ParseSpec([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return Replay(context.Background(), l, sp, nil, WithWorkers(2), withParallelMin(1))
}

func revenue(id, data string) string {
	return fmt.Sprintf(`{"specversion":"1.0","id":"%s","source":"billing","type":"revenue.recorded","time":"2026-10-05T10:00:00Z","data":%s}`, id, data)
}

// rowsText renders a table as CSV for comparison.
func rowsText(t *testing.T, tab *Table) string {
	t.Helper()
	var b bytes.Buffer
	if err := WriteTable(&b, tab, FormatCSV); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestSpecGroupsFiltersAndMeasuresCustomFields(t *testing.T) {
	evs := decodeAll(t,
		revenue("r1", `{"customer_id":"C-1","amount":"100.00","currency":"EUR","cost":"70.00","plan":"gold","nps":9}`),
		revenue("r2", `{"customer_id":"C-2","amount":"50.00","currency":"EUR","cost":"20.50","plan":"gold","nps":7}`),
		revenue("r3", `{"customer_id":"C-3","amount":"10.00","currency":"EUR","plan":"silver","nps":"8.5"}`),
		revenue("r4", `{"customer_id":"C-4","amount":"5.00","currency":"EUR"}`),
		revenue("r5", `{"customer_id":"C-5","amount":"1.00","currency":"EUR","plan":"gold","nps":null}`),
	)
	tab, err := replaySpec(t, `
name: by-plan
filter: {types: [revenue.recorded], where: {currency: [EUR]}}
group_by: [plan]
measures: [count, "sum:nps", "avg:nps", "distinct:plan", "sum:cost", "sum:amount"]
`, evs...)
	if err != nil {
		t.Fatal(err)
	}
	// r4 lacks plan: an explicit (none) group, never merged into another.
	// nps null counts as absent; cost absent gives no sum, not a zero.
	want := "bucket,plan,currency,count,sum_nps,avg_nps,distinct_plan,sum_cost,sum_amount\n" +
		"2026-10,(none),EUR,1,,,0,,5.00\n" +
		"2026-10,gold,EUR,3,16,8,1,90.50,151.00\n" +
		"2026-10,silver,EUR,1,8.5,8.5,1,,10.00\n"
	if got := rowsText(t, tab); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
	// where on a custom field, and "(none)" as a where value.
	tab, err = replaySpec(t, `
name: gold
filter: {where: {plan: [gold, "(none)"]}}
measures: [count]
`, evs...)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, tab); got != "bucket,count\n2026-10,4\n" {
		t.Fatalf("where plan in [gold, (none)]: %s", got)
	}
}

func TestSpecSumsAreExactDecimals(t *testing.T) {
	var msgs []string
	for i := range 10 {
		msgs = append(msgs, revenue(fmt.Sprint("a", i), `{"customer_id":"C","amount":"1","x":0.1,"big":12345678901234567890.123456789,"huge":1e400}`))
	}
	tab, err := replaySpec(t, `
name: exact
measures: ["sum:x", "sum:big", "sum:huge", "avg:x"]
`, decodeAll(t, msgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := tab.Rows[0]
	huge := "1" + strings.Repeat("0", 401)
	if r[1] != json.Number("1.0") || r[2] != json.Number("123456789012345678901.234567890") || r[3] != json.Number(huge) || r[4] != json.Number("0.1") {
		t.Fatalf("sums %v %v %.20v %v", r[1], r[2], r[3], r[4])
	}
}

func TestSpecMoneySumsDoNotWrap(t *testing.T) {
	// 100 amounts just below the 10^15 bound and two small ones: the sum,
	// 10^17 + 3.50, is beyond int64 in minor units and must still be exact.
	var msgs []string
	for i := range 100 {
		msgs = append(msgs, revenue(fmt.Sprint("m", i), `{"customer_id":"C","amount":"999999999999999.99","currency":"EUR"}`))
	}
	msgs = append(msgs, revenue("neg", `{"customer_id":"C","amount":"-5.50","currency":"EUR"}`), revenue("pos", `{"customer_id":"C","amount":"10.00","currency":"EUR"}`))
	tab, err := replaySpec(t, `
name: big
group_by: [currency]
measures: ["sum:amount", "avg:amount"]
`, decodeAll(t, msgs...)...)
	if err != nil {
		t.Fatal(err)
	}
	r := tab.Rows[0]
	if r[2] != json.Number("100000000000000003.50") {
		t.Fatalf("sum_amount = %v, want 100000000000000003.50", r[2])
	}
	if r[3] != json.Number("980392156862745.1324") {
		t.Fatalf("avg_amount = %v", r[3])
	}
}

func TestSpecObjectAndArrayFields(t *testing.T) {
	evs := decodeAll(t,
		revenue("o1", `{"customer_id":"C-1","amount":"1","tags":["vip","eu"],"address":{"city":"Berlin"},"plan":"gold"}`),
		revenue("o2", `{"customer_id":"C-2","amount":"1","tags":["eu"],"address":{"city":"Paris"},"plan":"gold"}`),
		revenue("o3", `{"customer_id":"C-3","amount":"1","tags":[],"plan":"silver"}`),
	)
	tab, err := replaySpec(t, `
name: tags
filter: {where: {tags: [vip, '["eu"]']}}
measures: [count, "distinct:address", "distinct:tags"]
`, evs...)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, tab); got != "bucket,count,distinct_address,distinct_tags\n2026-10,2,2,2\n" {
		t.Fatalf("got %s", got)
	}
	tab, err = replaySpec(t, "name: g\ngroup_by: [address]\nmeasures: [count]\n", evs...)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, tab); got != "bucket,address,count\n2026-10,(none),1\n2026-10,\"{\"\"city\"\":\"\"Berlin\"\"}\",1\n2026-10,\"{\"\"city\"\":\"\"Paris\"\"}\",1\n" {
		t.Fatalf("group by an object: %s", got)
	}
	// sum of an object, an array or a string is an error in the answer.
	for _, m := range []string{"sum:address", "avg:tags", "sum:plan"} {
		_, err := replaySpec(t, "name: bad\nmeasures: [\""+m+"\"]\n", evs...)
		var de *domain.Error
		if !errors.As(err, &de) || de.Code != domain.EINVALID || !strings.Contains(de.Message, "needs numbers") || !strings.Contains(de.Message, "sequence") {
			t.Fatalf("%s: err = %v, want an EINVALID naming the event", m, err)
		}
	}
}

func TestSpecMoneyIsDecimalInItsCurrency(t *testing.T) {
	// 27452280 minor units of EUR read as 274522.80, with the currency beside.
	var msgs []string
	for i, a := range []string{"274000.00", "522.80"} {
		msgs = append(msgs, revenue(fmt.Sprint("e", i), `{"customer_id":"C","amount":"`+a+`","currency":"EUR"}`))
	}
	msgs = append(msgs, revenue("y", `{"customer_id":"C","amount":"1500","currency":"JPY"}`))
	evs := decodeAll(t, msgs...)
	tab, err := replaySpec(t, "name: m\nfilter: {where: {currency: [EUR]}}\nmeasures: [sum:amount, avg:amount]\n", evs...)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct{ format, want string }{
		{FormatCSV, "bucket,currency,sum_amount,avg_amount\n2026-10,EUR,274522.80,137261.4\n"},
		{FormatTable, "bucket   currency  sum_amount  avg_amount\n2026-10  EUR       274522.80   137261.4\n"},
	} {
		var b bytes.Buffer
		if err := WriteTable(&b, tab, f.format); err != nil {
			t.Fatal(err)
		}
		if b.String() != f.want {
			t.Errorf("%s:\n%q\nwant\n%q", f.format, b.String(), f.want)
		}
	}
	var b bytes.Buffer
	if err := WriteTable(&b, tab, FormatJSON); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"EUR",`) || !strings.Contains(b.String(), "274522.80") {
		t.Errorf("json: %s", b.String())
	}
	tab, err = replaySpec(t, "name: m\ngroup_by: [currency]\nmeasures: [sum:amount]\n", evs...)
	if err != nil {
		t.Fatal(err)
	}
	if got := rowsText(t, tab); got != "bucket,currency,sum_amount\n2026-10,EUR,274522.80\n2026-10,JPY,1500\n" {
		t.Fatalf("got %s", got)
	}
}

package http

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/customers"
)

func newReviewServer(t *testing.T) string {
	t.Helper()
	n := 0
	ev := func(typ domain.Type, cust, at string, d domain.Data) domain.Event {
		n++
		tm, _ := time.Parse(time.RFC3339, at)
		d.CustomerID = cust
		return domain.Event{ID: string(rune('a'+n)) + "x", Source: "crm", Type: typ, Time: tm, Subject: cust, Schema: 1, Data: d}
	}
	evs := []domain.Event{
		ev(domain.TypeCustomerAcquired, "A00226", "2025-01-05T09:00:00Z", domain.Data{Segment: "enterprise"}),
		ev(domain.TypeCustomerAcquired, "B1", "2025-02-05T09:00:00Z", domain.Data{Segment: "smb"}),
		ev(domain.TypeRevenueRecorded, "B1", "2025-06-30T09:00:00Z", domain.Data{Amount: 120000, Currency: "USD", Cost: 70000, HasCost: true}),
		ev(domain.TypeComplaintFiled, "A00226", "2025-08-01T09:00:00Z", domain.Data{Category: "billing", Channel: "phone", Severity: 3, ComplaintID: "K1"}),
		ev(domain.TypeComplaintResolved, "A00226", "2025-08-03T09:00:00Z", domain.Data{ComplaintID: "K1"}),
		ev(domain.TypeCustomerDefected, "A00226", "2025-08-14T09:00:00Z", domain.Data{Reason: "price", Competitor: "rival-telco", Amount: 6123400, Currency: "USD"}),
		ev(domain.TypeCustomerDefected, "B1", "2025-09-14T09:00:00Z", domain.Data{Reason: "service-quality"}),
	}
	return newTestServer(t, evs, nil).URL
}

func TestReviewEndpoints(t *testing.T) {
	base := newReviewServer(t)
	code, body := get(t, base+"/v1/review?period=2025-Q3")
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var r struct {
		Defected struct {
			Count int `json:"count"`
			Value []struct{ Currency, Amount string }
		} `json:"defected"`
		Customers []struct {
			CustomerID  string  `json:"customer_id"`
			Value       *string `json:"value"`
			ValueSource string  `json:"value_source"`
			Complaints  []struct {
				Resolved bool `json:"resolved"`
			} `json:"complaints"`
		} `json:"customers"`
		Callbacks []struct {
			CustomerID string `json:"customer_id"`
			Value      string `json:"value"`
		} `json:"callbacks"`
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatal(err)
	}
	// B1 stated no value: its revenue of the year before (1200.00) counts.
	if r.Defected.Count != 2 || len(r.Defected.Value) != 1 || r.Defected.Value[0].Amount != "62434.00" ||
		len(r.Customers) != 2 || r.Customers[0].CustomerID != "A00226" || !r.Customers[0].Complaints[0].Resolved ||
		r.Customers[1].ValueSource != "revenue_365d" || *r.Customers[1].Value != "1200.00" ||
		len(r.Callbacks) != 2 || r.Callbacks[0].CustomerID != "A00226" || r.Callbacks[0].Value != "61234.00" {
		t.Fatalf("review: %s", body)
	}
	for _, c := range []struct{ path, want string }{
		{"/v1/review?period=2025-08&format=markdown", "**1 customer lost**, worth USD 61,234.00"},
		{"/v1/review?period=2025-Q3&format=csv", "period,partial,customer_id,segment,value,currency,value_source"},
		{"/v1/scorecard?from=2025-06&to=2025-09&format=csv", "period,segment,new_customers,new_value,lost_customers,lost_value,renewals,referrals,revenue,cost,profit,currency"},
		{"/v1/scorecard?from=2025-06&to=2025-06&by=all", `"amount": "1200.00"`},
		{"/v1/scorecard?from=2025-06&to=2025-06&by=all", `"profit": {`},
		{"/v1/linkage?window=30d", `"window_days": 30`},
		{"/v1/linkage?format=table", "billing"},
		{"/v1/linkage?by=category,segment&format=csv", "category,segment,complainants,defected"},
	} {
		if code, body := get(t, base+c.path); code != 200 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d, want %q in:\n%s", c.path, code, c.want, body)
		}
	}
	for _, c := range []struct{ path, want string }{
		{"/v1/review", "period"},
		{"/v1/review?period=2025-13", "period"},
		{"/v1/review?period=2025-Q3&format=table", "format"},
		{"/v1/review?period=2025-Q3&top=0", "top"},
		{"/v1/scorecard?from=2025-06", "to"},
		{"/v1/scorecard?from=2025-06&to=2025-01", "before"},
		{"/v1/scorecard?from=2025-Q1&to=2025-06", "quarter"},
		{"/v1/scorecard?from=1990-01&to=2200-12", "at most"},
		{"/v1/linkage?from=2025-06&to=2025-05", "before"},
		{"/v1/linkage?window=0d", "window"},
		{"/v1/linkage?by=region", "by"},
		{"/v1/linkage?as_of=yesterday", "as_of"},
	} {
		if code, body := get(t, base+c.path); code != 400 || !strings.Contains(body, c.want) {
			t.Errorf("%s: %d %s, want 400 naming %q", c.path, code, body, c.want)
		}
	}
}

// FuzzReviewQueries checks that no query string makes the parsers panic and
// that every accepted query is answered by the state without error.
func FuzzReviewQueries(f *testing.F) {
	for _, s := range []string{"period=2025-Q3&top=3", "from=2025-01&to=2025-12&by=all", "window=90d&by=category,segment&as_of=2025-10-01",
		"period=9999-Q4", "from=1990-01&to=2200-12", "window=3650d&from=2025-13",
		"from=2100-01&to=2000-01", "from=2025-06&to=2025-05&window=30d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		st := customers.New()
		if q, err := ParseReviewQuery(v); err == nil {
			if _, err := st.Review(q, func(uint32) string { return "" }); err != nil {
				t.Fatalf("accepted review query %q failed: %v", raw, err)
			}
		}
		if q, err := ParseScorecardQuery(v); err == nil {
			if _, err := st.Scorecard(q); err != nil {
				t.Fatalf("accepted scorecard query %q failed: %v", raw, err)
			}
		}
		if q, err := ParseLinkageQuery(v); err == nil {
			if _, err := st.Linkage(q); err != nil {
				t.Fatalf("accepted linkage query %q failed: %v", raw, err)
			}
		}
	})
}

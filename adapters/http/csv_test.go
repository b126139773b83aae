package http

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/alerts"
)

// oneDLQ is a dead-letter stream that holds one letter, with a comma and a
// quote in its error.
type oneDLQ struct{ emptyDLQ }

func (oneDLQ) List(context.Context, string, time.Time, int) (any, error) {
	return []map[string]any{{"id": 7, "reason": "bad_json", "error": `unexpected "}", at 3`, "original_subject": "plaint.events.x",
		"time": "2026-01-02T03:04:05Z", "size": 12, "preview": "{]"}}, nil
}

// TestEveryTableAnswersCSV: every route that answers a table gives it as
// CSV with format=csv and with Accept: text/csv, the same rows either way,
// and refuses a format it does not have.
func TestEveryTableAnswersCSV(t *testing.T) {
	feed := alerts.NewFeed()
	feed.Set([]alerts.Event{{Seq: 1, ID: "month/category=billing/2026-09-01#0", Type: alerts.TypeRaised, Time: time.Date(2026, 9, 20, 0, 0, 0, 0, time.UTC),
		Data: alerts.Alert{AlertID: "month/category=billing/2026-09-01", State: "open", Series: map[string]string{"category": "billing", "segment": "smb"},
			Period: "month", PeriodStart: "2026-09-01", Observed: 40, Expected: 10, Upper: 18, PValue: 0.001, QValue: 0.01, Level: 4, Rule: "farrington", SampleComplaintIDs: []string{"c-1"}}}})
	ts := newTestServer(t, threeEvents(), func(c *Config) {
		fullConfig(c)
		c.DLQ = oneDLQ{}
		c.Alerts = feed
	})
	for _, c := range []struct{ path, header string }{
		{"/v1/trends?by=category", "bucket,category,"},
		{"/v1/projections", "name,kind,state,checkpoint,last_seq,progress_pct,memory_bytes,error\n"},
		{"/v1/projections/builtin%2Ftrend%2Fmonth%2Fcategory/result", "bucket,category"},
		{"/v1/alerts", strings.Join(alertColumns, ",") + "\nopen,month/category=billing/2026-09-01,month/category=billing/2026-09-01#0,alert.raised,2026-09-20T00:00:00Z,category=billing;segment=smb,month,2026-09-01,false,40,10,18,0.001,0.01,4,farrington,0,\n"},
		{"/v1/alerts/band?category=billing", strings.Join(bandColumns, ",") + "\n2026-09-01,2,"},
		{"/v1/review?period=2026-09", "period,partial,customer_id"},
		{"/v1/scorecard?from=2026-09&to=2026-09", "period,segment,new_customers"},
		{"/v1/linkage", "category,segment,complainants"},
		{"/v1/dlq", strings.Join(dlqColumns, ",") + "\n7,bad_json,\"unexpected \"\"}\"\", at 3\",plaint.events.x,2026-01-02T03:04:05Z,12,,{]\n"},
	} {
		sep := "?"
		if strings.Contains(c.path, "?") {
			sep = "&"
		}
		code, h, byParam := ts.do(t, "GET", c.path+sep+"format=csv", "", nil)
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.HasPrefix(byParam, c.header) {
			t.Errorf("%s format=csv: %d %s\n%s", c.path, code, h.Get("Content-Type"), byParam)
			continue
		}
		code, h, byAccept := ts.do(t, "GET", c.path, "", nil, "Accept", "text/csv")
		if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || byAccept != byParam {
			t.Errorf("%s Accept: text/csv: %d %s\n%s\nwant\n%s", c.path, code, h.Get("Content-Type"), byAccept, byParam)
		}
		if code, h, _ := ts.do(t, "GET", c.path, "", nil, "Accept", "application/json, text/csv;q=0"); code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") {
			t.Errorf("%s Accept: JSON, not CSV: %d %s", c.path, code, h.Get("Content-Type"))
		}
		code, h, body := ts.do(t, "GET", c.path+sep+"format=xml", "", nil)
		wantError(t, c.path+" format=xml", code, h, body, 400, domain.EINVALID)
	}
}

// TestAcceptsCSV reads the quality of text/csv in an Accept header as a
// number: any quality above zero asks for CSV.
func TestAcceptsCSV(t *testing.T) {
	for accept, want := range map[string]bool{
		"text/csv": true, "text/csv;q=0.5": true, "text/csv;q=0.001": true, "application/json, text/csv;q=0.01": true,
		"text/csv;q=0": false, "text/csv;q=0.000": false, "text/csv;q=x": false, "application/json": false, "": false,
	} {
		if got := acceptsCSV(accept); got != want {
			t.Errorf("acceptsCSV(%q) = %v, want %v", accept, got, want)
		}
	}
}

package http

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/alerts"
)

// weeksOfComplaints makes n complaints of category a week, for weeks
// weeks from the Monday start, spread over the week's days.
func weeksOfComplaints(start time.Time, weeks, n int, category string) []domain.Event {
	var evs []domain.Event
	for w := 0; w < weeks; w++ {
		for i := 0; i < n; i++ {
			evs = append(evs, domain.Event{ID: fmt.Sprintf("%s-%d-%d", category, w, i), Source: "crm", Type: domain.TypeComplaintFiled,
				Time: start.AddDate(0, 0, 7*w+i%7).Add(time.Duration(i) * time.Minute), Schema: 1,
				Data: domain.Data{CustomerID: fmt.Sprintf("C-%d", i), Category: category, Segment: "smb", Channel: "phone"}})
		}
	}
	return evs
}

// TestAlertBandRoute: GET /v1/alerts/band answers a point a period of the
// series, as JSON and as the same rows in CSV, by month and by week, and
// refuses what the detector does not judge.
func TestAlertBandRoute(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC) // a Monday
	ts := newTestServer(t, weeksOfComplaints(start, 60, 10, "billing"), fullConfig)
	var b alerts.Band
	code, _, body := ts.do(t, "GET", "/v1/alerts/band?category=billing&period=month", "", nil)
	if code != 200 || json.Unmarshal([]byte(body), &b) != nil {
		t.Fatalf("%d %s", code, body)
	}
	// 60 weeks from 6 January 2025 end on 1 March 2026 (a Sunday).
	if len(b.Points) != 15 || b.Points[0].PeriodStart != "2025-01-01" || b.Period != "month" || b.Series["category"] != "billing" {
		t.Fatalf("month band: %d points: %s", len(b.Points), body)
	}
	banded := 0
	for _, p := range b.Points {
		if p.Reason == "" && float64(p.Upper) >= float64(p.Expected) && p.Expected > 0 {
			banded++
		}
	}
	if banded < 5 { // EARS C2 needs 7 months of history, and more behind the gap it leaves
		t.Errorf("%d of %d months have a band: %s", banded, len(b.Points), body)
	}
	code, h, csvBody := ts.do(t, "GET", "/v1/alerts/band?category=billing&period=month&format=csv", "", nil)
	rows := strings.Split(strings.TrimSpace(csvBody), "\n")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || rows[0] != strings.Join(bandColumns, ",") || len(rows) != len(b.Points)+1 ||
		!strings.HasPrefix(rows[1], "2025-01-01,") {
		t.Errorf("CSV: %d %s", code, csvBody)
	}
	code, _, body = ts.do(t, "GET", "/v1/alerts/band?category=billing&segment=smb&period=week&from=2025-W10&to=2025-W19", "", nil)
	b = alerts.Band{}
	if code != 200 || json.Unmarshal([]byte(body), &b) != nil || len(b.Points) != 10 || b.Points[0].PeriodStart != "2025-03-03" || b.Series["segment"] != "smb" {
		t.Errorf("ten weeks of billing smb: %d %s", code, body)
	}
	for _, q := range []string{"", "category=billing&period=day", "category=billing&segment=smb&channel=phone", "category=billing&from=soon", "category=billing&format=xml"} {
		code, h, body := ts.do(t, "GET", "/v1/alerts/band?"+q, "", nil)
		wantError(t, q, code, h, body, 400, domain.EINVALID)
	}
}

//go:build e2e

// The alert checks of the dashboard's browser tests (`make e2e`; alone:
// go test -tags e2e -race -count=1 -run TestE2EAlerts -v ./cmd/plaint).
// They publish nothing but complaints: the alerts come from the detector,
// read through GET /v1/alerts and GET /v1/alerts/stream.
package main

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
)

// TestE2EAlerts checks that the overview lists an alert the detector raised
// over the history, and that a new alert appears on the open page, without
// a reload, when a burst of complaints tips a series over its bound.
func TestE2EAlerts(t *testing.T) {
	srv, natsURL, now, total := startSeeded(t)
	// Triple the billing complaints of the last complete month.
	last := domain.PeriodOf(domain.BucketMonth, now).Prev()
	total += publishBurst(t, natsURL, "billing", last.Start, last.End(), 150)
	waitFor(t, 2*time.Minute, "the history to be stored", func() bool { return srv.statUint("events") == uint64(total) })
	waitFor(t, 2*time.Minute, "the detector to raise an alert on billing", func() bool { return len(openAlerts(t, srv.http, "billing")) > 0 })
	// The page is compared with the API once the detector has read the
	// whole history (an alert raised while the page loads would reach it
	// over the stream, a moment later than the API).
	waitFor(t, 2*time.Minute, "the detector to read the whole log", func() bool {
		_, out, _ := runMain(t, "--server", srv.http, "projection", "show", "builtin/alerts", "--json")
		var st struct{ Checkpoint uint64 }
		return json.Unmarshal([]byte(out), &st) == nil && st.Checkpoint == uint64(total)
	})

	p := openBrowser(t, srv.http)
	p.viewport(desktop)

	t.Run("the overview lists a seeded alert", func(t *testing.T) {
		p.t = t
		p.open("#/", "overview")
		p.poll(`document.getElementById('alerts').dataset.state === 'ready'`, "the alerts panel")
		cards := eval[[]string](p, `[...document.querySelectorAll('#alerts .alert-card h3 a')].map(a => a.textContent)`)
		if !containsPrefix(cards, "billing") {
			t.Fatalf("the open alerts shown are %q; the API has %d open on billing", cards, len(openAlerts(t, srv.http, "billing")))
		}
		// Each open billing alert of the API has its card (one raised while
		// the page loaded comes over the stream a moment later).
		var want []string
		for _, a := range openAlerts(t, srv.http, "billing") {
			obs, _ := a["observed"].(float64)
			want = append(want, fmt.Sprintf("%.0f complaints", obs))
		}
		wantJS, _ := json.Marshal(want)
		cardsJS := `[...document.querySelectorAll('#alerts .alert-card')].filter(c => c.querySelector('h3 a').textContent === 'billing').map(c => c.innerText)`
		p.poll(`((want, texts) => want.every(w => texts.some(x => x.includes(w))))(`+string(wantJS)+`, `+cardsJS+`)`,
			fmt.Sprintf("cards of billing showing %s (the API's open billing alerts)", want))
		p.shot("overview-alert-" + desktop.name)
	})

	t.Run("the trend page draws the detector's band and its alerts", func(t *testing.T) {
		p.t = t
		for _, c := range []struct {
			fragment, bucket string
			span             int
		}{{"#/trend/billing", "month", 24}, {"#/trend/billing?bucket=week", "week", 26}} {
			if s := p.open(c.fragment, "trend"); s != "ready" {
				t.Fatalf("%s: state %q: %s", c.fragment, s, p.text("main"))
			}
			res := apiTrend(t, srv.http, c.bucket, c.span, "category=billing")
			band := apiBand(t, srv.http, c.bucket, res.From, res.To)
			checkBand(t, p, res, band)
			// The band's CSV link downloads the API's CSV of the band shown.
			q := url.Values{"category": {"billing"}, "period": {c.bucket}, "from": {res.From}, "to": {res.To}, "format": {"csv"}}
			if got, want := p.download("#band-csv"), getText(t, srv.http+"/v1/alerts/band?"+q.Encode()); got != want || strings.Count(got, "\n") != len(band.Points)+1 {
				t.Fatalf("the band CSV downloaded differs from the API's:\n got:\n%s\nwant:\n%s", got, want)
			}
			if c.bucket == "month" && len(band.Alerts) == 0 {
				t.Fatalf("the API's band of billing has no alert, after the burst of %s", last)
			}
			p.shot("trend-billing-band-" + c.bucket + "-" + desktop.name)
		}
	})

	t.Run("a new alert appears without a reload", func(t *testing.T) {
		p.t = t
		p.open("#/", "overview")
		p.poll(`document.getElementById('alerts-live').dataset.state === 'open'`, "the live stream to open")
		p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.e2eNotReloaded = true`))
		// Ten times the usual number-porting complaints, in the running week.
		week := domain.PeriodOf(domain.BucketWeek, now)
		publishBurst(t, natsURL, "number-porting", week.Start, time.Now().UTC().Add(-time.Minute), 120)
		p.poll(`[...document.querySelectorAll('#alerts .alert-card h3 a')].some(a => a.textContent.startsWith('number-porting'))`, "the new alert on the open page")
		if !eval[bool](p, `window.e2eNotReloaded === true`) {
			t.Fatal("the page was reloaded")
		}
		if len(openAlerts(t, srv.http, "number-porting")) == 0 {
			t.Fatal("the page shows an alert on number-porting that GET /v1/alerts does not list")
		}
		p.shot("overview-live-alert-" + desktop.name)
	})
	p.t = t
	p.noErrors()
}

// apiBand is GET /v1/alerts/band of billing over from..to.
func apiBand(t *testing.T, base, bucket, from, to string) *alerts.Band {
	t.Helper()
	q := url.Values{"category": {"billing"}, "period": {bucket}, "from": {from}, "to": {to}}
	b := new(alerts.Band)
	getJSON(t, base+"/v1/alerts/band?"+q.Encode(), b)
	return b
}

// checkBand compares the band and the alert markers the trend chart drew
// with the API's: the expected count and upper bound of every complete
// period the API has them for (and none for the running one, still
// partial), and a marker at every period the API has an alert on.
func checkBand(t *testing.T, p *page, res *projections.TrendResult, band *alerts.Band) {
	t.Helper()
	labels := eval[[]string](p, `window.plaintDashboard.charts.get('trend:main').series.map(s => s.label)`)
	d := chartData(t, p, "trend:main")
	col := func(label string) []*float64 {
		for i, l := range labels {
			if l == label {
				return d[i]
			}
		}
		t.Fatalf("the chart has no %q series: %q", label, labels)
		return nil
	}
	expected, upper, markers := col("Expected"), col("Upper bound"), col("Alert")
	b, _ := domain.ParseBucket(res.Bucket)
	at := map[string]int{}
	for i, bt := range res.Buckets {
		per, err := domain.ParsePeriod(b, bt.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		at[per.Start.Format(time.DateOnly)] = i
	}
	wantPoints, wantMarkers, partialSeen := 0, map[int]bool{}, false
	for _, pt := range band.Points {
		i, ok := at[pt.PeriodStart]
		if !ok {
			t.Fatalf("the API's band has %s, outside the trend's %s..%s", pt.PeriodStart, res.From, res.To)
		}
		has := !math.IsNaN(float64(pt.Expected)) && !math.IsNaN(float64(pt.Upper))
		switch {
		case pt.Partial || res.Buckets[i].Partial:
			partialSeen = true
			if expected[i] != nil || upper[i] != nil {
				t.Fatalf("the running %s has a band drawn (%v..%v), as if complete", pt.PeriodStart, deref(expected[i]), deref(upper[i]))
			}
		case has:
			wantPoints++
			if expected[i] == nil || upper[i] == nil || math.Abs(*expected[i]-float64(pt.Expected)) > 0.051 || math.Abs(*upper[i]-float64(pt.Upper)) > 0.051 {
				t.Fatalf("%s: the band drawn is %v..%v, the API's %v..%v", pt.PeriodStart, deref(expected[i]), deref(upper[i]), pt.Expected, pt.Upper)
			}
		default:
			if expected[i] != nil {
				t.Fatalf("%s has a band drawn (%v) where the API has none: %s", pt.PeriodStart, *expected[i], pt.Reason)
			}
		}
	}
	if !partialSeen {
		t.Fatalf("the API's band has no running %s", res.Bucket)
	}
	for _, a := range band.Alerts {
		wantMarkers[at[a.PeriodStart]] = true
	}
	gotPoints, gotMarkers := 0, 0
	for i := range expected {
		if expected[i] != nil {
			gotPoints++
		}
		if markers[i] != nil {
			gotMarkers++
			if !wantMarkers[i] {
				t.Fatalf("a marker at %s, where the API has no alert", res.Buckets[i].Bucket)
			}
			if c := seriesCounts(res)["billing"][i]; !res.Buckets[i].Partial && int64(*markers[i]) != c {
				t.Fatalf("the marker of %s is at %v, not on its count %d", res.Buckets[i].Bucket, *markers[i], c)
			}
		}
	}
	if gotPoints != wantPoints || wantPoints == 0 || gotMarkers != len(wantMarkers) {
		t.Fatalf("the chart draws %d band points and %d alert markers; the API has %d and %d (of %d buckets)", gotPoints, gotMarkers, wantPoints, len(wantMarkers), len(res.Buckets))
	}
	ds := eval[[]string](p, `(d => [d.bandPoints, d.alertMarkers])(document.getElementById('trend-chart').dataset)`)
	if ds[0] != fmt.Sprint(wantPoints) || ds[1] != fmt.Sprint(len(wantMarkers)) {
		t.Fatalf("the chart says %v band points and markers, want %d and %d", ds, wantPoints, len(wantMarkers))
	}
	if note := p.text("#detector-note"); !strings.Contains(note, fmt.Sprintf("for %d complete", wantPoints)) {
		t.Fatalf("detector note: %q", note)
	}
}

// publishBurst publishes n complaints of the category spread from from to
// to, through NATS, and returns n.
func publishBurst(t *testing.T, natsURL, category string, from, to time.Time, n int) int {
	t.Helper()
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = domain.Event{ID: fmt.Sprintf("burst-%s-%d-%d", category, from.Unix(), i), Source: "e2e/crm", Type: domain.TypeComplaintFiled,
			Time: from.Add(to.Sub(from) * time.Duration(i+1) / time.Duration(n+1)).Truncate(time.Second), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprintf("B-%d", i), Category: category, Segment: "consumer", Channel: "phone"}}
	}
	f := filepath.Join(t.TempDir(), "burst.jsonl")
	writeJSONL(t, f, evs)
	plaint(t, "emit", "--file", f, "--nats-url", natsURL)
	return n
}

// openAlerts returns the data of the open alerts whose series is the
// category alone, read from GET /v1/alerts (an array or {"alerts": [...]},
// of CloudEvents or of alert objects, as the dashboard reads it).
func openAlerts(t *testing.T, base, category string) []map[string]any {
	t.Helper()
	var body any
	if err := json.Unmarshal([]byte(getText(t, base+"/v1/alerts")), &body); err != nil {
		t.Fatal(err)
	}
	var items []any
	switch b := body.(type) {
	case []any:
		items = b
	case map[string]any:
		for _, k := range []string{"alerts", "open"} {
			if l, ok := b[k].([]any); ok {
				items = append(items, l...)
			}
		}
	}
	var out []map[string]any
	for _, it := range items {
		m, _ := it.(map[string]any)
		d := m
		if inner, ok := m["data"].(map[string]any); ok {
			d = inner
		}
		if m["type"] == "alert.cleared" || d["state"] == "cleared" {
			continue
		}
		if s, _ := d["series"].(map[string]any); len(s) == 1 && s["category"] == category {
			out = append(out, d)
		}
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

//go:build e2e

// The dashboard's browser tests (`make e2e`): each starts a real `plaint
// serve` (embedded NATS, a temporary data directory, random ports), publishes
// its data through NATS with `plaint emit`, and drives the dashboard in
// Debian's Chromium with chromedp. They read what the charts drew from the
// chart library (window.plaintDashboard.charts) and compare it with the API,
// download the CSV as a person would, check the pages at 1400×1000 and at
// 390×844 (a phone), and save a screenshot of every page they checked in
// $E2E_SCREENSHOTS (a new temporary directory when unset), which each test
// logs at its end.
//
// TestE2EAlerts (e2e_alerts_test.go) checks the detector's alerts on the
// overview: one raised over the seeded history is listed, and a new one
// appears on the open page, without a reload, as a burst tips a series.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
)

// The two window sizes every page must work at.
var (
	desktop = viewport{"1400x1000", 1400, 1000}
	phone   = viewport{"390x844", 390, 844}
)

type viewport struct {
	name string
	w, h int64
}

// TestE2EDashboard checks the dashboard over two years of synthetic history
// and a current month that has just begun.
func TestE2EDashboard(t *testing.T) {
	srv, _, now, total := startSeeded(t)
	waitFor(t, 2*time.Minute, fmt.Sprintf("the server to store %d events", total), func() bool { return srv.statUint("events") == uint64(total) })

	p := openBrowser(t, srv.http)
	p.viewport(desktop)
	current := domain.PeriodOf(domain.BucketMonth, now)
	lastFull := current.Prev()

	t.Run("overview lists the categories in the CLI's order with a sparkline each", func(t *testing.T) {
		p.t = t
		if s := p.open("#/", "overview"); s != "ready" {
			t.Fatalf("overview state %q", s)
		}
		res := new(projections.TrendResult)
		getJSON(t, srv.http+"/v1/trends?by=category&bucket=month&format=json", res)
		if res.To != current.String() {
			t.Fatalf("the API's trend ends at %s, not the current month %s", res.To, current)
		}
		shown := eval[[]string](p, `[...document.querySelectorAll('#category-table tbody .cat-link')].map(a => a.textContent)`)
		// The order of `plaint trend`'s table for the last complete month:
		// significant rises first, the largest first.
		want, rises := tableOrder(t, getText(t, srv.http+"/v1/trends?by=category&bucket=month&to="+lastFull.String()+"&format=table"))
		if !slices.Equal(shown, want) {
			t.Fatalf("overview order\n got %v\nwant %v (plaint trend --to %s)", shown, want, lastFull)
		}
		if rises == 0 {
			t.Fatal("the seeded history has no significant rise to show first; pick another seed")
		}
		if up := eval[[]string](p, `[...document.querySelectorAll('#category-table tbody tr')].filter(tr => tr.querySelector('.chg-up')).map(tr => tr.querySelector('.cat-link').textContent)`); !slices.Equal(up, want[:rises]) {
			t.Fatalf("rises marked %v, want %v", up, want[:rises])
		}
		counts := seriesCounts(res)
		for _, cat := range shown {
			d := chartData(t, p, "overview:spark:"+cat)
			if len(d) < 2 || len(d[0]) != len(res.Buckets) {
				t.Fatalf("sparkline of %s has %d series of %d points; the API has %d buckets", cat, len(d), len(d[0]), len(res.Buckets))
			}
			checkCounts(t, "sparkline "+cat, d[1], counts[cat], res.Buckets, current.String())
		}
		heads := eval[[]string](p, `[...document.querySelectorAll('#category-table thead th')].map(th => th.textContent)`)
		if !slices.Contains(heads, humanMonth(current)+" so far") || !slices.Contains(heads, humanMonth(lastFull)) {
			t.Fatalf("the table's columns %q do not compare %s and show %s apart as running", heads, humanMonth(lastFull), humanMonth(current))
		}
		alerts := eval[string](p, `document.getElementById('alerts').dataset.state + ': ' + document.getElementById('alerts').textContent`)
		if !strings.HasPrefix(alerts, "ready: ") && !strings.HasPrefix(alerts, "empty: ") { // the detector runs on every server now
			t.Fatalf("alerts panel: %q", alerts)
		}
		p.usable("#category-table", ".sparkline canvas", "#alerts")
		p.shot("overview-with-data-" + desktop.name)
	})

	t.Run("trend chart has the API's points, with the running month drawn apart", func(t *testing.T) {
		p.t = t
		if s := p.open("#/trend/billing", "trend"); s != "ready" {
			t.Fatalf("trend state %q: %s", s, p.text("main"))
		}
		res := apiTrend(t, srv.http, "month", 24, "category=billing")
		checkTrendChart(t, p, res, "billing", current.String())
		note := p.text("#partial-note")
		if !strings.Contains(note, humanMonth(current)+" is still running") {
			t.Fatalf("partial note: %q", note)
		}
		if badge := p.text("#trend-table tbody tr:first-child .badge-partial"); !strings.HasPrefix(badge, "in progress") {
			t.Fatalf("the table's row of %s is not marked in progress: %q", current, badge)
		}
		if det := p.text("#detector-note"); det == "" || strings.Contains(det, "not available") {
			t.Fatalf("detector note: %q", det)
		}
		p.usable("#trend-chart canvas", "#csv-download", "#trend-table", "#f-segment", "#f-channel")
		p.shot("trend-billing-month-" + desktop.name)
	})

	t.Run("weekly toggle", func(t *testing.T) {
		p.t = t
		if s := p.act("trend", chromedp.Click(chromedp.CSS(`.seg-btn input[value="week"]`))); s != "ready" {
			t.Fatalf("state %q after the week toggle: %s", s, p.text("main"))
		}
		res := apiTrend(t, srv.http, "week", 26, "category=billing")
		checkTrendChart(t, p, res, "billing", domain.PeriodOf(domain.BucketWeek, now).String())
		p.shot("trend-billing-week-" + desktop.name)
	})

	t.Run("segment filter", func(t *testing.T) {
		p.t = t
		p.poll(`document.querySelector('#f-segment option[value="smb"]') !== null`, "the segment list to offer smb")
		s := p.act("trend", chromedp.Evaluate[chromedp.Void](`(s => { s.value = 'smb'; s.dispatchEvent(new Event('change')); })(document.getElementById('f-segment'))`))
		if s != "ready" {
			t.Fatalf("state %q after filtering: %s", s, p.text("main"))
		}
		if loc := eval[string](p, `location.hash`); loc != "#/trend/billing?bucket=week&segment=smb" {
			t.Fatalf("the address does not keep the filter: %s", loc)
		}
		res := apiTrend(t, srv.http, "week", 26, "category=billing", "segment=smb")
		checkTrendChart(t, p, res, "billing", domain.PeriodOf(domain.BucketWeek, now).String())
		p.shot("trend-billing-week-smb-" + desktop.name)
	})

	t.Run("CSV download equals the API's answer", func(t *testing.T) {
		p.t = t
		href := eval[string](p, `document.getElementById('csv-download').getAttribute('href')`)
		got := p.download("#csv-download")
		// The same question without the log position the link pins.
		u, err := url.Parse(href)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("format") != "csv" || q.Get("as_of") == "" || q.Get("from") == "" || !slices.Contains(q["where"], "segment=smb") {
			t.Fatalf("the download asks %s", href)
		}
		q.Del("as_of")
		want := getText(t, srv.http+u.Path+"?"+q.Encode())
		if got != want {
			t.Fatalf("downloaded CSV differs from GET %s?%s\n got:\n%s\nwant:\n%s", u.Path, q.Encode(), got, want)
		}
		if n := strings.Count(got, "\n"); n != 27 {
			t.Fatalf("the CSV has %d lines, want a header and 26 weeks:\n%s", n, got)
		}
	})

	t.Run("error and empty states", func(t *testing.T) {
		p.t = t
		if s := p.open("#/trend/billing?bucket=fortnight", "trend"); s != "error" {
			t.Fatalf("a bad bucket gives state %q", s)
		}
		if msg := p.text("[role=alert]"); !strings.Contains(msg, `"fortnight" is not one of day, week, month, quarter`) || !strings.Contains(msg, "HTTP 400") {
			t.Fatalf("error state shows %q", msg)
		}
		p.shot("trend-error-" + desktop.name)
		if s := p.open("#/trend/no-such-thing", "trend"); s != "empty" {
			t.Fatalf("an unknown category gives state %q", s)
		}
		if msg := p.text("main .state-empty"); !strings.Contains(msg, "No no-such-thing complaints") {
			t.Fatalf("empty state shows %q", msg)
		}
	})

	t.Run("pages are usable on a phone", func(t *testing.T) {
		p.t = t
		p.viewport(phone)
		defer p.viewport(desktop)
		for _, c := range []struct{ fragment, view, state string }{
			{"#/", "overview", "ready"},
			{"#/trend/billing", "trend", "ready"},
			{"#/trend/billing?bucket=week&segment=smb", "trend", "ready"},
		} {
			if s := p.open(c.fragment, c.view); s != c.state {
				t.Fatalf("%s: state %q", c.fragment, s)
			}
			sels := []string{"nav a[data-nav=overview]", "nav a[data-nav=scorecard]", "h1"}
			if c.view == "overview" {
				sels = append(sels, "#category-table", ".sparkline canvas", "#alerts")
			} else {
				sels = append(sels, "#trend-chart canvas", "#csv-download", "#f-segment", "#f-channel", ".seg-btn", "#trend-table")
				if n := eval[int](p, `window.plaintDashboard.charts.get('trend:main').width`); n > 390 {
					t.Fatalf("the chart is %dpx wide on a 390px screen", n)
				}
			}
			p.shot(shotName(c.fragment) + "-" + phone.name)
			p.usable(sels...)
		}
	})
	p.t = t
	p.noErrors()
}

// TestE2EEmptyLog checks every page of a server with nothing in its log, and
// the placeholders of the review and the scorecard.
func TestE2EEmptyLog(t *testing.T) {
	srv := startServer(t, t.TempDir())
	p := openBrowser(t, srv.http)
	for _, vp := range []viewport{desktop, phone} {
		p.viewport(vp)
		if s := p.open("#/", "overview"); s != "empty" {
			t.Fatalf("%s: overview of an empty log: state %q", vp.name, s)
		}
		if msg := p.text("#categories"); !strings.Contains(msg, "No complaints yet.") {
			t.Fatalf("empty overview says %q", msg)
		}
		if msg := p.text("#alerts"); !strings.Contains(msg, "No open alerts.") {
			t.Fatalf("alerts panel says %q", msg)
		}
		if ev := p.text("#server-status"); !strings.HasPrefix(ev, "0 events") {
			t.Fatalf("header says %q", ev)
		}
		p.usable("#categories .state", "#alerts", "nav a[data-nav=review]")
		p.shot("overview-empty-" + vp.name)

		if s := p.open("#/trend/billing", "trend"); s != "empty" {
			t.Fatalf("%s: trend of an empty log: state %q", vp.name, s)
		}
		p.usable("#trend .state", "#f-segment")
		p.shot("trend-empty-" + vp.name)

		for _, c := range []struct{ view, says string }{
			{"review", "No customer left in this period."},
			{"scorecard", "No customer activity in this range."},
		} {
			if s := p.open("#/"+c.view, c.view); s != "empty" {
				t.Fatalf("%s: %s state %q", vp.name, c.view, s)
			}
			if msg := p.text("#" + c.view); !strings.Contains(msg, c.says) {
				t.Fatalf("%s says %q", c.view, msg)
			}
			p.usable("#"+c.view+" .state-empty", "form.controls button")
			p.shot(c.view + "-empty-" + vp.name)
		}
	}
	t.Run("period labels agree with the server's", func(t *testing.T) {
		p.t = t
		checkPeriodLabels(t, p)
	})
	t.Run("the pages read the payloads issues 10 and 11 specify", func(t *testing.T) {
		p.t = t
		checkFuturePayloads(t, p)
	})
	p.t = t
	p.noErrors()
}

// checkPeriodLabels has the dashboard's periods.js name the periods of many
// days, ISO week-year turns included, and compares with domain.Period: a
// label the page got wrong would put a point on the wrong bucket.
func checkPeriodLabels(t *testing.T, p *page) {
	type pc struct {
		T           int64  `json:"t"`
		Bucket      string `json:"bucket"`
		Label, Next string
		Start       int64 `json:"start"`
	}
	var cases []pc
	add := func(d time.Time) {
		for _, b := range []domain.Bucket{domain.BucketDay, domain.BucketWeek, domain.BucketMonth, domain.BucketQuarter} {
			per := domain.PeriodOf(b, d)
			cases = append(cases, pc{T: d.UnixMilli(), Bucket: b.String(), Label: per.String(), Next: per.Next().String(), Start: per.Start.UnixMilli()})
		}
	}
	for d := time.Date(2019, 1, 1, 13, 0, 0, 0, time.UTC); d.Year() < 2032; d = d.Add(77 * time.Hour) {
		add(d)
	}
	for y := 2019; y < 2032; y++ {
		for d := time.Date(y, 12, 26, 23, 59, 0, 0, time.UTC); d.Before(time.Date(y+1, 1, 6, 0, 0, 0, 0, time.UTC)); d = d.Add(24 * time.Hour) {
			add(d)
		}
	}
	js, err := json.Marshal(cases)
	if err != nil {
		t.Fatal(err)
	}
	expr := `import('./ui/js/periods.js').then(m => (` + string(js) + `).filter(c =>
		m.label(c.bucket, m.periodStart(c.bucket, c.t)) !== c.Label || m.parse(c.Label) !== c.start || m.step(c.bucket, c.Label, 1) !== c.Next
	).slice(0, 5).map(c => JSON.stringify(c) + ' → ' + m.label(c.bucket, m.periodStart(c.bucket, c.t)) + ', ' + m.parse(c.Label) + ', ' + m.step(c.bucket, c.Label, 1)))`
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) > 0 {
		t.Fatalf("periods.js disagrees with domain.Period on %d cases, e.g.\n%s", len(bad), strings.Join(bad, "\n"))
	}
	t.Logf("%d period labels agree", len(cases))
}

// checkFuturePayloads has the alerts panel, the review and the scorecard
// render the payloads that the detector (issue 10) and the review (issue 11)
// specify, in the page's own modules: when those endpoints land, the pages
// already read them. An alert is raised, updated and cleared as the stream
// would deliver it.
func checkFuturePayloads(t *testing.T, p *page) {
	p.viewport(desktop)
	render := func(fragment, view, js string) map[string]any {
		p.open(fragment, view)
		ctx, cancel := context.WithTimeout(p.ctx, timeout)
		defer cancel()
		out, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](js, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := render("#/", "overview", `Promise.all([import('./ui/js/alerts.js'), import('./ui/js/overview.js')]).then(([al, ov]) => {
		const out = {};
		const el = document.getElementById('alerts');
		const board = new al.AlertBoard(b => ov.drawAlerts(el, b));
		const ev = (type, data) => ({specversion: '1.0', id: type + '-' + data.observed, source: 'plaint/detector', type,
			time: '2026-11-20T10:00:00Z', subject: 'billing', data});
		const alert = {series: {category: 'billing', segment: 'smb'}, period: 'month', period_start: '2026-11-01',
			observed: 84, expected: 40.2, upper: 61.5, p_value: 0.0004, q_value: 0.003, severity: 2.4, longevity: 2,
			rule: 'farrington', customers_affected: 57, sample_complaint_ids: ['c-1', 'c-2']};
		const other = {...alert, series: {category: 'app-login'}, period: 'week', period_start: '2026-11-23', observed: 31,
			expected: 9.5, upper: 17, severity: 3.1, level: 4, longevity: 1, rule: 'farrington', customers_affected: 30};
		board.load([al.normalize(ev('alert.raised', alert)), al.normalize(ev('alert.raised', other))]);
		out.raised = el.innerText;
		board.apply(al.normalize(ev('alert.updated', {...alert, observed: 97, longevity: 3})));
		out.updated = el.innerText;
		out.shown = el.innerText;
		return out;
	})`)
	p.shot("overview-alerts-payload-" + desktop.name)
	cleared := render("#/", "overview", `Promise.all([import('./ui/js/alerts.js'), import('./ui/js/overview.js')]).then(([al, ov]) => {
		const el = document.getElementById('alerts');
		const board = new al.AlertBoard(b => ov.drawAlerts(el, b));
		const data = {series: {category: 'billing', segment: 'smb'}, period: 'month', period_start: '2026-11-01', observed: 30};
		board.load([al.normalize({specversion: '1.0', type: 'alert.raised', id: 'r', source: 'plaint/detector', data: {...data, observed: 84}})]);
		board.apply(al.normalize({specversion: '1.0', type: 'alert.cleared', id: 'c', source: 'plaint/detector', time: '2026-11-29T08:00:00Z', data}));
		return {cleared: el.textContent, open: board.open().length};
	})`)
	out["cleared"], out["open"] = cleared["cleared"], cleared["open"]
	review := render("#/review?period=2025-Q3", "review", `import('./ui/js/review.js').then(rv => {
		const el = document.getElementById('review');
		rv.drawReview(el, {period: '2025-Q3', from: '2025-07-01', to: '2025-10-01',
			defected: {count: 57, value: [{currency: 'USD', amount: '123456.78'}], change: {count: 4}},
			by_reason: [{reason: 'price', count: 20, value: [{currency: 'USD', amount: '80000.00'}]}],
			by_segment: [{segment: 'enterprise', count: 3, value: [{currency: 'USD', amount: '90000.00'}]}],
			customers: [{customer_id: 'A00226', segment: 'enterprise', value: '61234.00', currency: 'USD', reason: 'price',
				competitor: 'rival-telco', defected_at: '2025-08-14T09:00:00Z',
				complaints: [{time: '2025-07-30T10:00:00Z', category: 'billing', channel: 'phone', severity: 3, resolved: true}]}],
			callbacks: [{customer_id: 'A00226', value: '61234.00', currency: 'USD', reason: 'price', phone_hint: null}]}, {period: '2025-Q3', top: '10'});
		el.querySelectorAll('details').forEach(d => d.open = true);
		return {review: el.innerText};
	})`)
	p.shot("review-payload-" + desktop.name)
	scorecard := render("#/scorecard", "scorecard", `import('./ui/js/scorecard.js').then(sc => {
		const el = document.getElementById('scorecard');
		sc.drawScorecard(el, {rows: [{period: '2025-01', segment: 'smb', new_customers: 12, new_value: '3400.50', lost_customers: 3,
			lost_value: '900.00', renewals: 40, referrals: 2, revenue: '12345.67', cost: '2345.67', profit: '10000.00', currency: 'EUR'}]},
			{from: '2025-01', to: '2025-12', by: 'segment'});
		return {scorecard: el.innerText};
	})`)
	p.shot("scorecard-payload-" + desktop.name)
	out["review"], out["scorecard"] = review["review"], scorecard["scorecard"]
	for key, wants := range map[string][]string{
		"raised": {"billing · smb", "84 complaints in Nov 2026, against 40.2 expected (upper bound 61.5)", "2 months in a row", "farrington",
			"0.003", "57", "Sample complaints (2)", "app-login", "week of 23 Nov 2026", "4 of 10"},
		"updated":   {"97 complaints in Nov 2026", "3 months in a row", "updated"},
		"cleared":   {"No open alerts.", "Recently cleared (1)", "billing · smb"},
		"review":    {"57", "+4", "123,456.78 USD", "Call back", "A00226", "61,234.00 USD", "rival-telco", "billing · phone · severity 3 · resolved", "By reason", "80,000.00 USD"},
		"scorecard": {"New customers", "12,345.67 EUR", "10,000.00 EUR", "Jan 2025 to Dec 2025"},
	} {
		got, _ := out[key].(string)
		for _, w := range wants {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q is not in\n%s", key, w, got)
			}
		}
	}
	if out["open"] != 0.0 {
		t.Errorf("%v alerts open after alert.cleared", out["open"])
	}
}

// startSeeded starts a server with its NATS on a free port and seeds it
// (seedHistory, as of now); it returns the server, its NATS URL, now and
// the number of events published.
func startSeeded(t *testing.T) (srv *server, natsURL string, now time.Time, total int) {
	t.Helper()
	natsAddr := freePort(t)
	srv = startServer(t, t.TempDir(), "--nats-listen", natsAddr)
	natsURL, now = "nats://"+natsAddr, time.Now().UTC()
	return srv, natsURL, now, seedHistory(t, natsURL, now)
}

// seedHistory publishes through NATS a synthetic history that ends with the
// last complete month, and a few billing complaints of the current month
// spread over the part of it that has passed. It returns the number of events.
func seedHistory(t *testing.T, natsURL string, now time.Time) int {
	t.Helper()
	dir := t.TempDir()
	month := domain.PeriodOf(domain.BucketMonth, now)
	syn := filepath.Join(dir, "history.jsonl")
	plaint(t, "emit", "--synthetic", "--customers", "4000", "--months", "24", "--seed", "3",
		"--end", month.Prev().String(), "--out", syn)
	// As many billing complaints so far as the last month's pace gives.
	lines, lastBilling := 0, 0
	f, err := os.Open(syn)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines++
		var ev struct {
			Type string
			Time time.Time
			Data struct{ Category string }
		}
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "complaint.filed" && ev.Data.Category == "billing" && !ev.Time.Before(month.Prev().Start) {
			lastBilling++
		}
	}
	f.Close()
	elapsed := now.Sub(month.Start)
	n := max(2, int(math.Round(float64(lastBilling)*elapsed.Seconds()/month.End().Sub(month.Start).Seconds())))
	partial := filepath.Join(dir, "this-month.jsonl")
	segments := []string{"consumer", "smb", "consumer", "enterprise", "consumer", "student"}
	channels := []string{"phone", "chat", "app", "phone", "web", "email", "phone"}
	evs := make([]domain.Event, n)
	for i := range evs {
		evs[i] = domain.Event{ID: fmt.Sprintf("so-far-%d", i), Source: "e2e/crm", Type: domain.TypeComplaintFiled,
			Time: month.Start.Add(elapsed * time.Duration(i+1) / time.Duration(n+1)).Truncate(time.Second), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprintf("E2E-%d", i), Category: "billing", Segment: segments[i%len(segments)], Channel: channels[i%len(channels)]}}
	}
	writeJSONL(t, partial, evs)
	plaint(t, "emit", "--file", syn, "--nats-url", natsURL)
	plaint(t, "emit", "--file", partial, "--nats-url", natsURL)
	return lines + n
}

// plaint runs the built binary and fails the test when it fails.
func plaint(t *testing.T, args ...string) {
	t.Helper()
	out, err := exec.Command(plaintBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("plaint %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// apiTrend asks the API the question the trend page asks: the last span
// buckets up to the last with complaints.
func apiTrend(t *testing.T, base, bucket string, span int, where ...string) *projections.TrendResult {
	t.Helper()
	q := url.Values{"by": {"category"}, "bucket": {bucket}, "where": where, "format": {"json"}}
	res := new(projections.TrendResult)
	getJSON(t, base+"/v1/trends?"+q.Encode(), res)
	b, err := domain.ParseBucket(bucket)
	if err != nil {
		t.Fatal(err)
	}
	to, err := domain.ParsePeriod(b, res.To)
	if err != nil {
		t.Fatal(err)
	}
	q.Set("from", to.Add(-(span - 1)).String())
	q.Set("to", res.To)
	res = new(projections.TrendResult)
	getJSON(t, base+"/v1/trends?"+q.Encode(), res)
	if len(res.Buckets) != span {
		t.Fatalf("the API gives %d buckets for %s", len(res.Buckets), q.Encode())
	}
	return res
}

// checkTrendChart compares the trend page's chart with the API's answer:
// one point per bucket at its start, the count of every complete bucket, and
// nothing drawn as a count for the running one.
func checkTrendChart(t *testing.T, p *page, res *projections.TrendResult, key, running string) {
	t.Helper()
	d := chartData(t, p, "trend:main")
	if len(d) < 2 {
		t.Fatalf("the chart has %d series", len(d))
	}
	if len(d[0]) != len(res.Buckets) {
		t.Fatalf("the chart has %d points; the API has %d buckets", len(d[0]), len(res.Buckets))
	}
	if pts := eval[string](p, `document.getElementById('trend-chart').dataset.points`); pts != fmt.Sprint(len(res.Buckets)) {
		t.Fatalf("the chart says it has %s points; the API has %d buckets", pts, len(res.Buckets))
	}
	b, _ := domain.ParseBucket(res.Bucket)
	for i, bt := range res.Buckets {
		per, err := domain.ParsePeriod(b, bt.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		if d[0][i] == nil || int64(*d[0][i]) != per.Start.Unix() {
			t.Fatalf("point %d is at %v, want the start of %s", i, d[0][i], bt.Bucket)
		}
	}
	checkCounts(t, "trend chart", d[1], seriesCounts(res)[key], res.Buckets, running)
	labels := eval[[]string](p, `window.plaintDashboard.charts.get('trend:main').series.map(s => s.label)`)
	if len(d) > 2 && labels[2] == "In progress, at the pace so far" {
		last := len(d[2]) - 1
		if d[2][last] == nil || *d[2][last] < float64(seriesCounts(res)[key][last]) {
			t.Fatalf("the running bucket's pace %v is below its count so far", d[2][last])
		}
	}
}

// checkCounts compares a drawn series with the API's counts: equal for
// every complete bucket, and no point at all for the running bucket.
func checkCounts(t *testing.T, what string, drawn []*float64, want []int64, buckets []projections.BucketTotal, running string) {
	t.Helper()
	for i, bt := range buckets {
		switch {
		case bt.Bucket == running:
			if drawn[i] != nil {
				t.Fatalf("%s draws the running %s as a count (%v)", what, running, *drawn[i])
			}
		case drawn[i] == nil || int64(*drawn[i]) != want[i]:
			t.Fatalf("%s: %s is drawn as %v, the API counts %d", what, bt.Bucket, deref(drawn[i]), want[i])
		}
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// seriesCounts returns the counts of each category, aligned with the buckets.
func seriesCounts(res *projections.TrendResult) map[string][]int64 {
	index := map[string]int{}
	for i, b := range res.Buckets {
		index[b.Bucket] = i
	}
	out := map[string][]int64{}
	for _, r := range res.Rows {
		k := r.Key["category"]
		if out[k] == nil {
			out[k] = make([]int64, len(res.Buckets))
		}
		out[k][index[r.Bucket]] = r.Count
	}
	return out
}

// tableOrder reads the keys of a trend table (format=table) in its order,
// and how many are marked as significant rises (▲).
func tableOrder(t *testing.T, table string) (keys []string, rises int) {
	t.Helper()
	lines := strings.Split(table, "\n")
	for _, l := range lines[3:] { // title, blank line, header
		if strings.TrimSpace(l) == "" {
			break
		}
		keys = append(keys, strings.Fields(l)[0])
		if strings.HasSuffix(l, "▲") {
			rises++
		}
	}
	if len(keys) == 0 {
		t.Fatalf("no rows in the table:\n%s", table)
	}
	return keys, rises
}

func humanMonth(p domain.Period) string { return p.Start.Format("Jan 2006") }

func shotName(fragment string) string {
	s := strings.NewReplacer("#/", "", "/", "-", "?", "-", "&", "-", "=", "-").Replace(fragment)
	if s == "" {
		return "overview"
	}
	return s
}

// page is one Chromium tab on the dashboard.
type page struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// chromiumPath returns the browser to drive: $CHROMIUM, else chromium on
// the PATH.
func chromiumPath(t *testing.T) string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("Chromium is not installed: apt-get update && apt-get install -y chromium chromium-driver (or set CHROMIUM to a Chromium binary)")
	return ""
}

// openBrowser starts a headless Chromium with a fresh profile and records
// what the page writes to its console.
func openBrowser(t *testing.T, base string) *page {
	t.Helper()
	// DefaultExecAllocatorOptions already has --headless, --no-first-run,
	// --disable-background-networking and --disable-sync; as root chromedp
	// adds --no-sandbox itself.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		chromedp.Flag("disable-component-update", true),
		chromedp.WindowSize(int(desktop.w), int(desktop.h)),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser, with no timeout
		t.Fatalf("start Chromium: %v", err)
	}
	p := &page{t: t, ctx: ctx, base: base}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.console = append(p.console, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() { t.Logf("screenshots are in %s", shotsDir(t)) })
	return p
}

// timeout bounds one step in the browser.
const timeout = 45 * time.Second

func (p *page) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// poll waits until the expression is truthy.
func (p *page) poll(expr, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(timeout))); err != nil {
		p.t.Fatalf("waiting for %s: %v\npage: %s", what, err, p.text("main"))
	}
}

// viewport sizes the tab as the window of a desktop or a phone.
func (p *page) viewport(vp viewport) {
	p.t.Helper()
	if vp.w < 600 {
		p.do("phone viewport", chromedp.EmulateViewport(vp.w, vp.h, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait))
		return
	}
	p.do("desktop viewport", chromedp.EmulateViewport(vp.w, vp.h))
}

// open loads the dashboard at the fragment and returns the state the view
// settles in: ready, empty, unavailable or error.
func (p *page) open(fragment, view string) string {
	p.t.Helper()
	p.do("open "+fragment, chromedp.Navigate(p.base+"/"+fragment))
	return p.settle(view)
}

// act runs a step that changes the view (a click, a filter) and returns the
// state it settles in.
func (p *page) act(view string, step chromedp.Action[chromedp.Void]) string {
	p.t.Helper()
	p.do("mark the view", chromedp.Evaluate[chromedp.Void](`document.querySelector('main').dataset.state = 'stale'`), step)
	return p.settle(view)
}

func (p *page) settle(view string) string {
	p.t.Helper()
	expr := fmt.Sprintf(`(m => m && m.dataset.view === %q && !['loading', 'stale'].includes(m.dataset.state) ? m.dataset.state : false)(document.querySelector('main'))`, view)
	ctx, cancel := context.WithTimeout(p.ctx, timeout+5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Poll[string](expr, chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		p.t.Fatalf("the %s view did not settle: %v\npage: %s", view, err, p.text("main"))
	}
	// Let the page paint what the state says before a check or a screenshot.
	p.do("wait for a frame", chromedp.Evaluate[chromedp.Void](`new Promise(r => requestAnimationFrame(() => r()))`, chromedp.EvalAwaitPromise))
	return s
}

// text returns the text of the first element the selector matches, or "".
func (p *page) text(sel string) string {
	p.t.Helper()
	return eval[string](p, fmt.Sprintf(`(e => e ? e.innerText : '')(document.querySelector(%q))`, sel))
}

// usable checks that the page does not scroll sideways and that each
// selected element is shown, whole, within the width of the viewport.
func (p *page) usable(sels ...string) {
	p.t.Helper()
	js, _ := json.Marshal(sels)
	problems := eval[[]string](p, `(sels => {
		const w = document.documentElement.clientWidth, out = [];
		const sw = document.documentElement.scrollWidth;
		if (sw > w + 1) {
			const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > w + 1 && !e.closest('.table-wrap'))
				.slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') + ' to ' + Math.round(e.getBoundingClientRect().right) + 'px');
			out.push('the page is ' + sw + 'px wide in a ' + w + 'px window (' + wide.join(', ') + ')');
		}
		for (const s of sels) {
			const el = document.querySelector(s);
			if (!el) { out.push(s + ' is missing'); continue; }
			const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
			if (r.width < 1 || r.height < 1 || cs.visibility === 'hidden' || cs.display === 'none') out.push(s + ' is not shown');
			else if (r.left < -1 || r.right > w + 1) out.push(s + ' spans ' + Math.round(r.left) + '..' + Math.round(r.right) + 'px of ' + w);
		}
		return out;
	})(`+string(js)+`)`)
	problems = append(problems, eval[[]string](p, accessibilityChecks)...)
	if len(problems) > 0 {
		p.t.Fatalf("not usable at %s: %s", eval[string](p, `innerWidth + 'x' + innerHeight`), strings.Join(problems, "; "))
	}
}

// accessibilityChecks lists what keeps a person using a screen reader, a
// keyboard or a finger from the page: controls without a label, charts
// without a text, links and buttons without a name, more or less than one
// main heading, controls too small to tap (WCAG 2.5.8: 24 px).
const accessibilityChecks = `(() => {
	const out = [];
	const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
	for (const el of document.querySelectorAll('input, select, textarea')) {
		const named = el.closest('label') || (el.id && document.querySelector('label[for="' + el.id + '"]')) || el.getAttribute('aria-label');
		if (!named) out.push('a ' + el.tagName.toLowerCase() + ' without a label (' + (el.id || el.name) + ')');
	}
	for (const el of document.querySelectorAll('[role=img]')) if (!el.getAttribute('aria-label')) out.push('a chart without a text alternative (' + (el.id || el.className) + ')');
	for (const el of document.querySelectorAll('a, button')) if (shown(el) && !el.textContent.trim() && !el.getAttribute('aria-label')) out.push('a ' + el.tagName.toLowerCase() + ' without a name');
	const h1 = [...document.querySelectorAll('h1')].filter(shown).length;
	if (h1 !== 1) out.push(h1 + ' main headings');
	if (!document.documentElement.lang) out.push('no page language');
	for (const el of document.querySelectorAll('nav a, button, select, input:not([type=radio]), .seg-btn')) {
		const r = el.getBoundingClientRect();
		if (shown(el) && r.height < 24) out.push((el.id || el.textContent.trim() || el.tagName) + ' is ' + Math.round(r.height) + 'px high');
	}
	return out;
})()`

// shot saves a screenshot of the whole page.
func (p *page) shot(name string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(shotsDir(p.t), name+".png")
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		p.t.Fatal(err)
	}
}

// download clicks a link and returns the file the browser saved.
func (p *page) download(sel string) string {
	p.t.Helper()
	dir := p.t.TempDir()
	ctx, cancel := context.WithTimeout(p.ctx, timeout)
	defer cancel()
	progress := chromedp.Events(ctx, browser.DownloadProgress)
	if err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			_, err := cdp.Call(ctx, t, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
				Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true)})
			return err
		}),
		chromedp.Click(chromedp.CSS(sel)),
	); err != nil {
		p.t.Fatalf("download %s: %v", sel, err)
	}
	for ev, err := range progress {
		if err != nil {
			p.t.Fatalf("download %s: %v", sel, err)
		}
		switch ev.State {
		case browser.DownloadProgressStateCompleted:
			b, err := os.ReadFile(filepath.Join(dir, ev.GUID))
			if err != nil {
				p.t.Fatal(err)
			}
			return string(b)
		case browser.DownloadProgressStateCanceled:
			p.t.Fatalf("the browser cancelled the download of %s", sel)
		}
	}
	p.t.Fatalf("no download from %s", sel)
	return ""
}

// chartData returns the data a chart was drawn from: x, then each series.
func chartData(t *testing.T, p *page, name string) [][]*float64 {
	t.Helper()
	return eval[[][]*float64](p, fmt.Sprintf(`(u => u ? u.data : [])(window.plaintDashboard.charts.get(%q))`, name))
}

// noErrors fails the test if the page logged an error or threw: anything
// but the API's answers to the questions the tests ask on purpose (404 from
// endpoints this server does not have, 400 for a bad query).
func (p *page) noErrors() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	var bad []string
	for _, m := range p.console {
		if m.Type != chromedp.ConsoleError && m.Type != chromedp.ConsoleException {
			continue
		}
		if m.Source == "network" && strings.Contains(m.URL, "/v1/") {
			continue
		}
		bad = append(bad, fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
	}
	if len(bad) > 0 {
		p.t.Fatalf("the page logged errors:\n%s", strings.Join(bad, "\n"))
	}
}

var shots struct {
	once sync.Once
	dir  string
	err  error
}

// shotsDir is where screenshots go: $E2E_SCREENSHOTS, else a new temporary
// directory, kept after the run.
func shotsDir(t *testing.T) string {
	shots.once.Do(func() {
		if d := os.Getenv("E2E_SCREENSHOTS"); d != "" {
			shots.dir, shots.err = d, os.MkdirAll(d, 0o755)
			return
		}
		shots.dir, shots.err = os.MkdirTemp("", "plaint-e2e-screenshots-")
	})
	if shots.err != nil {
		t.Fatal(shots.err)
	}
	return shots.dir
}

//go:build e2e

// The alert checks of the dashboard's browser tests (`make e2e`; alone:
// go test -tags e2e -race -count=1 -run TestE2EAlerts -v ./cmd/plaint).
// They publish nothing but complaints: the alerts come from the detector,
// read through GET /v1/alerts and GET /v1/alerts/stream.
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/plaint/plaint/domain"
)

// TestE2EAlerts checks that the overview lists an alert the detector raised
// over the history, and that a new alert appears on the open page, without
// a reload, when a burst of complaints tips a series over its bound.
func TestE2EAlerts(t *testing.T) {
	data := t.TempDir()
	natsAddr := freePort(t)
	srv := startServer(t, data, "--nats-listen", natsAddr)
	now := time.Now().UTC()
	total := seedHistory(t, "nats://"+natsAddr, now)
	// Triple the billing complaints of the last complete month.
	last := domain.PeriodOf(domain.BucketMonth, now).Prev()
	total += publishBurst(t, "nats://"+natsAddr, "billing", last.Start, last.End(), 150)
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

	t.Run("a new alert appears without a reload", func(t *testing.T) {
		p.t = t
		p.open("#/", "overview")
		p.poll(`document.getElementById('alerts-live').dataset.state === 'open'`, "the live stream to open")
		p.do("mark the page", chromedp.Evaluate[chromedp.Void](`window.e2eNotReloaded = true`))
		// Ten times the usual number-porting complaints, in the running week.
		week := domain.PeriodOf(domain.BucketWeek, now)
		publishBurst(t, "nats://"+natsAddr, "number-porting", week.Start, time.Now().UTC().Add(-time.Minute), 120)
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

// publishBurst publishes n complaints of the category spread from from to
// to, through NATS, and returns n.
func publishBurst(t *testing.T, natsURL, category string, from, to time.Time, n int) int {
	t.Helper()
	var b strings.Builder
	for i := range n {
		ev := domain.Event{ID: fmt.Sprintf("burst-%s-%d-%d", category, from.Unix(), i), Source: "e2e/crm", Type: domain.TypeComplaintFiled,
			Time: from.Add(to.Sub(from) * time.Duration(i+1) / time.Duration(n+1)).Truncate(time.Second), Schema: 1,
			Data: domain.Data{CustomerID: fmt.Sprintf("B-%d", i), Category: category, Segment: "consumer", Channel: "phone"}}
		j, err := ev.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	f := filepath.Join(t.TempDir(), "burst.jsonl")
	if err := os.WriteFile(f, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
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

func containsSubstring(list []string, sub string) bool {
	for _, s := range list {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

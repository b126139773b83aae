package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/adapters/nats/natstest"
	"github.com/plaint/plaint/internal/testutil"
)

// TestGrafanaDashboardQueriesExistingMetrics: every metric the shipped
// Grafana dashboard queries is on a running server's /metrics, with the
// labels it groups by, once the server has answered requests, stored
// events and dead-lettered one.
func TestGrafanaDashboardQueriesExistingMetrics(t *testing.T) {
	b, err := os.ReadFile("../../examples/grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
		Templating struct {
			List []struct{ Query any }
		}
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir())
	resp, err := http.Post(s.http+"/v1/events", "application/cloudevents+json", strings.NewReader(
		`{"specversion":"1.0","id":"g1","source":"crm","type":"complaint.filed","time":"2026-10-01T10:00:00Z","data":{"customer_id":"C-1","category":"billing"}}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, js := natstest.Connect(t, s.nats)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, "plaint.events.complaint.filed", []byte(`{"specversion":"1.0", not json`)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "a stored event and a dead letter", func() bool {
		return s.statUint("events") == 1 && s.statUint("dead_lettered") == 1
	})
	testutil.Get(t, s.http+"/v1/trends?by=category")
	_, scrape := testutil.Get(t, s.http+"/metrics")
	// The label names of each series name on the page.
	labels := map[string]map[string]bool{}
	series := regexp.MustCompile(`(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? `)
	for _, m := range series.FindAllStringSubmatch(string(scrape), -1) {
		if labels[m[1]] == nil {
			labels[m[1]] = map[string]bool{}
		}
		for _, kv := range strings.Split(m[2], ",") {
			if k, _, ok := strings.Cut(kv, "="); ok {
				labels[m[1]][k] = true
			}
		}
	}
	name := regexp.MustCompile(`plaint_[a-z0-9_]+`)
	by := regexp.MustCompile(`by \(([^)]*)\)`)
	checked := 0
	check := func(where, expr string) {
		for _, n := range name.FindAllString(expr, -1) {
			have, ok := labels[n]
			if !ok {
				t.Errorf("%s queries %s, which /metrics does not have", where, n)
				continue
			}
			checked++
			for _, m := range by.FindAllStringSubmatch(expr, -1) {
				for _, l := range strings.Split(m[1], ",") {
					if l = strings.TrimSpace(l); l != "le" && !have[l] && strings.Count(expr, "plaint_") == 1 {
						t.Errorf("%s groups %s by %s, a label it does not have", where, n, l)
					}
				}
			}
		}
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			check("panel "+p.Title, tg.Expr)
		}
	}
	for _, v := range dash.Templating.List {
		if q, ok := v.Query.(string); ok {
			check("variable", q)
		}
	}
	if checked < 10 {
		t.Fatalf("only %d metric references checked", checked)
	}
	for _, want := range []string{"plaint_http_request_duration_seconds_bucket", "plaint_append_batch_size_bucket", "plaint_append_batch_seconds_bucket",
		"plaint_projection_lag_events", "plaint_alerts_raised_total", "plaint_ingest_dead_lettered_total"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the dashboard does not show %s", want)
		}
	}
}

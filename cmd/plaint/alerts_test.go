package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plaint/plaint/internal/testutil"
	"github.com/plaint/plaint/projections/alerts"
)

var generatedLine = regexp.MustCompile(`generated (\d+) events`)

// TestAlertsCommands runs the alert commands against a synthetic history
// with two injected rises: serve raises and serves the alerts (alerts list,
// alerts follow from the first event), a backtest of the stopped server's
// log gives the same CloudEvents byte for byte, and alerts score finds the
// rises in it from the truth file emit wrote.
func TestAlertsCommands(t *testing.T) {
	data := t.TempDir()
	truth := filepath.Join(t.TempDir(), "truth.json")
	srv := startServer(t, data)
	code, out, errs := runMain(t, "emit", "--synthetic", "--customers", "6000", "--months", "30", "--seed", "5", "--end", "2026-10",
		"--inject", "category=billing,from=2026-04-06,factor=3,weeks=4", "--inject", "category=app-login,segment=consumer,from=2026-07-06,factor=4,weeks=3",
		"--truth", truth, "--nats-url", srv.nats)
	m := generatedLine.FindStringSubmatch(out + errs)
	if code != 0 || m == nil {
		t.Fatalf("emit: exit %d %s %s", code, out, errs)
	}
	n, _ := strconv.ParseUint(m[1], 10, 64)
	waitFor(t, 2*time.Minute, "the history to be stored", func() bool { return srv.statUint("events") == n })
	waitFor(t, 2*time.Minute, "the detector to catch up", func() bool {
		_, out, _ := runMain(t, "--server", srv.http, "projection", "show", alerts.Name, "--json")
		var st struct{ Checkpoint uint64 }
		return json.Unmarshal([]byte(out), &st) == nil && st.Checkpoint == n
	})
	code, out, errs = runMain(t, "--server", srv.http, "alerts", "list")
	if code != 0 || !strings.HasPrefix(out, "time ") || !strings.Contains(out, "billing") {
		t.Fatalf("alerts list: exit %d\n%s%s", code, out, errs)
	}

	// alerts follow from the first event, until it has them all.
	var ans struct {
		LastSeq uint64 `json:"last_seq"`
	}
	getJSON(t, srv.http+"/v1/alerts", &ans)
	if ans.LastSeq < 3 {
		t.Fatalf("only %d alert events", ans.LastSeq)
	}
	checkValueAtRisk(t, srv.http)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fw := &lockedBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- (&Main{Stdout: fw, Stderr: &lockedBuffer{}}).Run(ctx, []string{"--server", srv.http, "alerts", "follow", "--after", "0"})
	}()
	waitFor(t, time.Minute, "follow to print every alert event", func() bool { return uint64(bytes.Count(fw.bytes(), []byte("\n"))) >= ans.LastSeq })
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("follow: exit %d", code)
	}
	followed := fw.bytes()
	srv.term()

	jsonl := filepath.Join(t.TempDir(), "alerts.jsonl")
	code, out, errs = runMain(t, "--data", data, "alerts", "backtest", "--format", "jsonl")
	if code != 0 || !strings.Contains(errs, "backtest:") {
		t.Fatalf("backtest: exit %d %s", code, errs)
	}
	if !bytes.Equal([]byte(out), followed) {
		t.Fatalf("the backtest's events differ from those the server streamed:\n%s", firstDiff(out, string(followed)))
	}
	if err := os.WriteFile(jsonl, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs = runMain(t, "alerts", "score", "--truth", truth, "--alerts", jsonl, "--format", "json")
	var sc alerts.Score
	if code != 0 || json.Unmarshal([]byte(out), &sc) != nil {
		t.Fatalf("score: exit %d %s %s", code, out, errs)
	}
	if sc.Rises != 2 || sc.Detected < 1 || sc.SeriesMonths < 400 || sc.Alerts != sc.TruePositive+sc.FalseAlarms {
		t.Fatalf("score %+v", sc)
	}
	for _, bad := range [][]string{{"alerts", "backtest", "--from", "2026-13"}, {"alerts", "backtest", "--q", "2"}, {"emit", "--synthetic", "--inject", "category=nope,from=2026-01-05", "--dry-run"}} {
		if code, _, errs := runMain(t, append([]string{"--data", data}, bad...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", bad, code, errs)
		}
	}
}

// checkValueAtRisk checks that GET /v1/alerts gives every alert listed its
// value at risk from the customers state (decimal amounts per currency),
// some of them above zero. The figure itself is checked against a naive
// recomputation in projections/customers (TestValueAtRiskMatchesNaiveRecomputation).
func checkValueAtRisk(t *testing.T, server string) {
	t.Helper()
	type amount struct{ Currency, Amount string }
	var ans struct {
		Open, Recent []struct {
			Data struct {
				AlertID     string    `json:"alert_id"`
				ValueAtRisk *[]amount `json:"value_at_risk"`
			}
		}
	}
	getJSON(t, server+"/v1/alerts", &ans)
	positive := 0
	for _, a := range append(ans.Open, ans.Recent...) {
		if a.Data.ValueAtRisk == nil {
			t.Errorf("alert %s has no value_at_risk", a.Data.AlertID)
			continue
		}
		for _, v := range *a.Data.ValueAtRisk {
			f, err := strconv.ParseFloat(v.Amount, 64)
			if err != nil || v.Currency == "" {
				t.Errorf("alert %s: value at risk %+v is not a decimal amount with its currency", a.Data.AlertID, v)
			}
			if f > 0 {
				positive++
			}
		}
	}
	if positive == 0 {
		t.Errorf("no alert puts any value at risk: %+v", ans)
	}
}

func firstDiff(a, b string) string {
	as, bs := bufio.NewScanner(strings.NewReader(a)), bufio.NewScanner(strings.NewReader(b))
	as.Buffer(nil, 1<<24)
	bs.Buffer(nil, 1<<24)
	for i := 1; ; i++ {
		x, y := as.Scan(), bs.Scan()
		if !x && !y {
			return "equal"
		}
		if as.Text() != bs.Text() {
			return "line " + strconv.Itoa(i) + ":\n " + as.Text() + "\n " + bs.Text()
		}
	}
}

// lockedBuffer is a buffer written by one goroutine and read by another.
type lockedBuffer struct{ testutil.Buffer }

// bytes returns what was written so far.
func (l *lockedBuffer) bytes() []byte { return []byte(l.String()) }

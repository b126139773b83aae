package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
)

// AlertsCmd reads the detector's rising-issue alerts.
type AlertsCmd struct {
	List     AlertsListCmd     `cmd:"" help:"The open alerts and those cleared lately, from the running server."`
	Follow   AlertsFollowCmd   `cmd:"" help:"Print alert events as the server raises them (reconnecting by itself, resuming where it stopped)."`
	Backtest AlertsBacktestCmd `cmd:"" help:"Replay the log offline and list every alert that would have fired, with the same payload."`
	Score    AlertsScoreCmd    `cmd:"" help:"Precision, recall, detection delay and false alarms of alerts (a backtest's jsonl) against a truth file (emit --synthetic --inject ... --truth)."`
}

// AlertsListCmd is `plaint alerts list`.
type AlertsListCmd struct {
	Category string `help:"Only this category's alerts."`
	Format   string `short:"f" help:"Output format." enum:"table,json,jsonl" default:"table"`
}

// Run asks the server for its alerts.
func (c *AlertsListCmd) Run(g *Globals) error {
	q := map[string][]string{}
	if c.Category != "" {
		q["category"] = []string{c.Category}
	}
	b, err := serverGet(g, "/v1/alerts", q)
	if err != nil {
		return err
	}
	var ans struct {
		Open, Recent []json.RawMessage
	}
	if err := json.Unmarshal(b, &ans); err != nil {
		return fmt.Errorf("the server's alerts: %w", err)
	}
	if c.Format == "json" {
		_, err := g.Stdout.Write(b)
		return err
	}
	var evs []alerts.Event
	for _, raw := range append(ans.Open, ans.Recent...) {
		ev, err := alerts.ParseCloudEvent(raw)
		if err != nil {
			return fmt.Errorf("the server's alerts: %w", err)
		}
		evs = append(evs, ev)
		if c.Format == "jsonl" {
			fmt.Fprintf(g.Stdout, "%s\n", compactJSON(raw))
		}
	}
	if c.Format == "table" {
		writeAlertTable(g.Stdout, evs)
	}
	return nil
}

func compactJSON(b []byte) []byte {
	var out strings.Builder
	var v any
	if json.Unmarshal(b, &v) != nil {
		return b
	}
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return []byte(strings.TrimSpace(out.String()))
}

// writeAlertTable writes alert events one a line.
func writeAlertTable(w io.Writer, evs []alerts.Event) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "time\tevent\tseries\tperiod\tstart\tobserved\texpected\tupper\tq\tlevel\trule\tcustomers")
	for _, ev := range evs {
		a := ev.Data
		keys := make([]string, 0, len(a.Series))
		for k := range a.Series {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool { return keys[i] == "category" || keys[j] != "category" && keys[i] < keys[j] })
		var parts []string
		for _, k := range keys {
			parts = append(parts, a.Series[k])
		}
		partial := ""
		if a.Partial {
			partial = fmt.Sprintf(" (%.0f%%)", a.Exposure*100)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.0f%s\t%s\t%s\t%s\t%d\t%s\t%d\n", ev.Time.Format("2006-01-02 15:04"), strings.TrimPrefix(ev.Type, "alert."),
			strings.Join(parts, " · "), a.Period, a.PeriodStart, a.Observed, partial, num(a.Expected, 1), num(a.Upper, 1), num(a.QValue, 3), a.Level, a.Rule, a.CustomersAffected)
	}
	tw.Flush()
}

func num(n alerts.Num, digits int) string {
	if math.IsNaN(float64(n)) {
		return "–"
	}
	return fmt.Sprintf("%.*f", digits, float64(n))
}

// AlertsFollowCmd is `plaint alerts follow`.
type AlertsFollowCmd struct {
	After  int64  `help:"Start after this alert event number (0: every event so far; default: from the next one)." default:"-1"`
	Format string `short:"f" help:"Output format." enum:"jsonl,table" default:"jsonl"`
}

// Run reads the server's alert stream until interrupted, reconnecting
// with backoff and resuming after the last event it printed.
func (c *AlertsFollowCmd) Run(g *Globals) error {
	if err := g.checkServer(); err != nil {
		return err
	}
	after := c.After
	for attempt := 0; ; attempt++ {
		n, err := c.stream(g, &after)
		if g.Ctx.Err() != nil {
			return nil
		}
		if refused(err) {
			return err // a token is missing or wrong: retrying will not help
		}
		if n > 0 {
			attempt = 0
		}
		wait := min(time.Duration(1<<min(attempt, 5))*250*time.Millisecond, 10*time.Second)
		fmt.Fprintf(g.Stderr, "plaint: alert stream: %v; reconnecting in %v\n", err, wait)
		select {
		case <-g.Ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// stream reads one connection of the stream, printing its events and
// moving after on; it returns how many it read and why it ended.
func (c *AlertsFollowCmd) stream(g *Globals, after *int64) (int, error) {
	cl, err := g.client()
	if err != nil {
		return 0, err
	}
	lastID := ""
	if *after >= 0 {
		lastID = fmt.Sprint(*after)
	}
	body, err := cl.EventStream(g.Ctx, "/v1/alerts/stream", lastID)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	n := 0
	var id, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id = line[4:]
		case strings.HasPrefix(line, "data: "):
			data = line[6:]
		case line == "" && data != "":
			ev, err := alerts.ParseCloudEvent([]byte(data))
			if err != nil {
				return n, fmt.Errorf("event %s: %w", id, err)
			}
			if c.Format == "table" {
				writeAlertTable(g.Stdout, []alerts.Event{ev})
			} else {
				fmt.Fprintln(g.Stdout, data)
			}
			fmt.Sscan(id, after)
			n++
			id, data = "", ""
		}
	}
	if err := sc.Err(); err != nil {
		return n, err
	}
	return n, errors.New("the server closed the stream")
}

// AlertsBacktestCmd is `plaint alerts backtest`.
type AlertsBacktestCmd struct {
	AlertFlags `embed:"" envprefix:"PLAINT_ALERT_"`
	From       string `help:"First period start to list (YYYY-MM or YYYY-MM-DD); empty: from the start of the log."`
	To         string `help:"Last period start to list (YYYY-MM: its whole month; YYYY-MM-DD); empty: to the end of the log."`
	Format     string `short:"f" help:"table, or jsonl: one CloudEvent a line, exactly as it would be published." enum:"table,jsonl" default:"table"`
}

// Run replays the log of --data through the detector, offline.
func (c *AlertsBacktestCmd) Run(g *Globals) error {
	from, to, err := backtestRange(c.From, c.To)
	if err != nil {
		return err
	}
	p, err := c.AlertFlags.params()
	if err != nil {
		return err
	}
	def, err := alerts.Definition(p)
	if err != nil {
		return domain.Errorf(domain.EINVALID, "%v", err)
	}
	l, err := openForReading(g, "backtest a hot copy instead (plaint backup --out snap.db, then plaint alerts backtest --data snap.db)")
	if err != nil {
		return err
	}
	defer l.Close()
	start := time.Now()
	e, err := projections.Open(l, "")
	if err != nil {
		return err
	}
	defer e.Close()
	if _, err := e.Ensure(alerts.Name, def); err != nil {
		return err
	}
	evs, err := alerts.Read(g.Ctx, e)
	if err != nil {
		return err
	}
	var out []alerts.Event
	for _, ev := range evs {
		if ps := ev.Data.PeriodStart; ps >= from && (to == "" || ps <= to) {
			out = append(out, ev)
		}
	}
	if c.Format == "jsonl" {
		w := bufio.NewWriter(g.Stdout)
		for _, ev := range out {
			b, err := ev.CloudEvent()
			if err != nil {
				return err
			}
			w.Write(b)
			w.WriteByte('\n')
		}
		if err := w.Flush(); err != nil {
			return err
		}
	} else {
		writeAlertTable(g.Stdout, out)
	}
	fmt.Fprintf(g.Stderr, "backtest: %d alert events (%d in range) over %d log records in %.2f s (detector %s)\n",
		len(evs), len(out), l.LastSeq(), time.Since(start).Seconds(), alerts.DetectorVersion)
	return nil
}

// backtestRange reads --from and --to as period-start bounds (YYYY-MM-DD
// strings that compare as dates).
func backtestRange(from, to string) (string, string, error) {
	parse := func(name, s string, end bool) (string, error) {
		if s == "" {
			return "", nil
		}
		if t, err := time.Parse("2006-01", s); err == nil {
			if end {
				t = t.AddDate(0, 1, -1)
			}
			return t.Format(time.DateOnly), nil
		}
		if t, err := time.Parse(time.DateOnly, s); err == nil {
			return t.Format(time.DateOnly), nil
		}
		return "", domain.FieldErrorf(name, "%q: want YYYY-MM or YYYY-MM-DD", s)
	}
	f, err := parse("from", from, false)
	if err != nil {
		return "", "", err
	}
	t, err := parse("to", to, true)
	if err != nil {
		return "", "", err
	}
	if t != "" && f > t {
		return "", "", domain.FieldErrorf("to", "%s is before --from %s", to, from)
	}
	return f, t, nil
}

// AlertsScoreCmd is `plaint alerts score`.
type AlertsScoreCmd struct {
	Truth  string `required:"" help:"Truth file written by plaint emit --synthetic --inject ... --truth FILE." type:"existingfile"`
	Alerts string `required:"" help:"Alert events, one CloudEvent a line (plaint alerts backtest -f jsonl)." type:"existingfile"`
	Format string `short:"f" help:"Output format." enum:"table,json" default:"table"`
}

// Run scores the alerts against the truth.
func (c *AlertsScoreCmd) Run(g *Globals) error {
	tb, err := os.ReadFile(c.Truth)
	if err != nil {
		return err
	}
	var truth alerts.Truth
	if err := json.Unmarshal(tb, &truth); err != nil {
		return domain.Errorf(domain.EINVALID, "%s: %v", c.Truth, err)
	}
	f, err := os.Open(c.Alerts)
	if err != nil {
		return err
	}
	defer f.Close()
	var evs []alerts.Event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		ev, err := alerts.ParseCloudEvent(sc.Bytes())
		if err != nil {
			return domain.Errorf(domain.EINVALID, "%s line %d: %v", c.Alerts, line, err)
		}
		evs = append(evs, ev)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	s := alerts.ScoreAlerts(truth, evs)
	if c.Format == "json" {
		return writeIndentedJSON(g.Stdout, s)
	}
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "alerts (category series)\t%d\n", s.Alerts)
	fmt.Fprintf(w, "precision\t%.2f (%d/%d)\n", s.Precision, s.TruePositive, s.Alerts)
	fmt.Fprintf(w, "recall\t%.2f (%d/%d)\n", s.Recall, s.Detected, s.Rises)
	for _, k := range slices.Sorted(maps.Keys(s.RecallByFactor)) {
		fmt.Fprintf(w, "  recall %s\t%s\n", k, s.RecallByFactor[k])
	}
	fmt.Fprintf(w, "median detection delay\t%s days\n", strings.TrimSuffix(fmt.Sprintf("%.1f", s.MedianDelay), ".0"))
	fmt.Fprintf(w, "false alarms per 100 series-months\t%.2f (%d in %.0f)\n", s.FalseAlarmsPer100, s.FalseAlarms, s.SeriesMonths)
	for _, r := range s.Misses {
		fmt.Fprintf(w, "missed\t%s from %s, ×%g for %d weeks\n", r.Category, r.From.Format(time.DateOnly), r.Factor, r.Weeks)
	}
	return w.Flush()
}

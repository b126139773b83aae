package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
	"github.com/plaint/plaint/projections/customers"
)

// AlertFeed is what the server reads of the detector's alerts: the events
// after a number, and a channel closed when more come. *alerts.Feed
// implements it.
type AlertFeed interface {
	Since(after uint64) ([]alerts.Event, <-chan struct{})
}

var _ AlertFeed = (*alerts.Feed)(nil)

// AlertRisk is what GET /v1/alerts asks of the customers state for the
// open alerts' value at risk (*projections.Engine implements it): one
// answer per query, in order.
type AlertRisk interface {
	ValueAtRisk(ctx context.Context, qs []customers.RiskQuery) ([][]customers.Amount, error)
}

// recentCleared is how many cleared alerts GET /v1/alerts lists.
const recentCleared = 50

// sseHeartbeat is how often the alert stream sends a comment line, so that
// proxies keep an idle stream open.
const sseHeartbeat = 15 * time.Second

func (s *Server) registerAlertRoutes() {
	if s.cfg.Alerts == nil {
		return
	}
	s.handle("GET /v1/alerts", RoleRead, s.handleAlerts)
	s.handle("GET /v1/alerts/stream", RoleRead, s.handleAlertStream)
	if s.cfg.AlertBand != nil {
		s.handle("GET /v1/alerts/band", RoleRead, s.handleAlertBand)
	}
}

// alertsAnswer is GET /v1/alerts: the open alerts (the latest event of
// each) and the latest cleared ones, as CloudEvents, and the number of the
// last alert event (where the stream goes on from).
type alertsAnswer struct {
	Open    []json.RawMessage `json:"open"`
	Recent  []json.RawMessage `json:"recent"`
	LastSeq uint64            `json:"last_seq"`
}

// handleAlerts answers GET /v1/alerts[?category=C][&format=json|csv].
func (s *Server) handleAlerts(w http.ResponseWriter, r *http.Request) {
	f, err := answerFormat(r, projections.FormatJSON, projections.FormatJSON, projections.FormatCSV)
	if err != nil {
		s.error(w, r, err)
		return
	}
	cat := r.URL.Query().Get("category")
	evs, _ := s.cfg.Alerts.Since(0)
	latest := map[string]int{} // alert id → index of its latest event
	var order []string
	for i, ev := range evs {
		if cat != "" && ev.Category() != cat {
			continue
		}
		if _, ok := latest[ev.Data.AlertID]; !ok {
			order = append(order, ev.Data.AlertID)
		}
		latest[ev.Data.AlertID] = i
	}
	ans := alertsAnswer{Open: []json.RawMessage{}, Recent: []json.RawMessage{}}
	if len(evs) > 0 {
		ans.LastSeq = evs[len(evs)-1].Seq
	}
	// The open alerts in order, then the latest cleared, most recent first.
	var open, cleared []alerts.Event
	for _, id := range order {
		if ev := evs[latest[id]]; ev.Type == alerts.TypeCleared {
			cleared = append(cleared, ev)
		} else {
			open = append(open, ev)
		}
	}
	var recent []alerts.Event
	for i := len(cleared) - 1; i >= 0 && len(recent) < recentCleared; i-- {
		recent = append(recent, cleared[i])
	}
	shown := append(append([]alerts.Event(nil), open...), recent...)
	if err := s.addValueAtRisk(r.Context(), shown); err != nil {
		s.error(w, r, err)
		return
	}
	if f == projections.FormatCSV {
		if err := writeAlertsCSV(w, shown); err != nil {
			s.cfg.Logger.Warn("answer failed while streaming", requestAttrs(r, "err", err)...)
		}
		return
	}
	for i, ev := range shown {
		b, err := ev.CloudEvent()
		if err != nil {
			s.error(w, r, err)
			return
		}
		if i < len(open) {
			ans.Open = append(ans.Open, b)
		} else {
			ans.Recent = append(ans.Recent, b)
		}
	}
	writeJSON(w, http.StatusOK, ans)
}

// addValueAtRisk sets the value at risk of the alerts of evs (a copy of
// the feed's events) from the customers state, when the server has one.
func (s *Server) addValueAtRisk(ctx context.Context, evs []alerts.Event) error {
	ar, ok := s.cfg.Projections.(AlertRisk)
	if !ok || len(evs) == 0 {
		return nil
	}
	qs := make([]customers.RiskQuery, len(evs))
	for i, ev := range evs {
		qs[i] = ev.RiskQuery()
	}
	vs, err := ar.ValueAtRisk(ctx, qs)
	if err != nil {
		return fmt.Errorf("alerts: value at risk: %w", err)
	}
	for i := range evs {
		if vs[i] != nil {
			evs[i].Data.ValueAtRisk = &vs[i]
		}
	}
	return nil
}

// alertColumns are the columns of GET /v1/alerts as CSV.
var alertColumns = []string{"state", "alert_id", "event_id", "type", "time", "series", "period", "period_start", "partial",
	"observed", "expected", "upper", "p_value", "q_value", "level", "rule", "customers_affected", "value_at_risk"}

// writeAlertsCSV writes the alerts shown (the open ones, then the recent
// cleared ones), one row each (the series as "category=billing;segment=smb",
// the value at risk as "EUR 1234.50;USD 10.00", empty when unknown).
func writeAlertsCSV(w http.ResponseWriter, shown []alerts.Event) error {
	w.Header().Set("Content-Type", contentType(projections.FormatCSV))
	cw := csv.NewWriter(w)
	_ = cw.Write(alertColumns)
	num := csvNumber
	for _, ev := range shown {
		a := ev.Data
		var series []string
		for _, k := range slices.Sorted(maps.Keys(a.Series)) {
			series = append(series, k+"="+a.Series[k])
		}
		var risk []string
		if a.ValueAtRisk != nil {
			for _, v := range *a.ValueAtRisk {
				risk = append(risk, v.Currency+" "+v.Amount)
			}
		}
		_ = cw.Write([]string{a.State, a.AlertID, ev.ID, ev.Type, ev.Time.UTC().Format(time.RFC3339), strings.Join(series, ";"), a.Period, a.PeriodStart,
			strconv.FormatBool(a.Partial), num(a.Observed), num(float64(a.Expected)), num(float64(a.Upper)), num(float64(a.PValue)), num(float64(a.QValue)),
			strconv.Itoa(a.Level), a.Rule, strconv.Itoa(a.CustomersAffected), strings.Join(risk, ";")})
	}
	cw.Flush()
	return cw.Error()
}

// handleAlertStream answers GET /v1/alerts/stream with Server-Sent Events:
// every alert event after the one named by the Last-Event-ID header (or,
// without it, ?after=N; ?after=0 replays them all), then each one as it comes, event
// name its type, id its number, data its CloudEvents JSON. Without either,
// the stream starts with the next event.
func (s *Server) handleAlertStream(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		s.error(w, r, fmt.Errorf("streaming is not supported by this connection"))
		return
	}
	after, err := streamStart(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if after < 0 {
		evs, _ := s.cfg.Alerts.Since(0)
		after = 0
		if len(evs) > 0 {
			after = int64(evs[len(evs)-1].Seq)
		}
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\n: plaint alerts after %d\n\n", after)
	fl.Flush()
	beat := time.NewTicker(sseHeartbeat)
	defer beat.Stop()
	for {
		evs, changed := s.cfg.Alerts.Since(uint64(after))
		for _, ev := range evs {
			b, err := ev.CloudEvent()
			if err != nil {
				s.cfg.Logger.Error("alert stream", "alert", ev.ID, "err", err)
				return
			}
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", ev.Seq, ev.Type, b); err != nil {
				return
			}
			after = int64(ev.Seq)
		}
		fl.Flush()
		select {
		case <-r.Context().Done():
			return
		case <-changed:
		case <-beat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
		}
	}
}

// streamStart reads where an alert stream starts: the number after which
// events are sent, -1 for "from the next one".
func streamStart(r *http.Request) (int64, error) {
	// The header wins: a browser's EventSource sends the last id it saw
	// when it reconnects, to the URL it opened (whose after is older).
	v, name := r.Header.Get("Last-Event-ID"), "Last-Event-ID"
	if v == "" {
		v, name = r.URL.Query().Get("after"), "after"
	}
	if v == "" {
		return -1, nil
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, domain.FieldErrorf(name, "%q is not an alert event number", v)
	}
	return int64(n), nil
}

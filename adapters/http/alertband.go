package http

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/alerts"
	"github.com/plaint/plaint/projections/detect"
)

// AlertBand answers GET /v1/alerts/band: the detector's expected count and
// upper bound of each period of one series, and its alert markers.
// alerts.ReadBand over the server's engine implements it.
type AlertBand func(ctx context.Context, q alerts.BandQuery) (*alerts.Band, error)

// bandColumns are the columns of the band as CSV.
var bandColumns = []string{"period_start", "observed", "expected", "upper", "partial", "exposure", "baseline", "alert", "reason"}

// handleAlertBand answers GET /v1/alerts/band?category=C[&segment=S|&channel=X]&period=month|week&from=&to=&format=json|csv.
func (s *Server) handleAlertBand(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	q := alerts.BandQuery{Category: v.Get("category"), Segment: v.Get("segment"), Channel: v.Get("channel")}
	bucket := domain.BucketMonth
	switch p := v.Get("period"); p {
	case "", "month":
		q.Kind = detect.Month
	case "week":
		q.Kind, bucket = detect.Week, domain.BucketWeek
	default:
		s.error(w, r, domain.FieldErrorf("period", "%q must be month or week", p))
		return
	}
	for _, f := range []struct {
		name string
		t    *time.Time
		end  bool
	}{{"from", &q.From, false}, {"to", &q.To, true}} {
		if x := v.Get(f.name); x != "" {
			p, err := domain.ParsePeriod(bucket, x)
			if err != nil {
				s.error(w, r, domain.FieldErrorf(f.name, "%s", domain.ErrorMessage(err)))
				return
			}
			*f.t = p.Start
			if f.end {
				*f.t = p.End().Add(-time.Nanosecond)
			}
		}
	}
	f, err := answerFormat(r, projections.FormatJSON, projections.FormatJSON, projections.FormatCSV)
	if err != nil {
		s.error(w, r, err)
		return
	}
	b, err := s.cfg.AlertBand(r.Context(), q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if f == projections.FormatJSON {
		writeJSON(w, http.StatusOK, b)
		return
	}
	alerted := map[string]string{}
	for _, a := range b.Alerts {
		alerted[a.PeriodStart] = a.Type
	}
	num := func(x alerts.Num) string { return csvNumber(float64(x)) }
	w.Header().Set("Content-Type", contentType(f))
	cw := csv.NewWriter(w)
	_ = cw.Write(bandColumns)
	for _, p := range b.Points {
		_ = cw.Write([]string{p.PeriodStart, strconv.FormatFloat(p.Observed, 'f', -1, 64), num(p.Expected), num(p.Upper),
			strconv.FormatBool(p.Partial), strconv.FormatFloat(p.Exposure, 'f', -1, 64), p.Baseline, alerted[p.PeriodStart], p.Reason})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		s.cfg.Logger.Warn("answer failed while streaming", requestAttrs(r, "err", err)...)
	}
}

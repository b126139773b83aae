package alerts

import (
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/plaint/plaint/projections/customers"
)

// Source is the CloudEvents source of every alert event.
const Source = "plaint/detector"

// The alert event types, as CloudEvents types.
const (
	TypeRaised  = "alert.raised"
	TypeUpdated = "alert.updated"
	TypeCleared = "alert.cleared"
)

// Event is one step of an alert's lifecycle, as it is published: a
// CloudEvent whose data is the alert as it stands.
type Event struct {
	// Seq numbers the events of the projection from 1, in the order they
	// were raised (the SSE stream's event ids).
	Seq  uint64 `json:"-"`
	ID   string `json:"id"`
	Type string `json:"type"`
	// Time is the event time (the detector's watermark) at which the
	// detector took this step.
	Time time.Time `json:"time"`
	Data Alert     `json:"data"`
}

// Alert is what an alert event says: the series and period, the
// judgement and everything that explains it.
type Alert struct {
	AlertID string `json:"alert_id"`
	// State is "open" (raised or updated) or "cleared".
	State string `json:"state"`
	// Series holds the dimensions of the series only: {"category":
	// "billing"} or {"category": "billing", "segment": "smb"}.
	Series      map[string]string `json:"series"`
	Period      string            `json:"period"`
	PeriodStart string            `json:"period_start"`
	// Partial reports a running period judged with Exposure, its elapsed,
	// weekday-weighted share; Expected and Upper are scaled by it.
	Partial  bool    `json:"partial"`
	Exposure float64 `json:"exposure"`
	Observed float64 `json:"observed"`
	Expected Num     `json:"expected"`
	Upper    Num     `json:"upper"`
	PValue   Num     `json:"p_value"`
	QValue   Num     `json:"q_value"`
	// Alpha and Q are the thresholds the p- and q-value were held to, Tests
	// the number of series decided together.
	Alpha    float64 `json:"alpha"`
	Q        float64 `json:"q"`
	Tests    int     `json:"tests"`
	MinCount float64 `json:"min_count"`
	// Severity is how far above the bound, in predictive standard
	// deviations; Level the same on a 1–10 scale.
	Severity  Num    `json:"severity"`
	Level     int    `json:"level"`
	Longevity int    `json:"longevity"`
	Rule      string `json:"rule"`
	// Baseline is the rule behind Expected and Upper (farrington or the
	// short-history rule), Method the detector's description of it.
	Baseline     string `json:"baseline"`
	Phi          Num    `json:"phi"`
	Trend        bool   `json:"trend"`
	YearsBack    int    `json:"years_back"`
	CUSUM        Num    `json:"cusum"`
	CasesToAlarm Num    `json:"cases_to_alarm"`
	RecentUpper  Num    `json:"recent_upper"`
	// WindowStart is the first day of a window look's window (rule
	// farrington-window): Observed, Expected and Upper are those of the
	// days from it to the end of the period (partial: so far), the period
	// and the one before it.
	WindowStart string `json:"window_start,omitempty"`
	// Reason says why a cleared alert's period no longer alarms.
	Reason string `json:"reason,omitempty"`
	// CustomersAffected counts the distinct customers who complained in
	// the series' period (among the complaints folded so far);
	// SampleComplaintIDs are the ids of its latest complaints (event ids,
	// never customer data).
	CustomersAffected  int      `json:"customers_affected"`
	SampleComplaintIDs []string `json:"sample_complaint_ids"`
	// ValueAtRisk is what the customers affected stand to cost: the value
	// of those who have not defected since the period began × the
	// defection rate observed for the category, per currency, as the
	// linkage's revenue_at_risk (customers.State.ValueAtRisk, as of the
	// customers state's latest event). It is filled where that state is
	// at hand (GET /v1/alerts: [] when nothing is at risk), absent
	// otherwise (and when the category has no defection rate yet).
	ValueAtRisk *[]customers.Amount `json:"value_at_risk,omitempty"`
	// Affected holds the keys of the customers affected (the log's
	// dictionary ids; never published) for ValueAtRisk.
	Affected []uint32 `json:"-"`
	// Drilldown lists the segments and channels of a category's alert that
	// contribute most (judged only under an alarming category).
	Drilldown []Contribution `json:"drilldown,omitempty"`
	// LogFrom and LogTo are the range of the log the judgement read.
	LogFrom         uint64 `json:"log_from"`
	LogTo           uint64 `json:"log_to"`
	DetectorVersion string `json:"detector_version"`
	RaisedAt        string `json:"raised_at"`
	UpdatedAt       string `json:"updated_at"`
	ClearedAt       string `json:"cleared_at,omitempty"`
}

// Contribution is one drill-down series under a category's alert.
type Contribution struct {
	Series   map[string]string `json:"series"`
	Observed float64           `json:"observed"`
	Expected Num               `json:"expected"`
	Upper    Num               `json:"upper"`
	QValue   Num               `json:"q_value"`
	Alarm    bool              `json:"alarm"`
}

// Num is a number that may be undefined (NaN): JSON null then.
type Num float64

// MarshalJSON writes null for NaN and infinities.
func (n Num) MarshalJSON() ([]byte, error) {
	f := float64(n)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

// UnmarshalJSON reads null as NaN.
func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*n = Num(f)
	return nil
}

// cloudEvent is the CloudEvents JSON form of an Event.
type cloudEvent struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            Alert     `json:"data"`
}

// CloudEvent returns ev as CloudEvents JSON, exactly as it is published:
// the same event always gives the same bytes.
func (ev Event) CloudEvent() ([]byte, error) {
	return json.Marshal(cloudEvent{SpecVersion: "1.0", ID: ev.ID, Source: Source, Type: ev.Type,
		Subject: ev.Data.AlertID, Time: ev.Time.UTC(), DataContentType: "application/json", Data: ev.Data})
}

// ParseCloudEvent reads an alert event from its CloudEvents JSON.
func ParseCloudEvent(b []byte) (Event, error) {
	var c cloudEvent
	if err := json.Unmarshal(b, &c); err != nil {
		return Event{}, err
	}
	return Event{ID: c.ID, Type: c.Type, Time: c.Time, Data: c.Data}, nil
}

// Category is the category of the alert's series (the NATS subject's last
// token).
func (ev Event) Category() string { return ev.Data.Series["category"] }

// RiskQuery is the value-at-risk question of ev's alert: its category's
// customers affected, since its period began.
func (ev Event) RiskQuery() customers.RiskQuery {
	since, _ := time.Parse(time.DateOnly, ev.Data.PeriodStart)
	return customers.RiskQuery{Category: ev.Category(), Customers: ev.Data.Affected, Since: since}
}

package domain

import (
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Rejection reasons carried by the *Error a Decoder returns. They become the
// Plaint-Reason header of a dead-lettered message.
const (
	ReasonOversize        = "oversize"
	ReasonInvalidUTF8     = "invalid_utf8"
	ReasonBadJSON         = "bad_json"
	ReasonUnknownType     = "unknown_type"
	ReasonReservedType    = "reserved_type"
	ReasonSubjectMismatch = "subject_mismatch"
	ReasonMissingField    = "missing_field"
	ReasonInvalidField    = "invalid_field"
	ReasonTimeRange       = "time_out_of_range"
)

// MaxEventSize is the largest payload accepted, in bytes.
const MaxEventSize = 64 << 10

// Limits on the events plaint accepts.
const (
	MaxIDLen     = 256
	MaxDetailLen = 4096
	MaxTopicLen  = 512
)

// EarliestEventTime is the earliest event time accepted.
var EarliestEventTime = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

// Decoder turns CloudEvents 1.0 JSON (structured mode) into validated Events.
// The zero value is ready to use: it allows event times up to 24h in the future
// of the wall clock and rejects alert types, which only plaint itself writes.
type Decoder struct {
	Now         func() time.Time // defaults to time.Now
	MaxFuture   time.Duration    // defaults to 24h
	AllowAlerts bool             // accept plaint's own types and pseudonyms (replaying plaint's own export)
}

// wireEvent holds the envelope fields of a scanned event as the JSON texts
// carried them (escapes decoded), empty when absent.
type wireEvent struct {
	SpecVersion      string
	ID               string
	Source           string
	Type             string
	Time             string
	Subject          string
	ContentType      string
	SchemaVersion    string // the number's text
	HasSchemaVersion bool
	Data             wireData
	DataState        uint8 // dataAbsent, dataNull, dataObject or dataWrongType
}

// wireData holds the fields of the data object. Severity, Amount and Cost
// are raw JSON texts, quotes and escapes included.
type wireData struct {
	CustomerID  string
	Category    string
	Segment     string
	Channel     string
	RootCause   string
	Product     string
	Region      string
	Severity    string
	ComplaintID string
	Resolution  string
	Reason      string
	ReferredID  string
	Competitor  string
	Amount      string
	Cost        string
	Currency    string
	Topic       string
	Detail      string
}

func reject(reason, field, format string, args ...any) *Error {
	e := FieldErrorf(field, format, args...)
	e.Reason = reason
	return e
}

// Decode parses and validates one message. natsSubject is the subject the
// message arrived on; when it is not empty it must be the subject of the
// event's type. Every failure is an *Error with Code EINVALID and a Reason.
func (d *Decoder) Decode(natsSubject string, payload []byte) (Event, error) {
	if len(payload) > MaxEventSize {
		return Event{}, reject(ReasonOversize, "", "payload is %d bytes, over the %d byte limit", len(payload), MaxEventSize)
	}
	if !utf8.Valid(payload) {
		return Event{}, reject(ReasonInvalidUTF8, "", "payload is not valid UTF-8")
	}
	sc := scanner{b: payload, dataMember: -1}
	if !sc.scanEvent() {
		return Event{}, sc.err
	}
	var w wireEvent
	sc.materialize(&w)
	w.DataState = sc.data
	ev, err := d.fromWire(natsSubject, &w)
	if err != nil {
		return ev, err
	}
	// The typical event is already canonical: the cheap test spares it
	// the full comparison (and its stack frame).
	if !canonicalAsSent(&ev, &sc, &w) {
		ev.AsSent = buildAsSent(&ev, &sc)
	}
	return ev, nil
}

func (d *Decoder) fromWire(natsSubject string, w *wireEvent) (Event, error) {
	var ev Event
	if w.SpecVersion != "1.0" {
		if w.SpecVersion == "" {
			return ev, reject(ReasonMissingField, "specversion", "is required and must be \"1.0\"")
		}
		return ev, reject(ReasonInvalidField, "specversion", "is %q; only \"1.0\" is supported", w.SpecVersion)
	}
	if w.Type == "" {
		return ev, reject(ReasonMissingField, "type", "is required")
	}
	ev.Type = ParseType(w.Type)
	if !ev.Type.Valid() {
		return ev, reject(ReasonUnknownType, "type", "unknown event type %q", w.Type)
	}
	if ev.Type.IsReserved() && !d.AllowAlerts {
		return ev, reject(ReasonReservedType, "type", "type %s is reserved for plaint itself", w.Type)
	}
	if natsSubject != "" && natsSubject != ev.Type.Subject() {
		return ev, reject(ReasonSubjectMismatch, "type", "type %q arrived on subject %q; expected %q", w.Type, natsSubject, ev.Type.Subject())
	}
	var err *Error
	if ev.ID, err = identifier("id", w.ID, MaxIDLen); err != nil {
		return ev, err
	}
	if ev.Source, err = identifier("source", w.Source, MaxIDLen); err != nil {
		return ev, err
	}
	if w.Subject != "" {
		if ev.Subject, err = identifier("subject", w.Subject, MaxIDLen); err != nil {
			return ev, err
		}
	}
	if w.ContentType != "" {
		if !JSONMediaType(w.ContentType) {
			return ev, reject(ReasonInvalidField, "datacontenttype", "is %q; only JSON data (application/json, or a +json type) is supported", w.ContentType)
		}
		ev.ContentType = w.ContentType
	}
	if w.Time == "" {
		return ev, reject(ReasonMissingField, "time", "is required (RFC 3339 event time)")
	}
	t, perr := ParseEventTime(w.Time)
	if perr != nil {
		return ev, reject(ReasonInvalidField, "time", "%v", perr)
	}
	ev.Time = t
	if err := d.checkTime(ev.Time); err != nil {
		return ev, err
	}
	ev.Schema = CurrentSchema
	if w.HasSchemaVersion {
		v, perr := strconv.Atoi(w.SchemaVersion)
		if perr != nil || v < 0 || v > CurrentSchema {
			return ev, reject(ReasonInvalidField, "schemaversion", "%s is not a supported schema version (0..%d)", w.SchemaVersion, CurrentSchema)
		}
		ev.Schema = uint8(v)
	}
	switch w.DataState {
	case dataAbsent, dataNull:
		return ev, reject(ReasonMissingField, "data", "is required")
	case dataWrongType:
		return ev, reject(ReasonBadJSON, "data", "must be a JSON object with the fields of %s", ev.Type)
	}
	if err := fillData(&ev, &w.Data); err != nil {
		return ev, err
	}
	if err := Validate(&ev); err != nil {
		return ev, err
	}
	if !d.AllowAlerts {
		if err := rejectPseudonyms(&ev); err != nil {
			return ev, err
		}
	}
	return ev, nil
}

func (d *Decoder) checkTime(t time.Time) *Error {
	now := time.Now
	if d.Now != nil {
		now = d.Now
	}
	maxFuture := d.MaxFuture
	if maxFuture == 0 {
		maxFuture = 24 * time.Hour
	}
	if t.Before(EarliestEventTime) {
		return reject(ReasonTimeRange, "time", "%s is before %s", t.Format(time.RFC3339), EarliestEventTime.Format("2006-01-02"))
	}
	if limit := now().Add(maxFuture); t.After(limit) {
		return reject(ReasonTimeRange, "time", "%s is more than %s in the future", t.Format(time.RFC3339), maxFuture)
	}
	return nil
}

// identifier checks an id-like string: required, bounded, not only
// whitespace, and without control or format characters (C0, DEL, C1, bidi
// overrides, zero-width characters), which would let different-looking ids
// look the same or the same-looking ids differ.
func identifier(field, s string, max int) (string, *Error) {
	if s == "" {
		return "", reject(ReasonMissingField, field, "is required")
	}
	if len(s) > max {
		return "", reject(ReasonInvalidField, field, "is %d bytes, over the %d byte limit", len(s), max)
	}
	blank := true
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return "", reject(ReasonInvalidField, field, "contains the control character %U", rune(c))
			}
			blank = blank && c == ' '
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) {
			return "", reject(ReasonInvalidField, field, "contains the control or format character %U", r)
		}
		blank = blank && unicode.IsSpace(r)
		i += n
	}
	if blank {
		return "", reject(ReasonInvalidField, field, "is only whitespace")
	}
	return s, nil
}

// JSONMediaType reports whether a datacontenttype names JSON data:
// application/json or an application/*+json type, with optional parameters.
func JSONMediaType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	sub, ok := strings.CutPrefix(mt, "application/")
	return ok && (sub == "json" || len(sub) > len("+json") && strings.HasSuffix(sub, "+json"))
}

// ParseEventTime parses an RFC 3339 event time into UTC. Beyond what
// time.Parse checks, the offset's hours must be 00-23 and its minutes 00-59.
func ParseEventTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err == nil && len(s) >= 6 {
		if off := s[len(s)-6:]; (off[0] == '+' || off[0] == '-') && off[3] == ':' &&
			(off[1:3] > "23" || off[4:6] > "59") {
			err = fmt.Errorf("offset %s is out of range", off)
		}
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not an RFC 3339 timestamp", s)
	}
	return t.UTC(), nil
}

// fillData checks and normalises the data fields of w into ev.
func fillData(ev *Event, w *wireData) *Error {
	d := &ev.Data
	var err *Error
	if d.CustomerID, err = optionalIdentifier("data.customer_id", w.CustomerID); err != nil {
		return err
	}
	if d.ComplaintID, err = optionalIdentifier("data.complaint_id", w.ComplaintID); err != nil {
		return err
	}
	if d.ReferredID, err = optionalIdentifier("data.referred_customer_id", w.ReferredID); err != nil {
		return err
	}
	if d.Category, err = optionalSlug("data.category", w.Category); err != nil {
		return err
	}
	if d.Segment, err = optionalSlug("data.segment", w.Segment); err != nil {
		return err
	}
	if d.Channel, err = optionalSlug("data.channel", w.Channel); err != nil {
		return err
	}
	if d.RootCause, err = optionalSlug("data.root_cause", w.RootCause); err != nil {
		return err
	}
	if d.Product, err = optionalSlug("data.product", w.Product); err != nil {
		return err
	}
	if d.Region, err = optionalSlug("data.region", w.Region); err != nil {
		return err
	}
	if d.Resolution, err = optionalSlug("data.resolution", w.Resolution); err != nil {
		return err
	}
	if d.Reason, err = optionalSlug("data.reason", w.Reason); err != nil {
		return err
	}
	if d.Competitor, err = optionalSlug("data.competitor", w.Competitor); err != nil {
		return err
	}
	if w.Severity != "" && w.Severity != "null" {
		sev, ok := ParseSeverity(strings.Trim(w.Severity, `"`))
		if !ok {
			return reject(ReasonInvalidField, "data.severity", "%s is not an integer from 1 to 5", w.Severity)
		}
		d.Severity = sev
	}
	if w.Currency != "" {
		c := strings.ToUpper(w.Currency)
		if !IsCurrency(c) {
			return reject(ReasonInvalidField, "data.currency", "%q is not an ISO 4217 currency code", w.Currency)
		}
		d.Currency = c
	}
	hasAmount := w.Amount != "" && w.Amount != "null"
	hasCost := w.Cost != "" && w.Cost != "null"
	if d.Currency != "" && !hasAmount {
		return reject(ReasonInvalidField, "data.currency", "is given without an amount")
	}
	if hasAmount || hasCost {
		if d.Currency == "" {
			d.Currency = DefaultCurrency
		}
	}
	if hasAmount {
		if d.Amount, err = moneyField("data.amount", w.Amount, d.Currency); err != nil {
			return err
		}
	}
	if hasCost {
		if d.Cost, err = moneyField("data.cost", w.Cost, d.Currency); err != nil {
			return err
		}
		d.HasCost = true
	}
	if len(w.Topic) > MaxTopicLen {
		return reject(ReasonInvalidField, "data.topic", "is longer than %d bytes", MaxTopicLen)
	}
	d.Topic = strings.TrimSpace(w.Topic)
	if len(w.Detail) > MaxDetailLen {
		return reject(ReasonInvalidField, "data.detail", "is longer than %d bytes", MaxDetailLen)
	}
	d.Detail = w.Detail
	return nil
}

// moneyField parses the raw JSON text of an amount (a number, or a string
// holding one) in the currency.
func moneyField(field, raw, currency string) (Money, *Error) {
	m, err := ParseMoney(strings.Trim(raw, `"`), currency)
	if err != nil {
		return 0, reject(ReasonInvalidField, field, "%v", err)
	}
	return m, nil
}

// optionalIdentifier is identifier for a field that may be absent (empty).
func optionalIdentifier(field, s string) (string, *Error) {
	if s == "" {
		return "", nil
	}
	return identifier(field, s, MaxIDLen)
}

// optionalSlug normalises a slug field that may be absent (empty).
func optionalSlug(field, in string) (string, *Error) {
	if in == "" {
		return "", nil
	}
	s := slug(in)
	if s == "" {
		return "", reject(ReasonInvalidField, field, "%q has no letters or digits", in)
	}
	if utf8.RuneCountInString(s) > MaxSlugLen {
		return "", reject(ReasonInvalidField, field, "is longer than %d characters", MaxSlugLen)
	}
	return s, nil
}

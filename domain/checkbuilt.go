package domain

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// CheckBuilt returns the error Decode would return for payload on the subject
// of ev's type, payload being ev.AppendJSON's rendering of ev: the check of an
// event plaint built itself (a CSV row, a synthetic event) before it is
// published, so that what the server would dead-letter is reported instead.
//
// When the rendering holds the canonical fields alone (ev.AsSent is empty)
// and every string of ev is valid UTF-8 (so that the rendering's escapes give
// it back unchanged), CheckBuilt hands Decode's own checks (fromWire) the
// fields as the rendering carries them, without scanning the JSON text,
// which was most of a decode's cost. Otherwise it decodes payload. Either
// way the checks are Decode's; FuzzCheckBuilt holds the two answers equal.
// ev is not changed.
func (d *Decoder) CheckBuilt(ev *Event, payload []byte) error {
	if !ev.AsSent.IsZero() || !ev.Type.Valid() || !validStrings(ev) {
		_, err := d.Decode(ev.Type.Subject(), payload)
		return err
	}
	if len(payload) > MaxEventSize {
		return reject(ReasonOversize, "", "payload is %d bytes, over the %d byte limit", len(payload), MaxEventSize)
	}
	w := wireOf(ev)
	if _, err := d.fromWire(ev.Type.Subject(), &w); err != nil {
		return err
	}
	return nil
}

// wireOf is what the scanner gives of ev's rendering (AppendJSON) when ev
// has no AsSent: its members' texts, escapes decoded, numbers as written.
func wireOf(ev *Event) wireEvent {
	var tb [40]byte
	w := wireEvent{
		SpecVersion: "1.0",
		ID:          ev.ID,
		Source:      ev.Source,
		Type:        ev.Type.String(),
		Time:        string(ev.Time.UTC().AppendFormat(tb[:0], time.RFC3339Nano)),
		Subject:     ev.Subject,
		ContentType: ev.ContentType,
		DataState:   dataObject,
	}
	if ev.Schema != CurrentSchema {
		w.SchemaVersion, w.HasSchemaVersion = strconv.Itoa(int(ev.Schema)), true
	}
	d := &ev.Data
	w.Data = wireData{
		CustomerID: d.CustomerID, Category: d.Category, Segment: d.Segment, Channel: d.Channel,
		RootCause: d.RootCause, Product: d.Product, Region: d.Region, ComplaintID: d.ComplaintID,
		Resolution: d.Resolution, Reason: d.Reason, ReferredID: d.ReferredID, Competitor: d.Competitor,
		Currency: d.Currency, Topic: d.Topic, Detail: d.Detail,
	}
	if d.Severity != 0 {
		w.Data.Severity = strconv.Itoa(int(d.Severity))
	}
	if d.Currency != "" {
		// The rendering writes the amounts as JSON strings, and only with a
		// currency.
		w.Data.Amount = `"` + d.Amount.Format(d.Currency) + `"`
		if d.HasCost {
			w.Data.Cost = `"` + d.Cost.Format(d.Currency) + `"`
		}
	}
	return w
}

// validStrings reports whether every string of ev is valid UTF-8: the
// rendering replaces invalid bytes with U+FFFD, as encoding/json does, so a
// decode would see other strings than ev's.
func validStrings(ev *Event) bool {
	d := &ev.Data
	for _, s := range [...]string{ev.ID, ev.Source, ev.Subject, ev.ContentType,
		d.CustomerID, d.Category, d.Segment, d.Channel, d.RootCause, d.Product, d.Region, d.ComplaintID,
		d.Resolution, d.Reason, d.ReferredID, d.Competitor, d.Currency, d.Topic, d.Detail} {
		if !utf8.ValidString(s) {
			return false
		}
	}
	return true
}

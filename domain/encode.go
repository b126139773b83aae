package domain

import (
	"encoding/json"
	"time"
)

// MarshalJSON renders the event as CloudEvents 1.0 JSON in structured mode,
// the same wire format Decode reads.
func (e Event) MarshalJSON() ([]byte, error) {
	type data struct {
		Data
		Amount string `json:"amount,omitempty"`
	}
	w := struct {
		SpecVersion   string `json:"specversion"`
		ID            string `json:"id"`
		Source        string `json:"source"`
		Type          string `json:"type"`
		Time          string `json:"time"`
		Subject       string `json:"subject,omitempty"`
		ContentType   string `json:"datacontenttype"`
		SchemaVersion *int   `json:"schemaversion,omitempty"`
		Data          data   `json:"data"`
	}{
		SpecVersion: "1.0", ID: e.ID, Source: e.Source, Type: e.Type.String(),
		Time: e.Time.UTC().Format(time.RFC3339Nano), Subject: e.Subject,
		ContentType: "application/json", Data: data{Data: e.Data},
	}
	if e.Schema != CurrentSchema {
		v := int(e.Schema)
		w.SchemaVersion = &v
	}
	if e.Data.Currency != "" {
		w.Data.Amount = e.Data.Amount.Format(e.Data.Currency)
	}
	return json.Marshal(w)
}

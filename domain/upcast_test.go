package domain

import "testing"

func TestUpcastComplaintTopicToCategory(t *testing.T) {
	for topic, want := range map[string]string{
		"Late delivery of my router": "delivery",
		"Overcharged on my INVOICE!": "billing",
		"Strange noise":              "strange-noise",
		"Rude agent":                 "service",
		"***":                        "other",
	} {
		ev := Event{Type: TypeComplaintFiled, Schema: 0, Data: Data{CustomerID: "C-1", Topic: topic}}
		Upcast(&ev)
		if ev.Schema != CurrentSchema || ev.Data.Category != want {
			t.Errorf("topic %q: schema %d category %q, want %q", topic, ev.Schema, ev.Data.Category, want)
		}
		if err := Validate(&ev); err != nil {
			t.Errorf("topic %q: upcast event invalid: %v", topic, err)
		}
	}
	// Other types only move up a version.
	ev := Event{Type: TypeCustomerAcquired, Schema: 0, Data: Data{CustomerID: "C-1", Segment: "smb"}}
	Upcast(&ev)
	if ev.Schema != CurrentSchema || ev.Data.Category != "" {
		t.Errorf("acquired upcast to %+v", ev)
	}
}

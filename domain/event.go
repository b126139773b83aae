package domain

import "time"

// CurrentSchema is the data schema version this build writes and reads natively.
// Older versions are brought to this shape by upcasters on read.
const CurrentSchema = 1

// Event is one fact that happened to a customer, as published by a source system.
// (Source, ID) identifies it for ever.
type Event struct {
	ID      string
	Source  string
	Type    Type
	Time    time.Time // event time, when it happened (UTC)
	Subject string    // CloudEvents subject, usually the customer id
	Schema  uint8     // data schema version; CurrentSchema unless an old producer sent it
	// ContentType is the datacontenttype attribute as sent ("" when absent):
	// application/json, with parameters or a +json suffix type.
	ContentType string
	Data        Data
	// AsSent holds what the producer sent that the canonical fields above do
	// not reproduce: extension attributes, data fields plaint does not know,
	// and the as-sent text of known fields whose canonical form differs
	// ("Billing / Invoices" for the slug billing-invoices, an amount sent as
	// the number 12.5, a time with an offset, a defaulted currency). The
	// canonical fields are what projections use; rendering lays AsSent over
	// them so that output is JSON-equal to the input. Setting it to the zero
	// AsSent keeps the canonical fields only: erasing a customer does that.
	AsSent AsSent
}

// Data holds the type-specific fields of an event. Slug fields are normalised
// (see Slug); an empty field is absent. Which fields a type requires is defined
// by the validation in validate.go.
type Data struct {
	CustomerID  string `json:"customer_id,omitempty"`
	Category    string `json:"category,omitempty"`
	Segment     string `json:"segment,omitempty"`
	Channel     string `json:"channel,omitempty"`
	RootCause   string `json:"root_cause,omitempty"`
	Product     string `json:"product,omitempty"`
	Region      string `json:"region,omitempty"`
	Severity    uint8  `json:"severity,omitempty"`
	ComplaintID string `json:"complaint_id,omitempty"`
	Resolution  string `json:"resolution,omitempty"`
	Reason      string `json:"reason,omitempty"`
	ReferredID  string `json:"referred_customer_id,omitempty"`
	// Competitor is the slug of the competitor a defected customer went to.
	Competitor string `json:"competitor,omitempty"`
	// Amount is present when Currency is set; it is in the currency's
	// minor units.
	Amount   Money  `json:"-"`
	Currency string `json:"currency,omitempty"`
	// Cost is what a recorded revenue cost, in the minor units of Currency;
	// HasCost says whether it is present (a cost of zero is a value).
	Cost    Money `json:"-"`
	HasCost bool  `json:"-"`
	// Topic is the free-text complaint topic of schema 0 complaint.filed events.
	// The schema 0→1 upcaster turns it into Category.
	Topic string `json:"topic,omitempty"`
	// Detail is a human explanation, used by alert events.
	Detail string `json:"detail,omitempty"`
}

// Key returns the identity of the event: its source and id.
func (e *Event) Key() (source, id string) { return e.Source, e.ID }

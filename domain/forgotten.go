package domain

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Erasure of a customer (GDPR art. 17). plaint replaces an erased customer's
// id by a pseudonym everywhere it keeps it, so that every count stays the
// same, and records the erasure itself as a customer.forgotten event that
// holds nothing personal.

// PseudonymPrefix starts every pseudonym; "erased-" followed by digits is
// reserved, and the decoder rejects it as a customer id from outside.
const PseudonymPrefix = "erased-"

// ForgetSource is the source of customer.forgotten events.
const ForgetSource = "plaint/forget"

// MaxForgetReasonLen bounds the free-text reason of an erasure.
const MaxForgetReasonLen = 1024

// Pseudonym returns the pseudonym of the n-th erasure of a log (n from 1):
// n is the erasure's ordinal among the customer.forgotten events of the log,
// so that every node that applies the same erasures in the same order agrees.
func Pseudonym(n uint64) string { return PseudonymPrefix + strconv.FormatUint(n, 10) }

// IsPseudonym reports whether s has the form of a pseudonym ("erased-" and
// digits).
func IsPseudonym(s string) bool {
	rest, ok := strings.CutPrefix(s, PseudonymPrefix)
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// rejectPseudonyms refuses an event from outside whose customer id or
// referred customer id is a pseudonym: it would be counted as the erased
// customer's.
func rejectPseudonyms(ev *Event) *Error {
	for _, f := range []struct{ name, v string }{
		{"data.customer_id", ev.Data.CustomerID}, {"data.referred_customer_id", ev.Data.ReferredID},
	} {
		if IsPseudonym(f.v) {
			return reject(ReasonInvalidField, f.name, "%q has the form of an erased customer's pseudonym (%s<n>), which is reserved", f.v, PseudonymPrefix)
		}
	}
	return nil
}

// Forgotten is what a customer.forgotten event says: which pseudonym now
// stands for the erased customer, why, who asked and when. It never holds
// the customer's id.
type Forgotten struct {
	Pseudonym   string
	Reason      string // free text given by the operator
	RequestedBy string // the operator: OS user of the CLI, or the HTTP principal
	Time        time.Time
}

// forgottenDetail is the JSON kept in the event's detail.
type forgottenDetail struct {
	Reason      string `json:"reason,omitempty"`
	RequestedBy string `json:"requested_by"`
}

// Check refuses an erasure record that would keep what it erases: a reason
// or requester that contains the customer's id, or one too long.
func (f *Forgotten) Check(customerID string) error {
	if !IsPseudonym(f.Pseudonym) {
		return FieldErrorf("pseudonym", "%q is not a pseudonym", f.Pseudonym)
	}
	if len(f.Reason) > MaxForgetReasonLen {
		return FieldErrorf("reason", "is %d bytes, over the %d byte limit", len(f.Reason), MaxForgetReasonLen)
	}
	if strings.TrimSpace(f.RequestedBy) == "" {
		return FieldErrorf("requested_by", "is required: who asked for the erasure")
	}
	if len(f.RequestedBy) > MaxIDLen {
		return FieldErrorf("requested_by", "is %d bytes, over the %d byte limit", len(f.RequestedBy), MaxIDLen)
	}
	if customerID != "" {
		for _, v := range []struct{ name, s string }{{"reason", f.Reason}, {"requested_by", f.RequestedBy}} {
			if strings.Contains(v.s, customerID) {
				return FieldErrorf(v.name, "contains the customer id; the record of an erasure must not keep what it erases")
			}
		}
	}
	return nil
}

// Event returns the customer.forgotten event recording f. Its id is the
// pseudonym, so that the same erasure applied twice (or on two nodes) is one
// event.
func (f *Forgotten) Event() Event {
	detail, _ := json.Marshal(forgottenDetail{Reason: f.Reason, RequestedBy: f.RequestedBy})
	return Event{
		ID: f.Pseudonym, Source: ForgetSource, Type: TypeCustomerForgotten, Time: f.Time.UTC(),
		Subject: f.Pseudonym, Schema: CurrentSchema,
		Data: Data{CustomerID: f.Pseudonym, Detail: string(detail)},
	}
}

// ParseForgotten reads a customer.forgotten event.
func ParseForgotten(ev *Event) (Forgotten, error) {
	if ev.Type != TypeCustomerForgotten {
		return Forgotten{}, fmt.Errorf("%s is not a %s event", ev.Type, TypeCustomerForgotten)
	}
	var d forgottenDetail
	if ev.Data.Detail != "" {
		if err := json.Unmarshal([]byte(ev.Data.Detail), &d); err != nil {
			return Forgotten{}, fmt.Errorf("detail of %s %s: %w", ev.Type, ev.ID, err)
		}
	}
	return Forgotten{Pseudonym: ev.Data.CustomerID, Reason: d.Reason, RequestedBy: d.RequestedBy, Time: ev.Time}, nil
}

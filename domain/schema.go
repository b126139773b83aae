package domain

import (
	"slices"
	"strings"
)

// DataFields lists the data fields plaint knows, by wire name. Any other
// data field is kept as sent (see AsSent) without a meaning to plaint.
var DataFields = []string{"customer_id", "category", "segment", "channel", "root_cause", "product", "region",
	"severity", "complaint_id", "resolution", "reason", "referred_customer_id", "competitor", "amount", "cost",
	"currency", "topic", "detail"}

// IsDataField reports whether name is a data field plaint knows.
func IsDataField(name string) bool { return slices.Contains(DataFields, name) }

// commonFields may be carried by every type: the dimensions a producer can
// attach to any fact about a customer, and free-text detail.
var commonFields = []string{"customer_id", "category", "segment", "channel", "root_cause", "product", "region", "detail"}

// typeFields lists, beyond commonFields, the data fields each type carries.
// Validate rejects a known field on a type that does not carry it, so that a
// spec can tell at once that a measure can never have a value.
var typeFields = map[Type][]string{
	TypeComplaintFiled:    {"severity", "complaint_id", "topic", "amount", "currency"},      // amount: disputed
	TypeComplaintResolved: {"severity", "complaint_id", "resolution", "amount", "currency"}, // amount: refunded
	TypeCustomerAcquired:  {"amount", "currency"},
	TypeCustomerRenewed:   {"reason", "amount", "currency"},
	TypeCustomerDefected:  {"reason", "competitor", "amount", "currency"},
	TypeReferralMade:      {"referred_customer_id"},
	TypeRevenueRecorded:   {"amount", "cost", "currency"},
}

// Carries reports whether events of type t can carry the known data field
// name. Alert events, written by plaint itself, carry any.
func (t Type) Carries(name string) bool {
	if t.IsAlert() {
		return IsDataField(name)
	}
	return slices.Contains(commonFields, name) || slices.Contains(typeFields[t], name)
}

// TypesCarrying returns the names of the types that carry the known data
// field name, in numeric order.
func TypesCarrying(name string) []string {
	var out []string
	for _, t := range Types() {
		if !t.IsAlert() && t.Carries(name) {
			out = append(out, t.String())
		}
	}
	return out
}

// fieldMask is a set of known data fields: bit i is DataFields[i].
type fieldMask uint32

func maskOf(names ...string) fieldMask {
	var m fieldMask
	for _, n := range names {
		m |= 1 << slices.Index(DataFields, n)
	}
	return m
}

// carried is, per type, the set of fields it carries.
var carried = func() (t [256]fieldMask) {
	for _, ty := range Types() {
		if ty.IsAlert() {
			t[ty] = ^fieldMask(0)
			continue
		}
		t[ty] = maskOf(commonFields...) | maskOf(typeFields[ty]...)
	}
	return t
}()

// present returns the set of known data fields d holds.
func (d *Data) present() fieldMask {
	var m fieldMask
	set := func(i int, ok bool) {
		if ok {
			m |= 1 << i
		}
	}
	// The order of DataFields.
	set(0, d.CustomerID != "")
	set(1, d.Category != "")
	set(2, d.Segment != "")
	set(3, d.Channel != "")
	set(4, d.RootCause != "")
	set(5, d.Product != "")
	set(6, d.Region != "")
	set(7, d.Severity != 0)
	set(8, d.ComplaintID != "")
	set(9, d.Resolution != "")
	set(10, d.Reason != "")
	set(11, d.ReferredID != "")
	set(12, d.Competitor != "")
	set(13, d.Currency != "")
	set(14, d.HasCost)
	set(15, d.Currency != "")
	set(16, d.Topic != "")
	set(17, d.Detail != "")
	return m
}

// carriedBy checks that t carries every known field d holds.
func (d *Data) carriedBy(t Type) *Error {
	extra := d.present() &^ carried[t]
	if extra == 0 {
		return nil
	}
	for i, name := range DataFields {
		if extra&(1<<i) != 0 {
			return reject(ReasonInvalidField, "data."+name, "%s events carry no %s (it is a field of %s)",
				t, name, strings.Join(TypesCarrying(name), ", "))
		}
	}
	return nil
}

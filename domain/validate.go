package domain

import "strconv"

// ParseSeverity reads a severity written as an integer from 1 to 5; ok is
// false for anything else.
func ParseSeverity(s string) (sev uint8, ok bool) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 5 {
		return 0, false
	}
	return uint8(n), true
}

// Validate checks that an event carries the fields its type and schema
// require, only fields its type carries (see Type.Carries), a currency from
// the ISO 4217 list and amounts within range. Decode calls it; code that
// builds events by hand (the CSV importer, the synthetic generator, the
// detector) calls it too, and the event log checks it on append.
func Validate(ev *Event) error {
	if err := validate(ev); err != nil {
		return err
	}
	d := &ev.Data
	if err := d.carriedBy(ev.Type); err != nil {
		return err
	}
	if d.Currency != "" {
		if !IsCurrency(d.Currency) {
			return reject(ReasonInvalidField, "data.currency", "%q is not an ISO 4217 currency code", d.Currency)
		}
		if err := CheckAmount(d.Amount, d.Currency); err != nil {
			return reject(ReasonInvalidField, "data.amount", "%v", err)
		}
		if d.HasCost {
			if err := CheckAmount(d.Cost, d.Currency); err != nil {
				return reject(ReasonInvalidField, "data.cost", "%v", err)
			}
		}
	} else if d.HasCost {
		return reject(ReasonMissingField, "data.amount", "is required with a cost (the cost is in the amount's currency)")
	}
	return nil
}

// ValidateFormat1 checks an event read from a format-1 record by the rules it
// was accepted under: the required fields only. Those logs may hold fields a
// type does not carry, three-letter currencies outside ISO 4217 and larger
// amounts, which read back unchanged.
func ValidateFormat1(ev *Event) error { return validate(ev) }

// validate checks the required fields, the severity range and the schema.
func validate(ev *Event) error {
	d := &ev.Data
	need := func(field, v string) *Error {
		if v == "" {
			return reject(ReasonMissingField, "data."+field, "is required for %s", ev.Type)
		}
		return nil
	}
	var checks []*Error
	switch ev.Type {
	case TypeComplaintFiled:
		checks = append(checks, need("customer_id", d.CustomerID))
		if ev.Schema == 0 {
			checks = append(checks, need("topic", d.Topic))
		} else {
			checks = append(checks, need("category", d.Category))
		}
	case TypeComplaintResolved:
		checks = append(checks, need("customer_id", d.CustomerID), need("complaint_id", d.ComplaintID))
	case TypeCustomerAcquired:
		checks = append(checks, need("customer_id", d.CustomerID), need("segment", d.Segment))
	case TypeCustomerRenewed, TypeCustomerDefected:
		checks = append(checks, need("customer_id", d.CustomerID))
	case TypeReferralMade:
		checks = append(checks, need("customer_id", d.CustomerID), need("referred_customer_id", d.ReferredID))
	case TypeRevenueRecorded:
		checks = append(checks, need("customer_id", d.CustomerID))
		if d.Currency == "" {
			checks = append(checks, reject(ReasonMissingField, "data.amount", "is required for %s", ev.Type))
		}
	case TypeAlertRaised, TypeAlertUpdated, TypeAlertCleared:
		checks = append(checks, need("category", d.Category))
	case TypeCustomerForgotten:
		checks = append(checks, need("customer_id", d.CustomerID))
	default:
		return reject(ReasonUnknownType, "type", "unknown event type %d", ev.Type)
	}
	for _, c := range checks {
		if c != nil {
			return c
		}
	}
	if d.Severity > 5 {
		return reject(ReasonInvalidField, "data.severity", "%d is not from 1 to 5", d.Severity)
	}
	if ev.Schema > CurrentSchema {
		return reject(ReasonInvalidField, "schemaversion", "%d is newer than this build understands (%d)", ev.Schema, CurrentSchema)
	}
	return nil
}

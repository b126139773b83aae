package domain

// Validate checks that an event carries the fields its type and schema require.
// Decode calls it; code that builds events by hand (the CSV importer, the
// synthetic generator, the detector) calls it too.
func Validate(ev *Event) error {
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

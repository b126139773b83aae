package domain

// Type is the CloudEvents type of a plaint event, for example "complaint.filed".
type Type uint8

// The event types of wire format v1, and the alert events plaint writes itself.
// The numeric values are stored in the log and must never be reused.
const (
	TypeUnknown           Type = 0
	TypeComplaintFiled    Type = 1
	TypeComplaintResolved Type = 2
	TypeCustomerAcquired  Type = 3
	TypeCustomerRenewed   Type = 4
	TypeCustomerDefected  Type = 5
	TypeReferralMade      Type = 6
	TypeRevenueRecorded   Type = 7
	TypeAlertRaised       Type = 8
	TypeAlertUpdated      Type = 9
	TypeAlertCleared      Type = 10
	// TypeCustomerForgotten records that plaint erased a customer's personal
	// data (see Forgotten); plaint's forget command writes it.
	TypeCustomerForgotten Type = 11
)

var typeNames = [...]string{
	TypeComplaintFiled:    "complaint.filed",
	TypeComplaintResolved: "complaint.resolved",
	TypeCustomerAcquired:  "customer.acquired",
	TypeCustomerRenewed:   "customer.renewed",
	TypeCustomerDefected:  "customer.defected",
	TypeReferralMade:      "referral.made",
	TypeRevenueRecorded:   "revenue.recorded",
	TypeAlertRaised:       "alert.raised",
	TypeAlertUpdated:      "alert.updated",
	TypeAlertCleared:      "alert.cleared",
	TypeCustomerForgotten: "customer.forgotten",
}

// Types lists every known type in numeric order.
func Types() []Type {
	out := make([]Type, 0, len(typeNames)-1)
	for t := TypeComplaintFiled; int(t) < len(typeNames); t++ {
		out = append(out, t)
	}
	return out
}

// String returns the CloudEvents type name, or "unknown".
func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return "unknown"
}

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t != TypeUnknown && int(t) < len(typeNames) }

// IsAlert reports whether t is one of the alert types written by plaint's detector.
func (t Type) IsAlert() bool { return t >= TypeAlertRaised && t <= TypeAlertCleared }

// IsReserved reports whether only plaint itself writes events of type t (the
// alert types and customer.forgotten); they are rejected from outside.
func (t Type) IsReserved() bool { return t.IsAlert() || t == TypeCustomerForgotten }

// ParseType returns the Type named s, or TypeUnknown.
func ParseType(s string) Type {
	for i, n := range typeNames {
		if n != "" && n == s {
			return Type(i)
		}
	}
	return TypeUnknown
}

// SubjectPrefix is the NATS subject prefix events are published under.
const SubjectPrefix = "plaint.events."

// Subject returns the NATS subject events of type t are published to.
func (t Type) Subject() string {
	if int(t) < len(typeSubjects) && typeSubjects[t] != "" {
		return typeSubjects[t]
	}
	return SubjectPrefix + t.String()
}

// typeSubjects holds the subject of each type, so that publishing and
// decoding an event do not build it again.
var typeSubjects = func() (subjects [len(typeNames)]string) {
	for t, n := range typeNames {
		if n != "" {
			subjects[t] = SubjectPrefix + n
		}
	}
	return subjects
}()

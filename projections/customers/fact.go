package customers

import (
	"hash/fnv"

	"github.com/plaint/plaint/domain"
)

// Fact is one event as the state folds it: its type, event time, the
// customer's stable key and its fields as ids of the state's Table. A
// projection over the event log fills Facts straight from stored records;
// FactOf makes one from a domain.Event. Its fields are ordered so that it
// takes 64 bytes: a scan writes ten million of them in a build.
type Fact struct {
	Time   int64 // event time, Unix ns
	Amount domain.Money
	Cost   domain.Money
	// Customer is the customer's stable key (never 0): the log's dictionary
	// id of its customer_id, so that an erased customer, whose dictionary
	// entry becomes erased-<n>, keeps its key and reads its pseudonym.
	Customer   uint32
	Segment    uint32
	Category   uint32
	Channel    uint32
	Reason     uint32
	Competitor uint32
	Currency   uint32 // 0: no amount
	// Complaint is a hash of the complaint_id (0: none), which pairs a
	// complaint.resolved with the complaint.filed it resolves.
	Complaint uint32
	Type      domain.Type
	Severity  uint8
	HasCost   bool
}

// Folded reports whether the state keeps events of type t.
func Folded(t domain.Type) bool {
	switch t {
	case domain.TypeComplaintFiled, domain.TypeComplaintResolved, domain.TypeCustomerAcquired,
		domain.TypeCustomerRenewed, domain.TypeCustomerDefected, domain.TypeReferralMade, domain.TypeRevenueRecorded:
		return true
	}
	return false
}

// ComplaintHash returns the hash Fact.Complaint holds for a complaint_id.
func ComplaintHash(id []byte) uint32 {
	if len(id) == 0 {
		return 0
	}
	h := fnv.New32a()
	h.Write(id)
	if v := h.Sum32(); v != 0 {
		return v
	}
	return 1
}

// FactOf returns the fact of ev for the customer key, interning its strings
// in tab. ok is false for events the state does not keep.
func FactOf(ev *domain.Event, key uint32, tab *Table) (f Fact, ok bool) {
	if !Folded(ev.Type) || key == 0 {
		return f, false
	}
	d := &ev.Data
	f = Fact{Type: ev.Type, Time: ev.Time.UnixNano(), Customer: key, Severity: d.Severity, HasCost: d.HasCost,
		Amount: d.Amount, Cost: d.Cost, Complaint: ComplaintHash([]byte(d.ComplaintID))}
	for _, p := range [...]struct {
		dst *uint32
		s   string
	}{{&f.Segment, d.Segment}, {&f.Category, d.Category}, {&f.Channel, d.Channel}, {&f.Reason, d.Reason},
		{&f.Competitor, d.Competitor}, {&f.Currency, d.Currency}} {
		if p.s != "" {
			*p.dst = tab.Intern(p.s)
		}
	}
	return f, true
}

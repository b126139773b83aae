package domain

import (
	"fmt"
	"strings"
)

// Upcaster turns the data of one event type from schema version From into
// From+1, in place.
type Upcaster struct {
	Type Type
	From uint8
	Up   func(ev *Event)
}

// upcasters is the registry, keyed by type and source schema version. A type
// with no upcaster for a version only has its version number raised.
var upcasters = map[[2]uint8]Upcaster{}

// RegisterUpcaster adds u to the registry. It panics on a second upcaster for
// the same type and version, which would be a programming error.
func RegisterUpcaster(u Upcaster) {
	k := [2]uint8{uint8(u.Type), u.From}
	if _, dup := upcasters[k]; dup {
		panic(fmt.Sprintf("domain: two upcasters for %s schema %d", u.Type, u.From))
	}
	upcasters[k] = u
}

func init() {
	RegisterUpcaster(Upcaster{Type: TypeComplaintFiled, From: 0, Up: upcastComplaintTopic})
}

// Upcast brings ev to CurrentSchema by applying the registered
// upcasters in order. Events already current are left alone.
func Upcast(ev *Event) {
	for ev.Schema < CurrentSchema {
		if u, ok := upcasters[[2]uint8{uint8(ev.Type), ev.Schema}]; ok {
			u.Up(ev)
		}
		ev.Schema++
	}
}

// upcastComplaintTopic is the schema 0→1 upcaster of complaint.filed: v0
// producers sent a free-text topic where v1 has a category slug.
func upcastComplaintTopic(ev *Event) {
	if ev.Data.Category == "" {
		ev.Data.Category = CategoryOfTopic(ev.Data.Topic)
	}
}

// topicTaxonomy maps words of a free-text topic to canonical category slugs.
// Earlier rules win, so the more specific come first.
var topicTaxonomy = []struct {
	category string
	words    []string
}{
	{"billing", []string{"bill", "billing", "invoice", "invoices", "charge", "charged", "overcharged", "payment", "payments", "refund", "fee", "fees", "price", "pricing", "tariff"}},
	{"delivery", []string{"delivery", "delivered", "deliver", "shipping", "shipment", "courier", "parcel", "package", "late", "delayed", "installation", "install"}},
	{"outage", []string{"outage", "down", "offline", "disconnected", "disconnect", "interruption", "blackout"}},
	{"technical", []string{"slow", "speed", "error", "bug", "crash", "router", "modem", "wifi", "signal", "connection", "broken", "faulty", "defect", "defective"}},
	{"account", []string{"account", "login", "password", "access", "locked", "identity", "fraud", "credit", "report"}},
	{"service", []string{"rude", "staff", "agent", "support", "service", "wait", "waiting", "hold", "callback", "unhelpful"}},
	{"contract", []string{"contract", "cancel", "cancellation", "terms", "renewal", "termination"}},
}

// CategoryOfTopic maps a free-text topic to a canonical category slug: the
// first taxonomy category one of whose words appears in it, or else the slug
// of the whole topic (Slug), cut to MaxSlugLen.
func CategoryOfTopic(topic string) string {
	words := strings.FieldsFunc(strings.ToLower(topic), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	})
	for _, rule := range topicTaxonomy {
		for _, w := range words {
			for _, k := range rule.words {
				if w == k {
					return rule.category
				}
			}
		}
	}
	s := Slug(topic)
	if len(s) > MaxSlugLen {
		s = strings.TrimRight(s[:MaxSlugLen], "-")
	}
	if s == "" {
		s = "other"
	}
	return s
}

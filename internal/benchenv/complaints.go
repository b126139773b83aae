package benchenv

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"

	"github.com/plaint/plaint/domain"
)

// Vocabularies of the synthetic complaints: realistic cardinalities for the
// dictionary and the projections.
var (
	Sources    = []string{"crm/eu-west", "crm/us-east", "callcenter/berlin", "callcenter/austin", "webform"}
	Categories = []string{"billing", "outage", "slow-speed", "installation", "router", "contract", "support-wait",
		"price-increase", "roaming", "porting", "cancellation", "invoice-error", "data-cap", "tv-channels",
		"mobile-coverage", "refund", "technician-no-show", "account-access", "fraud", "privacy"}
	Segments   = []string{"consumer", "smb", "enterprise", "public-sector"}
	Channels   = []string{"phone", "email", "chat", "shop", "social"}
	RootCauses = []string{"process", "product", "people", "network", "partner", "unknown"}
	Products   = []string{"fiber", "dsl", "cable", "mobile", "tv", "bundle-m", "bundle-l", "iot", "voip", "prepaid"}
	Regions    = []string{"north", "south", "east", "west", "central", "coast", "mountain", "capital"}
)

// Complaints generates synthetic complaint.filed events for benchmarks:
// random UUIDs, 100k customers, two years of event times from 2024-11. The
// same seed gives the same events.
type Complaints struct {
	r     *rand.Rand
	start time.Time
}

// NewComplaints returns a generator seeded with seed.
func NewComplaints(seed uint64) *Complaints {
	return &Complaints{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), start: time.Date(2024, 11, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *Complaints) pick(xs []string) string { return xs[c.r.IntN(len(xs))] }

// Next returns the next event.
func (c *Complaints) Next() domain.Event {
	var id uuid.UUID
	for i := range id {
		id[i] = byte(c.r.Uint32())
	}
	id[6] = id[6]&0x0f | 0x40
	id[8] = id[8]&0x3f | 0x80
	cust := fmt.Sprintf("C-%06d", c.r.IntN(100_000))
	return domain.Event{
		ID: id.String(), Source: c.pick(Sources), Type: domain.TypeComplaintFiled,
		Time:    c.start.Add(time.Duration(c.r.Int64N(int64(730 * 24 * time.Hour)))).Truncate(time.Second),
		Subject: cust, Schema: domain.CurrentSchema,
		Data: domain.Data{CustomerID: cust, Category: c.pick(Categories), Segment: c.pick(Segments),
			Channel: c.pick(Channels), Severity: uint8(1 + c.r.IntN(5)), RootCause: c.pick(RootCauses),
			Product: c.pick(Products), Region: c.pick(Regions)},
	}
}

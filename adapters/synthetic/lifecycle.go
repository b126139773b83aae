package synthetic

import (
	"fmt"
	"time"

	"github.com/plaint/plaint/domain"
)

// acquire adds a new customer in month m, sometimes referred by an active
// customer.
func (g *generator) acquire(m int, from, to time.Time) {
	seg := &segments[g.rnd.index(segmentShares)]
	c := &customer{
		id:       fmt.Sprintf("C-%07d", len(g.customers)+1),
		seg:      seg,
		region:   g.rnd.pick(regions),
		product:  g.rnd.pick(seg.products),
		channel:  g.rnd.pick(seg.channels),
		month:    m,
		friction: g.rnd.lognormal(0.7),
		revenue:  g.rnd.between(seg.revenueMin, seg.revenueMax),
	}
	c.acquired = g.timeIn(from, from, to)
	channel := c.channel
	if m > 0 && len(g.customers) > 0 && g.rnd.chance(seg.referral*12) {
		if ref := g.customers[g.rnd.intn(len(g.customers))]; !ref.defected && ref.acquired.Before(c.acquired) {
			channel = "referral"
			at := c.acquired.Add(-time.Duration(1+g.rnd.intn(72*3600)) * time.Second)
			at = latest(at, ref.acquired, from)
			g.add(g.event(domain.TypeReferralMade, "crm", at, ref, domain.Data{
				ReferredID: c.id, Segment: ref.seg.name, Region: ref.region, Product: ref.product,
			}))
		}
	}
	g.customers = append(g.customers, c)
	g.add(g.event(domain.TypeCustomerAcquired, "crm", c.acquired, c, domain.Data{
		Segment: seg.name, Channel: channel, Region: c.region, Product: c.product,
	}))
}

var segmentShares = func() []float64 {
	out := make([]float64, len(segments))
	for i, s := range segments {
		out[i] = s.share
	}
	return out
}()

// file records a complaint by c at time at, and its resolution if it comes.
func (g *generator) file(c *customer, at time.Time, cat categoryProfile) {
	g.complaint++
	id := fmt.Sprintf("CMP-%08d", g.complaint)
	sev := cat.severity + []int{-1, 0, 0, 0, 1}[g.rnd.intn(5)]
	if c.seg.name == "enterprise" && g.rnd.chance(0.3) {
		sev++
	}
	sev = min(max(sev, 1), 5)
	channel := c.channel
	if g.rnd.chance(0.3) {
		channel = g.rnd.pick(c.seg.channels)
	}
	g.add(g.event(domain.TypeComplaintFiled, "support", at, c, domain.Data{
		Category: cat.name, Segment: c.seg.name, Channel: channel, RootCause: g.rnd.pick(cat.causes),
		Product: c.product, Region: c.region, Severity: uint8(sev), ComplaintID: id,
	}))
	k := complaint{at: at, severity: uint8(sev), category: cat.name}
	if g.rnd.chance(0.95 - 0.07*float64(sev-1)) {
		mean := 1 + 1.5*float64(sev)
		if c.seg.name == "enterprise" || c.seg.name == "public-sector" {
			mean /= 2
		}
		k.resolved = at.Add(time.Duration(g.rnd.exponential(mean)*24*3600+600) * time.Second).Truncate(time.Second)
		g.add(g.event(domain.TypeComplaintResolved, "support", k.resolved, c, domain.Data{
			ComplaintID: id, Category: cat.name, Segment: c.seg.name, Channel: channel,
			Resolution: g.rnd.pick(resolutions), Region: c.region, Product: c.product,
		}))
	}
	c.recent = append(c.recent, k)
}

// defect records that c leaves at time at; a recent complaint is often the
// reason given.
func (g *generator) defect(c *customer, at time.Time) {
	c.defected = true
	g.sum.Defected++
	reason := g.rnd.pick(defectionReasons)
	if n := len(c.recent); n > 0 && g.rnd.chance(0.6) {
		reason = c.recent[n-1].category
	}
	competitor := ""
	if reason == "competitor-offer" || g.rnd.chance(0.35) {
		competitor = g.rnd.pick(competitors)
	}
	d := domain.Data{Segment: c.seg.name, Region: c.region, Product: c.product, Reason: reason, Competitor: competitor}
	// A quarter of the defections state no value: the review falls back to
	// the customer's revenue of the year before.
	if !g.rnd.chance(0.25) {
		d.Amount, d.Currency = domain.Money(c.revenue*12), Currency
	}
	c.defectedAt = at
	g.add(g.event(domain.TypeCustomerDefected, "crm", at, c, d))
}

// winBack is the monthly chance that a customer who left comes back.
const winBack = 0.03

// comeBack acquires c again in month m, after it defected: a new tenure.
func (g *generator) comeBack(c *customer, m int, from, to time.Time) {
	c.defected, c.recent, c.month = false, nil, m
	c.acquired = g.timeIn(c.defectedAt.Add(time.Hour), from, to)
	g.sum.CameBack++
	g.add(g.event(domain.TypeCustomerAcquired, "crm", c.acquired, c, domain.Data{
		Segment: c.seg.name, Channel: "win-back", Region: c.region, Product: c.product,
	}))
}

// renew records that c renewed its yearly contract.
func (g *generator) renew(c *customer, at time.Time) {
	c.revenue += c.revenue * int64(g.rnd.intn(8)) / 100 // yearly price step
	reason := ""
	if g.rnd.chance(0.7) {
		reason = g.rnd.pick(renewalReasons)
	}
	g.add(g.event(domain.TypeCustomerRenewed, "crm", at, c, domain.Data{
		Segment: c.seg.name, Region: c.region, Product: c.product, Reason: reason,
		Amount: domain.Money(c.revenue * 12), Currency: Currency,
	}))
}

// bill records c's revenue for month m on the last day of the month,
// prorated in the month of acquisition.
func (g *generator) bill(c *customer, m int, from, to time.Time) {
	amount := c.revenue * (95 + int64(g.rnd.intn(11))) / 100
	if c.month == m {
		amount = amount * int64(to.Sub(c.acquired)) / int64(to.Sub(from))
	}
	if amount <= 0 {
		return
	}
	at := to.Add(-22 * time.Hour).Add(time.Duration(g.rnd.intn(3600)) * time.Second)
	at = latest(at, c.acquired)
	// Cost of serving the customer: 45-80% of the revenue, more for the
	// customers who complain most.
	cost := amount * int64(45+g.rnd.intn(20)+int(min(c.friction, 3)*5)) / 100
	g.add(g.event(domain.TypeRevenueRecorded, "billing", at, c, domain.Data{
		Segment: c.seg.name, Region: c.region, Product: c.product,
		Amount: domain.Money(amount), Currency: Currency, Cost: domain.Money(cost), HasCost: true,
	}))
}

package synthetic

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/plaint/plaint/domain"
)

// Summary counts what Generate produced.
type Summary struct {
	Events    int64
	ByType    map[domain.Type]int64
	Customers int
	Defected  int
	// CameBack counts the acquisitions of customers who had left; Late the
	// events delivered after later ones; Duplicates the events sent twice.
	CameBack   int
	Late       int64
	Duplicates int64
	// Injected counts the complaints the injections added.
	Injected int64
	Start    time.Time // first instant of the history
	End      time.Time // end of the history (exclusive)
}

// customer is the simulation state of one customer.
type customer struct {
	id       string
	seg      *segmentProfile
	region   string
	product  string
	channel  string
	acquired time.Time
	month    int     // month index of acquisition
	friction float64 // propensity to complain
	revenue  int64   // monthly revenue in minor units
	defected bool
	// defectedAt is the time of the last defection.
	defectedAt time.Time
	recent     []complaint // complaints of the last few months
}

// complaint is what a customer remembers of one of its complaints.
type complaint struct {
	at       time.Time
	resolved time.Time // zero: never resolved within the history
	severity uint8
	category string
}

// generator holds one run's state.
type generator struct {
	cfg       Config
	rnd       *random
	start     time.Time
	end       time.Time
	customers []*customer
	buckets   [][][]domain.Event // events waiting for their month, by month index, in chunks
	chunks    [][]domain.Event   // empty chunks of sent months, reused
	injected  [][]domain.Event   // injected complaints (Config.Inject), likewise
	complaint int                // complaint number sequence
	injRnd    *random            // draws of the injections (Config.Inject)
	sum       Summary
	cum       []float64 // cumulative day weights of month cumFor
	cumFor    time.Time
}

// Currency is the currency of generated revenue.
const Currency = "EUR"

// Generate simulates the history cfg describes and calls emit with each
// event, in event-time order within each month and month by month, except
// the share cfg.Late of events, delivered a month or two late, and the
// share cfg.Duplicates sent twice. Only one
// month of events is held in memory at a time. Same cfg, same events. It
// stops at the first error emit returns, or when ctx ends.
func Generate(ctx context.Context, cfg Config, emit func(*domain.Event) error) (Summary, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	g := &generator{
		cfg:      cfg,
		rnd:      newRandom(cfg.Seed),
		start:    cfg.End.AddDate(0, 1-cfg.Months, 0),
		end:      cfg.End.AddDate(0, 1, 0),
		buckets:  make([][][]domain.Event, cfg.Months),
		injected: make([][]domain.Event, cfg.Months),
		sum:      Summary{ByType: map[domain.Type]int64{}},
		injRnd:   newRandom(cfg.Seed ^ 0x1f3e5a7c),
	}
	g.sum.Start, g.sum.End = g.start, g.end
	arrivals := g.arrivals()
	type held struct {
		ev      domain.Event
		release int // month after whose events it is delivered
	}
	var late []held
	// last is a copy of the last base event sent, the one a duplicate
	// repeats: the storage it was sent from is reused.
	var last domain.Event
	haveLast := false
	// send emits ev; an injected complaint (base false) draws nothing from
	// the history's random stream, so that it stays the one the same seed
	// gives without injections.
	send := func(ev *domain.Event, base bool) error {
		if err := emit(ev); err != nil {
			return err
		}
		g.sum.Events++
		g.sum.ByType[ev.Type]++
		if !base {
			return nil
		}
		if haveLast && g.rnd.chance(cfg.Duplicates) {
			// The source sends an event again (a retry after a lost ack).
			dup := last
			if err := emit(&dup); err != nil {
				return err
			}
			g.sum.Events++
			g.sum.Duplicates++
		}
		if cfg.Duplicates > 0 {
			last = *ev
		}
		haveLast = true
		return nil
	}
	var (
		events []*domain.Event // a month's events in the order they were made
		order  []timeOrder     // the same in event-time order
	)
	for m := range cfg.Months {
		if err := ctx.Err(); err != nil {
			return g.sum, fmt.Errorf("synthetic: %w", err)
		}
		g.month(m, arrivals[m])
		chunks, inj := g.buckets[m], g.injected[m]
		g.buckets[m], g.injected[m] = nil, nil
		events, order = events[:0], order[:0]
		for _, evs := range chunks {
			for i := range evs {
				order = append(order, timeOrder{evs[i].Time.UnixNano(), len(events)})
				events = append(events, &evs[i])
			}
		}
		// Sorting 16-byte keys, ties broken by the order made: the order of
		// a stable sort by time, without moving the events.
		slices.SortFunc(order, timeOrder.compare)
		slices.SortStableFunc(inj, func(a, b domain.Event) int { return a.Time.Compare(b.Time) })
		for _, o := range order {
			ev := events[o.i]
			for len(inj) > 0 && inj[0].Time.Before(ev.Time) {
				if err := send(&inj[0], false); err != nil {
					return g.sum, err
				}
				inj = inj[1:]
			}
			if g.rnd.chance(cfg.Late) {
				late = append(late, held{*ev, m + 1 + g.rnd.intn(2)})
				continue
			}
			if err := send(ev, true); err != nil {
				return g.sum, err
			}
		}
		for i := range inj {
			if err := send(&inj[i], false); err != nil {
				return g.sum, err
			}
		}
		keep := late[:0]
		for i := range late {
			if late[i].release > m {
				keep = append(keep, late[i])
				continue
			}
			g.sum.Late++
			if err := send(&late[i].ev, true); err != nil {
				return g.sum, err
			}
		}
		late = keep
		// The month is sent (a late event was copied, and so is the last
		// one a duplicate repeats): its chunks serve the months to come.
		for _, evs := range chunks {
			clear(evs)
			g.chunks = append(g.chunks, evs[:0])
		}
	}
	for i := range late {
		g.sum.Late++
		if err := send(&late[i].ev, true); err != nil {
			return g.sum, err
		}
	}
	g.sum.Customers = len(g.customers)
	return g.sum, nil
}

// arrivals returns how many customers are acquired in each month: a third
// of them form the base in the first month, the rest arrive with the
// acquisition season.
func (g *generator) arrivals() []int {
	out := make([]int, g.cfg.Months)
	weights := make([]float64, g.cfg.Months)
	for m := range weights {
		weights[m] = acquisitionSeason[g.monthStart(m).Month()-1]
	}
	for range g.cfg.Customers {
		if g.cfg.Months == 1 || g.rnd.chance(0.35) {
			out[0]++
			continue
		}
		out[1+g.rnd.index(weights[1:])]++
	}
	return out
}

func (g *generator) monthStart(m int) time.Time { return g.start.AddDate(0, m, 0) }

// month simulates month m: arrivals, then each active customer's complaints,
// renewal, defection and revenue.
func (g *generator) month(m, arrivals int) {
	from, to := g.monthStart(m), g.monthStart(m+1)
	for range arrivals {
		g.acquire(m, from, to)
	}
	risingFactor := 1.0
	if k := m - (g.cfg.Months - g.cfg.RisingMonths) + 1; k > 0 {
		risingFactor = 1 + float64(k)
	}
	catWeights := make([]float64, len(categories))
	for i, c := range categories {
		w := c.weight
		if c.season != nil {
			w *= c.season[from.Month()-1]
		}
		if slices.Contains(g.cfg.Rising, c.name) {
			w *= risingFactor
		}
		catWeights[i] = w
	}
	season := complaintSeason[from.Month()-1]
	for _, c := range g.customers {
		if c.defected {
			if m == 0 || !g.rnd.chance(winBack) {
				continue
			}
			g.comeBack(c, m, from, to)
		}
		last := latest(c.acquired, from)
		if c.month < m {
			n := g.rnd.poisson(c.seg.complaintRate * c.friction * season)
			for range n {
				at := g.timeIn(c.acquired, from, to)
				g.file(c, at, categories[g.rnd.index(catWeights)])
				last = latest(last, at)
			}
		}
		anniversary := c.month < m && (m-c.month)%12 == 0
		if g.rnd.chance(g.hazard(c, to, anniversary)) {
			g.defect(c, g.timeIn(last, from, to))
			continue
		}
		if anniversary {
			g.renew(c, g.timeIn(c.acquired, from, to))
		}
		g.bill(c, m, from, to)
	}
}

// hazard is the probability that c defects this month: a base rate by
// segment raised by recent, unresolved and severe complaints, and by a
// renewal coming due.
func (g *generator) hazard(c *customer, now time.Time, anniversary bool) float64 {
	var recent, unresolved, severe float64
	keep := c.recent[:0]
	for _, k := range c.recent {
		if now.Sub(k.at) > 120*24*time.Hour {
			continue
		}
		keep = append(keep, k)
		recent++
		if k.resolved.IsZero() || k.resolved.After(now) {
			unresolved++
		}
		if k.severity >= 4 {
			severe++
		}
	}
	c.recent = keep
	h := c.seg.churn * (1 + 1.0*recent + 3.0*unresolved + 1.5*severe)
	if anniversary {
		h *= 2.5
	}
	return min(h, 0.6)
}

// timeIn returns an event time in [max(notBefore, from), to), shaped by
// weekday and hour of day.
func (g *generator) timeIn(notBefore, from, to time.Time) time.Time {
	lo := latest(notBefore, from)
	cum := g.dayWeights(from, to)
	d0 := lo.Day() - 1 // first eligible day of the month
	base := 0.0
	if d0 > 0 {
		base = cum[d0-1]
	}
	v := base + g.rnd.float()*(cum[len(cum)-1]-base)
	day := d0
	for day < len(cum)-1 && v >= cum[day] {
		day++
	}
	h := g.rnd.index(hourShape[:])
	t := from.AddDate(0, 0, day).Add(time.Duration(h)*time.Hour + time.Duration(g.rnd.intn(3600))*time.Second)
	if t.Before(lo) {
		t = lo.Add(time.Duration(g.rnd.intn(3600)) * time.Second)
	}
	if !t.Before(to) {
		t = to.Add(-time.Duration(1+g.rnd.intn(600)) * time.Second)
	}
	if t.Before(lo) {
		t = lo
	}
	return t
}

// dayWeights returns the cumulative weekday weights of the days of the month
// [from, to), cached for the month being simulated.
func (g *generator) dayWeights(from, to time.Time) []float64 {
	if g.cumFor.Equal(from) && g.cum != nil {
		return g.cum
	}
	days := int(to.Sub(from).Hours() / 24)
	g.cum = g.cum[:0]
	total := 0.0
	for i := range days {
		total += weekdayShape[from.AddDate(0, 0, i).Weekday()]
		g.cum = append(g.cum, total)
	}
	g.cumFor = from
	return g.cum
}

// add queues ev for its month, with the complaints an injection adds for
// it; events after the end of the history are dropped (they have not
// happened yet).
func (g *generator) add(ev domain.Event) {
	g.queue(ev)
	if len(g.cfg.Inject) > 0 {
		g.inject(ev)
	}
}

// timeOrder is the sort key of a month's event: its time, then the
// order it was made in.
type timeOrder struct {
	at int64 // event time, Unix nanoseconds
	i  int   // index in the order made
}

func (a timeOrder) compare(b timeOrder) int {
	return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.i, b.i))
}

// chunkEvents is the number of events a chunk of a month's bucket holds
// (1.5 MiB): a bucket grows by a chunk, without copying what it holds.
const chunkEvents = 4096

// queue appends ev to its month's bucket.
func (g *generator) queue(ev domain.Event) {
	m, ok := g.monthOf(ev.Time)
	if !ok {
		return
	}
	b := g.buckets[m]
	if len(b) == 0 || len(b[len(b)-1]) == chunkEvents {
		var c []domain.Event
		if n := len(g.chunks); n > 0 {
			c, g.chunks = g.chunks[n-1], g.chunks[:n-1]
		} else {
			c = make([]domain.Event, 0, chunkEvents)
		}
		b = append(b, c)
		g.buckets[m] = b
	}
	b[len(b)-1] = append(b[len(b)-1], ev)
}

// queueInjected queues an injected complaint for its month.
func (g *generator) queueInjected(ev domain.Event) {
	if m, ok := g.monthOf(ev.Time); ok {
		g.injected[m] = append(g.injected[m], ev)
	}
}

// monthOf returns the month index of t, and false for a time after the end
// of the history.
func (g *generator) monthOf(t time.Time) (int, bool) {
	if !t.Before(g.end) {
		return 0, false
	}
	return (t.Year()-g.start.Year())*12 + int(t.Month()) - int(g.start.Month()), true
}

func (g *generator) event(t domain.Type, system string, at time.Time, c *customer, d domain.Data) domain.Event {
	d.CustomerID = c.id
	return domain.Event{
		ID:      g.rnd.uuid(),
		Source:  g.cfg.Source + "/" + system,
		Type:    t,
		Time:    at,
		Subject: c.id,
		Schema:  domain.CurrentSchema,
		Data:    d,
	}
}

// latest returns the latest of the times.
func latest(t time.Time, more ...time.Time) time.Time {
	for _, u := range more {
		if u.After(t) {
			t = u
		}
	}
	return t
}

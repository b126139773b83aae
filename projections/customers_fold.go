package projections

import (
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections/customers"
)

// customersVersion is the version of the per-customer fold's code.
const customersVersion = 1

// customersName is the name of the built-in per-customer projection behind
// the review, the scorecard and the linkage.
const customersName = "builtin/customers"

func customersDefinition() (string, *Definition) {
	return customersName, &Definition{Kind: kindCustomers, Version: customersVersion}
}

// customersFold keeps a customers.State: every customer's history keyed by
// the log's dictionary id of its customer_id, and the monthly aggregates.
type customersFold struct {
	st *customers.State
	// answers caches query results at one checkpoint of the projection.
	answers answerCache[any]
}

func newCustomersFold() *customersFold { return &customersFold{st: customers.New()} }

func init() {
	MustRegisterKind(Kind{Name: kindCustomers, Version: customersVersion, Persist: PersistEntries,
		New: func(*Definition, Env) (Fold, error) { return newCustomersFold(), nil }})
}

type customersPart struct {
	f     *customersFold
	batch *customers.Batch
}

func (f *customersFold) NewPart() Part { return &customersPart{f: f} }

func (p *customersPart) Scan(s Snapshot, from, to uint64, seen *atomic.Uint64) error {
	tab := p.f.st.Strs
	local := make([]uint32, s.DictLen()+1) // dictionary id → table id + 1
	str := func(d uint32) uint32 {
		if d == 0 {
			return 0
		}
		if int(d) >= len(local) {
			local = append(local, make([]uint32, int(d)+1-len(local))...)
		}
		if v := local[d]; v != 0 {
			return v - 1
		}
		id := tab.Intern(s.String(d))
		local[d] = id + 1
		return id
	}
	if p.batch == nil {
		if b, ok := batches.Get().(*customers.Batch); ok {
			p.batch = b
		} else {
			p.batch = new(customers.Batch)
		}
		p.batch.Grow(int(min(to-from+1, 1<<30)))
	}
	// record folds a record kept alone (formats 1 and 2), or one of a block
	// of an older schema, decoded.
	record := func(seq uint64, r eventstore.Record) error {
		t := r.Type()
		key := r.Dim(eventstore.FieldCustomer)
		if !customers.Folded(t) || key == 0 {
			return nil
		}
		if r.Schema() != domain.CurrentSchema {
			ev, err := decodeCurrent(s, r)
			if err != nil {
				return fmt.Errorf("record %d: %w", seq, err)
			}
			if f, ok := customers.FactOf(&ev, key, tab); ok {
				p.batch.Add(&f)
			}
			return nil
		}
		o, err := s.Optional(r)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		p.batch.Add(&customers.Fact{Type: t, Time: r.EventTime(), Customer: key,
			Segment: str(r.Dim(eventstore.FieldSegment)), Category: str(r.Dim(eventstore.FieldCategory)),
			Channel: str(r.Dim(eventstore.FieldChannel)), Reason: str(o.Reason), Competitor: str(o.Competitor),
			Currency: str(o.Currency), Severity: r.Severity(), HasCost: o.HasCost, Amount: o.Amount, Cost: o.Cost,
			Complaint: customers.ComplaintHash(o.ComplaintID)})
		return nil
	}
	// In a log of blocks: the columns of the fields a fact holds, and each
	// record's optional fields from the block's rest column, no record
	// assembled.
	return scanColumnsCounted(s, from, to, seen, customerFields, true, func(c *eventstore.Columns) error {
		if !c.AnyType(customers.Folded) {
			return nil
		}
		custs, segs := c.Dim(eventstore.FieldCustomer), c.Dim(eventstore.FieldSegment)
		cats, chans := c.Dim(eventstore.FieldCategory), c.Dim(eventstore.FieldChannel)
		for j, typ := range c.Types {
			t, key := domain.Type(typ), custs[j]
			if !customers.Folded(t) || key == 0 {
				continue
			}
			if c.Schemas[j] != uint32(domain.CurrentSchema) {
				r, err := c.Record(j)
				if err != nil {
					return err
				}
				if err := record(c.First+uint64(j), r); err != nil {
					return err
				}
				continue
			}
			o, err := c.Optional(j)
			if err != nil {
				return err
			}
			p.batch.Add(&customers.Fact{Type: t, Time: c.EventTimes[j], Customer: key,
				Segment: str(segs[j]), Category: str(cats[j]), Channel: str(chans[j]), Reason: str(o.Reason),
				Competitor: str(o.Competitor), Currency: str(o.Currency), Severity: uint8(c.Severities[j]),
				HasCost: o.HasCost, Amount: o.Amount, Cost: o.Cost, Complaint: customers.ComplaintHash(o.ComplaintID)})
		}
		return nil
	}, record)
}

// customerFields are the fixed fields a customers fact holds.
var customerFields = []eventstore.Field{eventstore.FieldCustomer, eventstore.FieldSegment, eventstore.FieldCategory, eventstore.FieldChannel}

func (f *customersFold) Merge(pp Part) error {
	p := pp.(*customersPart)
	if p.batch == nil {
		return nil
	}
	err := f.st.ApplyBatch(p.batch)
	if p.batch.Len() >= 1<<16 {
		p.batch.Reset()
		batches.Put(p.batch)
	}
	p.batch = nil
	if err != nil {
		// Facts come from verified records with customer keys: this is a
		// programming error, never bad input.
		return fmt.Errorf("customers: %w", err)
	}
	return nil
}

// batches keeps the fact batches of big scans for the next ones.
var batches sync.Pool

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
	facts []customers.Fact
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
	if p.facts == nil {
		if b, ok := factBufs.Get().(*[]customers.Fact); ok && uint64(cap(*b)) >= to-from+1 {
			p.facts = (*b)[:0]
		} else {
			p.facts = make([]customers.Fact, 0, to-from+1)
		}
	}
	err := scanCounted(s, from, to, seen, func(seq uint64, r eventstore.Record) error {
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
				p.facts = append(p.facts, f)
			}
			return nil
		}
		o, err := s.Optional(r)
		if err != nil {
			return fmt.Errorf("record %d: %w", seq, err)
		}
		p.facts = append(p.facts, customers.Fact{Type: t, Time: r.EventTime(), Customer: key,
			Segment: str(r.Dim(eventstore.FieldSegment)), Category: str(r.Dim(eventstore.FieldCategory)),
			Channel: str(r.Dim(eventstore.FieldChannel)), Reason: str(o.Reason), Competitor: str(o.Competitor),
			Currency: str(o.Currency), Severity: r.Severity(), HasCost: o.HasCost, Amount: o.Amount, Cost: o.Cost,
			Complaint: customers.ComplaintHash(o.ComplaintID)})
		return nil
	})
	return err
}

func (f *customersFold) Merge(pp Part) error {
	p := pp.(*customersPart)
	err := f.st.ApplyAll(p.facts)
	if cap(p.facts) >= 1<<16 {
		b := p.facts[:0]
		factBufs.Put(&b)
	}
	p.facts = nil
	if err != nil {
		// Facts come from verified records with customer keys: this is a
		// programming error, never bad input.
		return fmt.Errorf("customers: %w", err)
	}
	return nil
}

// factBufs keeps the facts buffers of big scans for the next ones.
var factBufs sync.Pool

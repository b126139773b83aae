package projections

import (
	"encoding/binary"
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

func customersDefinition() (string, *definition) {
	return customersName, &definition{Kind: kindCustomers, Version: customersVersion}
}

// customersFold keeps a customers.State: every customer's history keyed by
// the log's dictionary id of its customer_id, and the monthly aggregates.
type customersFold struct {
	st *customers.State
	// savedTo is the state entry the customers were last saved under ("":
	// never), so that a save under another name writes them all.
	savedTo string
	// answers caches query results at one checkpoint of the projection.
	answers   map[string]any
	answersAt uint64
}

func newCustomersFold() *customersFold { return &customersFold{st: customers.New()} }

type customersPart struct {
	f     *customersFold
	facts []customers.Fact
}

func (f *customersFold) newPart() part { return &customersPart{f: f} }

func (p *customersPart) scan(s *eventstore.Snapshot, from, to uint64, seen *atomic.Uint64) error {
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
	var n uint64
	err := s.Scan(from, to, func(seq uint64, r eventstore.Record) error {
		n++
		if n&(progressEvery-1) == 0 {
			seen.Add(progressEvery)
		}
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
	seen.Add(n & (progressEvery - 1))
	return err
}

func (f *customersFold) merge(pp part) {
	p := pp.(*customersPart)
	if err := f.st.ApplyAll(p.facts); err != nil {
		// Facts come from verified records with customer keys: this is a
		// programming error, never bad input.
		panic(fmt.Sprintf("customers: %v", err))
	}
	if cap(p.facts) >= 1<<16 {
		b := p.facts[:0]
		factBufs.Put(&b)
	}
	p.facts = nil
}

// factBufs keeps the facts buffers of big scans for the next ones.
var factBufs sync.Pool

// marshal returns the whole state in one piece: the header, then each
// customer's key and history. The engine saves this fold entry by entry
// instead (saveEntries); marshal serves any path that wants one blob.
func (f *customersFold) marshal() ([]byte, error) {
	h := f.st.Header()
	b := binary.AppendUvarint(nil, uint64(len(h)))
	b = append(b, h...)
	f.st.MarkAllDirty()
	err := f.st.TakeDirty(func(key uint32, hist []byte) error {
		b = binary.AppendUvarint(b, uint64(key))
		b = binary.AppendUvarint(b, uint64(len(hist)))
		b = append(b, hist...)
		return nil
	})
	f.savedTo = "" // the entries, wherever they are, miss what marshal took
	return b, err
}

func (f *customersFold) unmarshal(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || uint64(len(b)-k) < n {
		return fmt.Errorf("decode customer state: truncated header")
	}
	header, rest := b[k:k+int(n)], b[k+int(n):]
	st, err := customers.Load(header, func(fn func(uint32, []byte) error) error {
		for len(rest) > 0 {
			key, k := binary.Uvarint(rest)
			if k <= 0 {
				return fmt.Errorf("truncated key")
			}
			rest = rest[k:]
			l, k := binary.Uvarint(rest)
			if k <= 0 || uint64(len(rest)-k) < l {
				return fmt.Errorf("truncated history of customer %d", key)
			}
			if err := fn(uint32(key), rest[k:k+int(l)]); err != nil {
				return err
			}
			rest = rest[k+int(l):]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("decode customer state: %w", err)
	}
	f.st, f.answers = st, nil
	return nil
}

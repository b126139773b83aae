package projections

import (
	"context"
	"fmt"
	"hash/fnv"

	"github.com/plaint/plaint/projections/customers"
)

// withCustomers brings the built-in customers projection (built on first
// use, kept live after) up to the end of the log, then runs fn on its state
// with a snapshot of the log that resolves customer keys to ids (erased-<n>
// for a forgotten customer). fn's answer is cached under key until the
// state changes.
func (e *Engine) withCustomers(ctx context.Context, key string, fn func(st *customers.State, names customers.Names) (any, error)) (any, uint64, error) {
	name, def := customersDefinition()
	p, err := e.ensure(name, def)
	if err != nil {
		return nil, 0, err
	}
	if err := e.catchUp(ctx, p, true); err != nil {
		return nil, 0, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	f := p.f.(*customersFold)
	// Answers hold customer ids read from the log's dictionary, which an
	// erasure changes without changing the state: they are kept until the
	// projection moves in the log (the erasure appends customer.forgotten).
	if a, ok := f.answers.get(key, p.cp); ok {
		return a, p.cp, nil
	}
	var out any
	err = e.log.ViewRecords(func(s Snapshot) error {
		var err error
		out, err = fn(f.st, func(k uint32) string { return s.String(k) })
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	f.answers.put(key, p.cp, out)
	return out, p.cp, nil
}

// askCustomers answers a question of the customers projection with fn,
// cached under key, and a copy of the answer that says its position (at
// returns where it says it).
func askCustomers[T any](ctx context.Context, e *Engine, key string, fn func(*customers.State, customers.Names) (*T, error), at func(*T) *uint64) (*T, error) {
	a, seq, err := e.withCustomers(ctx, key, func(st *customers.State, names customers.Names) (any, error) { return fn(st, names) })
	if err != nil {
		return nil, err
	}
	r := *a.(*T)
	*at(&r) = seq
	return &r, nil
}

// Review answers the lost-customer review q from the customers projection.
// The result may be shared with other callers: do not modify it.
func (e *Engine) Review(ctx context.Context, q customers.ReviewQuery) (*customers.Review, error) {
	return askCustomers(ctx, e, fmt.Sprintf("review %+v", q), func(st *customers.State, names customers.Names) (*customers.Review, error) {
		return st.Review(q, names)
	}, func(r *customers.Review) *uint64 { return &r.AsOfSeq })
}

// Scorecard answers q from the customers projection.
func (e *Engine) Scorecard(ctx context.Context, q customers.ScorecardQuery) (*customers.Scorecard, error) {
	return askCustomers(ctx, e, fmt.Sprintf("scorecard %+v", q), func(st *customers.State, _ customers.Names) (*customers.Scorecard, error) {
		return st.Scorecard(q)
	}, func(r *customers.Scorecard) *uint64 { return &r.AsOfSeq })
}

// Linkage answers q from the customers projection.
func (e *Engine) Linkage(ctx context.Context, q customers.LinkageQuery) (*customers.Linkage, error) {
	return askCustomers(ctx, e, fmt.Sprintf("linkage %+v", q), func(st *customers.State, _ customers.Names) (*customers.Linkage, error) {
		return st.Linkage(q)
	}, func(r *customers.Linkage) *uint64 { return &r.AsOfSeq })
}

// ValueAtRisk answers the value at risk of groups of customers (an alert's
// affected customers, customers.State.ValueAtRisk) against the linkage by
// category as of the latest event (the same answer GET /v1/linkage gives).
func (e *Engine) ValueAtRisk(ctx context.Context, qs []customers.RiskQuery) ([][]customers.Amount, error) {
	l, err := e.Linkage(ctx, customers.LinkageQuery{})
	if err != nil {
		return nil, err
	}
	h := fnv.New64a()
	fmt.Fprint(h, l.AsOf, l.AsOfSeq)
	for _, q := range qs {
		fmt.Fprint(h, "\x00", q.Category, q.Since.UnixNano(), q.Customers)
	}
	a, _, err := e.withCustomers(ctx, fmt.Sprintf("risk %x", h.Sum64()), func(st *customers.State, _ customers.Names) (any, error) {
		return st.ValueAtRisk(l, qs)
	})
	if err != nil {
		return nil, err
	}
	return a.([][]customers.Amount), nil
}

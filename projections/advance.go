package projections

import (
	"sync"
	"sync/atomic"
)

// Advance is one step of a serving projection through the log, as advance
// hooks see it (OnAdvance).
type Advance struct {
	// Name is the projection's.
	Name string
	// From and To are the records folded by this step: To is its new
	// position in the log.
	From, To uint64
	// Built reports whether the projection has caught up with the log at
	// least once (false while its first build is under way).
	Built bool
	// Rebuilt reports a state replaced by one folded anew from the start
	// of the log (a new version of its code or definition promoted, or a
	// rebuild after an erasure): From is then 1, and the steps before say
	// nothing about this state.
	Rebuilt bool
	// Answer is the fold's answer at To when it is an Answerer, else nil.
	Answer any
}

// hooks are the advance hooks of an engine.
type hooks struct {
	n    atomic.Int32 // subscriptions, read without the lock
	mu   sync.Mutex
	subs map[*subscription]struct{}
}

// subscription delivers the advances of one projection (every one when
// name is "") to fn, in order, on a goroutine of its own.
type subscription struct {
	name string
	fn   func(Advance)

	mu      sync.Mutex
	queue   []Advance
	stopped bool          // no more deliveries
	closing bool          // deliver the queue, then end
	wake    chan struct{} // 1-buffered: the queue has advances, or it ends
	done    chan struct{} // closed when the delivery goroutine ended
}

// OnAdvance calls fn with every advance of the serving projection called
// name (of every serving projection when name is ""), in the order of the
// log, on a goroutine of its own, from the moment it returns: the folds of
// its build, of live batches and of the catch-up before a query, and the
// replacements of its state (Advance.Rebuilt). The engine never waits for
// fn: advances queue until fn takes them, so fn must keep up on average.
// A replacement being built beside a serving projection (a changed
// definition or code version) is not seen until it is promoted.
//
// The returned stop ends the calls, dropping what is queued, and waits for
// a call in progress; fn must not call it. Close delivers what is queued,
// then ends every subscription.
func (e *Engine) OnAdvance(name string, fn func(Advance)) (stop func()) {
	s := &subscription{name: name, fn: fn, wake: make(chan struct{}, 1), done: make(chan struct{})}
	e.hooks.mu.Lock()
	if e.hooks.subs == nil {
		e.hooks.subs = map[*subscription]struct{}{}
	}
	e.hooks.subs[s] = struct{}{}
	e.hooks.n.Add(1)
	e.hooks.mu.Unlock()
	go s.deliver()
	var once sync.Once
	return func() {
		once.Do(func() {
			e.hooks.remove(s)
			s.mu.Lock()
			s.stopped, s.queue = true, nil
			s.mu.Unlock()
			s.signal()
			<-s.done
		})
	}
}

func (h *hooks) remove(s *subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.subs[s]; ok {
		delete(h.subs, s)
		h.n.Add(-1)
	}
}

// closeAll delivers what every subscription has queued, then ends them.
func (h *hooks) closeAll() {
	h.mu.Lock()
	subs := h.subs
	h.subs = nil
	h.n.Store(0)
	h.mu.Unlock()
	for s := range subs {
		s.mu.Lock()
		s.closing = true
		s.mu.Unlock()
		s.signal()
	}
	for s := range subs {
		<-s.done
	}
}

func (s *subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (s *subscription) deliver() {
	defer close(s.done)
	for range s.wake {
		for {
			s.mu.Lock()
			if s.stopped || len(s.queue) == 0 {
				end := s.stopped || s.closing
				s.mu.Unlock()
				if end {
					return
				}
				break
			}
			a := s.queue[0]
			s.queue[0] = Advance{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			s.fn(a)
		}
	}
}

// advanced tells the hooks listening to p that it folded from..to (or that
// its state was replaced, with rebuilt). p.mu must be held, so that one
// projection's advances queue in order.
func (e *Engine) advanced(p *projection, from, to uint64, rebuilt bool) {
	if e.hooks.n.Load() == 0 || p.isNext {
		return
	}
	e.hooks.mu.Lock()
	defer e.hooks.mu.Unlock()
	var a *Advance
	for s := range e.hooks.subs {
		if s.name != "" && s.name != p.name {
			continue
		}
		if a == nil {
			a = &Advance{Name: p.name, From: from, To: to, Built: p.built || to >= e.log.LastSeq(), Rebuilt: rebuilt}
			if an, ok := p.f.(Answerer); ok {
				a.Answer = an.Answer()
			}
		}
		s.mu.Lock()
		if !s.stopped && !s.closing {
			s.queue = append(s.queue, *a)
		}
		s.mu.Unlock()
		s.signal()
	}
}

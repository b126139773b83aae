package projections

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Run keeps every built projection caught up with the log as batches are
// appended, and saves those that advanced every few seconds. It returns nil
// when ctx is done.
func (e *Engine) Run(ctx context.Context) error {
	tick := time.NewTicker(e.o.persistEvery)
	defer tick.Stop()
	for {
		changed := e.log.Changed()
		for _, p := range e.serving() {
			if err := e.catchUp(ctx, p, false); err != nil && ctx.Err() == nil {
				e.o.logger.Error("advancing projection failed", "projection", p.name, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		case <-tick.C:
			e.saveDirty(false)
			e.evictTrends(time.Now())
		}
	}
}

// serving returns the serving projections that have been built.
func (e *Engine) serving() []*projection {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*projection, 0, len(e.projs))
	for _, p := range e.projs {
		select {
		case <-p.ready:
			if p.failure() == nil {
				out = append(out, p)
			}
		default:
		}
	}
	return out
}

// catchUp folds every committed record p has not seen yet. With wait, it
// first waits for p's build to finish.
func (e *Engine) catchUp(ctx context.Context, p *projection, wait bool) error {
	if wait {
		if err := e.waitBuilt(ctx, p); err != nil {
			return err
		}
	} else if err := p.failure(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return e.advanceLocked(ctx, p, e.log.LastSeq())
}

// waitBuilt waits until p has been built (or failed).
func (e *Engine) waitBuilt(ctx context.Context, p *projection) error {
	select {
	case <-p.ready:
	case <-ctx.Done():
		return ctx.Err()
	case <-e.ctx.Done():
		return errClosed
	}
	return p.failure()
}

// advanceLocked folds p up to seq to; p.mu must be held.
func (e *Engine) advanceLocked(ctx context.Context, p *projection, to uint64) error {
	if to <= p.cp {
		return nil
	}
	from := p.cp + 1
	if err := foldRange(ctx, e.log, p.f, from, to, &e.o, &p.buildSeen); err != nil {
		if errors.Is(err, ErrTooManyGroups) {
			e.failLocked(p, err)
		}
		return fmt.Errorf("advance %s: %w", p.name, err)
	}
	p.cp, p.dirty = to, true
	p.pub()
	e.advanced(p, from, to, false)
	return nil
}

// saveDirty saves the serving projections that advanced since they were
// last saved (all of them with force, else those saved long enough ago).
func (e *Engine) saveDirty(force bool) {
	e.mu.Lock()
	list := make([]*projection, 0, len(e.projs))
	for _, p := range e.projs {
		list = append(list, p)
	}
	e.mu.Unlock()
	for _, p := range list {
		p.mu.Lock()
		if p.built && p.dirty && (force || time.Since(p.savedAt) >= e.o.persistEvery) {
			if err := e.save(p, nil); err != nil {
				e.o.logger.Error("saving projection failed", "projection", p.name, "err", err)
			}
		}
		p.mu.Unlock()
	}
}

var errClosed = errors.New("projection engine closed")

// failLocked marks p failed with err and lets go of its state, which may be
// large (a projection past its group bound): it answers only the error
// until it is dropped or recreated. p.mu must be held.
func (e *Engine) failLocked(p *projection, err error) {
	if f, ferr := e.newFold(p.def); ferr == nil {
		p.setFold(f)
	}
	p.pub()
	p.answers.reset()
	p.fail(err)
}

// Close stops builds (they resume from their checkpoints on the next Open),
// saves every projection that advanced and closes the state file.
func (e *Engine) Close() error {
	e.cancel()
	e.wg.Wait()
	e.saveDirty(true)
	e.mu.Lock()
	for _, p := range e.next {
		p.mu.Lock()
		if err := e.save(p, nil); err != nil {
			e.o.logger.Error("saving projection failed", "projection", p.name, "err", err)
		}
		p.mu.Unlock()
	}
	e.mu.Unlock()
	e.hooks.closeAll()
	e.dbMu.Lock()
	defer e.dbMu.Unlock()
	if e.db != nil {
		if err := e.db.Close(); err != nil {
			return fmt.Errorf("close projection state: %w", err)
		}
	}
	return nil
}

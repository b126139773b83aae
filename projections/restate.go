package projections

import (
	"context"
	"time"

	"github.com/plaint/plaint/domain"
)

// newFold returns an empty fold for def, wired to the engine: trend folds
// take their restatement thresholds from the first-seen projection.
func (e *Engine) newFold(def *Definition) (Fold, error) {
	f, _, err := def.newFold(e.env())
	return f, err
}

// wireTrend gives tf the engine's restatement thresholds.
func (e *Engine) wireTrend(tf *trendFold) *trendFold {
	b := tf.bucket
	tf.limit = e.o.maxGroups
	tf.restate = func(ctx context.Context, to uint64) (map[int32]int64, error) { return e.restateThresholds(ctx, b, to) }
	return tf
}

// restateThresholds brings the first-seen projection up to at least seq to
// (built on first use) and returns the restatement thresholds of bucket
// width b. The map is shared: callers must not modify it.
func (e *Engine) restateThresholds(ctx context.Context, b domain.Bucket, to uint64) (map[int32]int64, error) {
	name, def := firstsDefinition()
	fp, err := e.ensure(name, def)
	if err != nil {
		return nil, err
	}
	if err := e.waitBuilt(ctx, fp); err != nil {
		return nil, err
	}
	fp.mu.Lock()
	defer fp.mu.Unlock()
	if err := e.advanceLocked(ctx, fp, to); err != nil {
		return nil, err
	}
	ff := fp.f.(*firstsFold)
	c := &ff.cache[b]
	if c.m == nil || c.ver != ff.ver || c.grace != e.o.restateGrace {
		c.m, c.ver, c.grace = ff.thresholds(b, e.o.restateGrace), ff.ver, e.o.restateGrace
	}
	return c.m, nil
}

// thresholdCache keeps the thresholds of one bucket width until the
// first-seen state changes.
type thresholdCache struct {
	ver   uint64
	grace time.Duration
	m     map[int32]int64
}

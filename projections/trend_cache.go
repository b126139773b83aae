package projections

import (
	"sort"
	"strings"
	"time"
)

// Trend projections (builtin/trend/<bucket>/<dimensions>) are made on demand,
// one per combination of breakdown, where-dimensions and bucket that someone
// asked about. They are a cache, not a registry: kept in memory only (never
// saved in projections.db), advanced with the log while they are kept,
// evicted once idle for the trend cache's idle time or, least recently used
// first, while together they hold more than its memory bound, and rebuilt
// from the log the next time they are asked for. Dropping one evicts it.

// The defaults of the trend cache.
const (
	DefaultTrendCacheIdle  = 10 * time.Minute
	DefaultTrendCacheBytes = 256 << 20
)

// isCache reports whether p is a trend cache entry.
func (p *projection) isCache() bool { return p.def.Kind == kindTrend }

// touch records that p answered a question now.
func (p *projection) touch() { p.lastUsed.Store(time.Now().UnixNano()) }

// ready reports whether p's build has finished (or failed).
func (p *projection) isReady() bool {
	select {
	case <-p.ready:
		return true
	default:
		return false
	}
}

// evictTrends evicts the trend caches idle for longer than the idle time,
// then the least recently used ones while together they hold more than the
// memory bound (the most recently used one always stays). Caches still
// building are left alone. It returns the names evicted.
func (e *Engine) evictTrends(now time.Time) []string {
	e.mu.Lock()
	var list []*projection
	for _, p := range e.projs {
		if p.isCache() && p.isReady() && !p.building.Load() {
			list = append(list, p)
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i].lastUsed.Load() > list[j].lastUsed.Load() }) // newest first
	var evict []*projection
	var total int64
	for i, p := range list {
		idle := now.Sub(time.Unix(0, p.lastUsed.Load()))
		mem := p.memPub.Load()
		switch {
		case e.o.trendIdle > 0 && idle > e.o.trendIdle:
			evict = append(evict, p)
		case i > 0 && e.o.trendBytes > 0 && total+mem > e.o.trendBytes:
			evict = append(evict, p)
		default:
			total += mem
		}
	}
	for _, p := range evict {
		if e.projs[p.name] == p {
			delete(e.projs, p.name)
		}
	}
	e.mu.Unlock()
	names := make([]string, 0, len(evict))
	for _, p := range evict {
		p.retire()
		names = append(names, p.name)
		e.o.logger.Info("trend cache evicted", "projection", p.name,
			"idle", now.Sub(time.Unix(0, p.lastUsed.Load())).Round(time.Second), "memory_bytes", p.memPub.Load())
	}
	return names
}

// isTrendName reports whether name is a trend cache entry's name.
func isTrendName(name string) bool { return strings.HasPrefix(name, "builtin/trend/") }

package projections

import (
	"log/slog"
	"runtime"
	"time"
)

// Option configures Open.
type Option func(*options)

type options struct {
	workers         int
	parallelMin     uint64 // smallest range split across workers
	anyOrderPiece   uint64 // records of a piece of a fold in any order (see AnyOrder)
	chunk           uint64
	checkpointEvery time.Duration
	persistEvery    time.Duration
	logger          *slog.Logger
	onCheckpoint    func(name string, seq uint64)
	trendIdle       time.Duration // evict trend caches idle this long; 0 never
	trendBytes      int64         // bound of the trend caches' memory; 0 none
	restateGrace    time.Duration // see DefaultRestateGrace
	maxGroups       int           // see DefaultMaxGroups; 0: no bound
}

func defaultOptions() options {
	return options{
		workers:         runtime.GOMAXPROCS(0),
		parallelMin:     1 << 16,
		anyOrderPiece:   1 << 18,
		chunk:           1 << 21,
		checkpointEvery: 5 * time.Second,
		persistEvery:    2 * time.Second,
		logger:          slog.Default(),
		trendIdle:       DefaultTrendCacheIdle,
		trendBytes:      DefaultTrendCacheBytes,
		restateGrace:    DefaultRestateGrace,
		maxGroups:       DefaultMaxGroups,
	}
}

// WithWorkers sets how many goroutines scan the log in parallel during a
// build. The default is GOMAXPROCS.
func WithWorkers(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.workers = n
		}
	}
}

// WithChunk sets how many records a build folds between checkpoint
// opportunities. The default is 2M.
func WithChunk(n uint64) Option {
	return func(o *options) {
		if n > 0 {
			o.chunk = n
		}
	}
}

// WithCheckpointEvery sets how often a build saves its state and checkpoint;
// 0 saves after every chunk. The default is 5s.
func WithCheckpointEvery(d time.Duration) Option { return func(o *options) { o.checkpointEvery = d } }

// WithPersistEvery sets how often Run saves live projections that advanced.
// The default is 2s.
func WithPersistEvery(d time.Duration) Option { return func(o *options) { o.persistEvery = d } }

// WithLogger sets the logger for background failures.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithCheckpointHook calls fn after each checkpoint is saved (tests and
// progress displays use it).
func WithCheckpointHook(fn func(name string, seq uint64)) Option {
	return func(o *options) { o.onCheckpoint = fn }
}

// WithTrendCache sets how long an ad-hoc trend projection may stay idle
// before it is evicted (0: never, by idle time) and how much memory the
// trend projections may hold together before the least recently used are
// evicted (0: no bound). The defaults are DefaultTrendCacheIdle and
// DefaultTrendCacheBytes. Eviction runs in Run.
func WithTrendCache(idle time.Duration, maxBytes int64) Option {
	return func(o *options) { o.trendIdle, o.trendBytes = idle, maxBytes }
}

// WithRestateGrace sets how long after a trend bucket was reported (the log
// held events in it and after it) late complaints still count as its normal
// lag; later ones restate it. The default is DefaultRestateGrace.
func WithRestateGrace(d time.Duration) Option {
	return func(o *options) {
		if d >= 0 {
			o.restateGrace = d
		}
	}
}

// WithMaxGroups bounds the groups of every projection, replay and trend
// answer (0: no bound); past it the projection fails with an error matching
// ErrTooManyGroups and its build stops. The default is DefaultMaxGroups.
func WithMaxGroups(n int) Option {
	return func(o *options) {
		if n >= 0 {
			o.maxGroups = n
		}
	}
}

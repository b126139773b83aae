package eventstore

import "time"

// Option configures Open.
type Option func(*options)

type options struct {
	readOnly    bool
	lockTimeout time.Duration
	noSync      bool
	now         func() time.Time
	mmapSize    int
	initEmpty   bool
	blocks      bool
}

func defaultOptions() options {
	return options{lockTimeout: 500 * time.Millisecond, now: time.Now, mmapSize: 1 << 30, blocks: true}
}

// WithReadOnly opens the log for reading only. Several read-only opens may
// share a log, but not with a writer: Open then fails with ErrLocked.
func WithReadOnly() Option { return func(o *options) { o.readOnly = true } }

// WithLockTimeout sets how long Open waits for the file lock held by another
// process before it returns ErrLocked. The default is 500ms.
func WithLockTimeout(d time.Duration) Option { return func(o *options) { o.lockTimeout = d } }

// WithNoSync skips fsync on commit. It is for tests and benchmarks that
// measure something else; a crash may then lose acknowledged events.
func WithNoSync() Option { return func(o *options) { o.noSync = true } }

// WithClock sets the clock that stamps record times (tests use a fixed one).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithInitialMmapSize sets the initial memory map size. A map large enough for
// the log keeps long read transactions (replays) from delaying appends while
// the map grows. The default is 1 GiB of address space.
func WithInitialMmapSize(n int) Option { return func(o *options) { o.mmapSize = n } }

// WithInitEmpty lets a writable Open start a new log in an existing file of
// 0 bytes, which Open otherwise refuses with ErrEmpty. A caller passes it
// only when nothing else says the file had a history.
func WithInitEmpty() Option { return func(o *options) { o.initEmpty = true } }

// WithBlocks(true), the default, makes a writable log store new events in
// blocks of up to 1024 (record format 3, docs/BLOCKS.md), and
// WithBlocks(false) one value each (format 2), as plaint did before blocks
// (benchmarks compare the two). The log reads every format, and what was
// written before stays as it is: a log of format 1 or 2 opened for writing
// takes its new events in blocks after its records, and is format 3 from
// then on (a plaint older than blocks refuses it).
func WithBlocks(on bool) Option { return func(o *options) { o.blocks = on } }

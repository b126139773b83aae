package watermill

import (
	"log/slog"
	"strings"
	"sync"
	"time"
)

// failureLog backs off plaint's own failures (a full disk, a store or
// dead-letter stream that cannot be written): each failure doubles the
// delay before the nacked message comes back, from the base NakDelay up to
// a maximum, and a success resets it; and it logs one line per kind of
// failure (append, dead-letter, count, decode) per interval, with how many
// it did not log, instead of one per message. The first failure of a kind
// is logged at once, and the first success after failures says so.
type failureLog struct {
	logger   *slog.Logger
	base     time.Duration
	max      time.Duration
	interval time.Duration

	mu     sync.Mutex
	streak int // consecutive failures since the last success
	kinds  map[string]*failureKind
	total  int // failures since the last success
	since  time.Time
	last   error
}

// failureKind is the logging state of one kind of failure.
type failureKind struct {
	last       time.Time
	suppressed int
}

func newFailureLog(logger *slog.Logger, base, max, interval time.Duration) *failureLog {
	return &failureLog{logger: logger, base: base, max: max, interval: interval, kinds: map[string]*failureKind{}}
}

// kindOf names the kind of a failure: the first word of its message.
func kindOf(err error) string {
	msg := err.Error()
	if i := strings.IndexAny(msg, " :"); i > 0 {
		return msg[:i]
	}
	return msg
}

// failed records a failure and returns the delay before its message is
// redelivered.
func (f *failureLog) failed(err error) time.Duration {
	now := time.Now()
	f.mu.Lock()
	f.streak++
	if f.total == 0 {
		f.since = now
	}
	f.total++
	f.last = err
	delay := f.delayLocked()
	kind := kindOf(err)
	k := f.kinds[kind]
	if k == nil {
		k = &failureKind{}
		f.kinds[kind] = k
	}
	if !k.last.IsZero() && now.Sub(k.last) < f.interval {
		k.suppressed++
		f.mu.Unlock()
		return delay
	}
	n := k.suppressed
	k.last, k.suppressed = now, 0
	f.mu.Unlock()
	f.logger.Error("ingest: message not stored, it will be redelivered", "kind", kind, "err", err,
		"retry_in", delay.String(), "similar_errors_not_logged", n)
	return delay
}

// delayLocked is base·2^(streak-1), at most max.
func (f *failureLog) delayLocked() time.Duration {
	d := f.base
	for i := 1; i < f.streak && d < f.max; i++ {
		d *= 2
	}
	return min(d, f.max)
}

// succeeded records a success: the backoff starts again from the base.
func (f *failureLog) succeeded() {
	f.mu.Lock()
	if f.streak == 0 {
		f.mu.Unlock()
		return
	}
	total, since := f.total, f.since
	f.streak, f.total = 0, 0
	clear(f.kinds)
	f.mu.Unlock()
	f.logger.Info("ingest: storing again", "failures", total, "since", since.UTC().Format(time.RFC3339))
}

// failing reports whether the last handled message failed, since when, and
// the last error.
func (f *failureLog) failing() (bool, time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streak == 0 {
		return false, time.Time{}, nil
	}
	return true, f.since, f.last
}

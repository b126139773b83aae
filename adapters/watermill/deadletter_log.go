package watermill

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// deadLetterLog logs dead letters at warn with their reason, rate limited:
// per reason the first Burst of an interval one by one, and the rest as one
// summary line per reason when the interval ends.
type deadLetterLog struct {
	logger   *slog.Logger
	burst    int
	interval time.Duration

	mu       sync.Mutex
	start    time.Time
	byReason map[string]*reasonCount
}

// reasonCount counts one reason's dead letters in the current interval.
type reasonCount struct {
	logged, more int
	lastErr      string
	lastSubject  string
}

func newDeadLetterLog(logger *slog.Logger, burst int, interval time.Duration) *deadLetterLog {
	return &deadLetterLog{logger: logger, burst: burst, interval: interval, start: time.Now(), byReason: map[string]*reasonCount{}}
}

// record logs (or counts) one dead letter.
func (d *deadLetterLog) record(reason, errText, subject string) {
	d.mu.Lock()
	d.rollLocked(time.Now())
	rc := d.byReason[reason]
	if rc == nil {
		rc = &reasonCount{}
		d.byReason[reason] = rc
	}
	if rc.logged < d.burst {
		rc.logged++
		d.mu.Unlock()
		d.logger.Warn("ingest: message dead-lettered", "reason", reason, "err", errText, "subject", subject,
			"hint", "plaint dlq list --reason "+reason)
		return
	}
	rc.more++
	rc.lastErr, rc.lastSubject = errText, subject
	d.mu.Unlock()
}

// flush writes the summary lines of an interval that has ended, if any.
func (d *deadLetterLog) flush(now time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.rollLocked(now)
}

// close writes the summary lines of the current interval.
func (d *deadLetterLog) close() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.summariseLocked(time.Now())
}

// rollLocked ends the interval when it is over.
func (d *deadLetterLog) rollLocked(now time.Time) {
	if now.Sub(d.start) >= d.interval {
		d.summariseLocked(now)
	}
}

// summariseLocked logs one line per reason with dead letters beyond the
// burst, and starts a new interval.
func (d *deadLetterLog) summariseLocked(now time.Time) {
	for _, r := range slices.Sorted(maps.Keys(d.byReason)) {
		rc := d.byReason[r]
		if rc.more > 0 {
			d.logger.Warn("ingest: more messages dead-lettered than logged one by one",
				"reason", r, "count", rc.more, "since", d.start.UTC().Format(time.RFC3339), "last_err", rc.lastErr,
				"last_subject", rc.lastSubject, "hint", "plaint dlq list --reason "+r)
		}
	}
	d.start = now
	clear(d.byReason)
}

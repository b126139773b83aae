package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far a long job is: a bar on a terminal, a line every few
// seconds otherwise (logs, CI).
type progress struct {
	w     io.Writer
	verb  string
	unit  string
	tty   bool
	bar   *progressbar.ProgressBar // made at the first progress (see advance)
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, verb, unit string) *progress {
	return &progress{w: w, verb: verb, unit: unit, tty: isTerminal(w), start: time.Now(), last: time.Now()}
}

// isTerminal reports whether w is a terminal, where a live bar is drawn.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// update reports done of total units, with an estimate of the time left on
// the lines written off a terminal (none while the total is 0).
func (p *progress) update(done, total uint64) {
	var line func() string
	if total > 0 {
		line = func() string {
			el := time.Since(p.start)
			eta := time.Duration(float64(el) * (float64(total)/float64(max(done, 1)) - 1))
			return fmt.Sprintf("%s: %d/%d %s (%.0f%%), ETA %s", p.verb, done, total, p.unit, 100*float64(done)/float64(total), eta.Round(time.Second))
		}
	}
	p.advance(int64(done), int64(total), line)
}

// advance reports done units of total (0: not known, the bar counts
// without an end) and, off a terminal, writes line() at most every two
// seconds (nothing when line is nil). The bar is made once there is
// progress to show: a bar drawn at 0 shows its rate in the smallest unit it
// has ("0 events/hr").
func (p *progress) advance(done, total int64, line func() string) {
	if p.tty {
		if done == 0 && p.bar == nil {
			return
		}
		bound := total
		if bound <= 0 {
			bound = -1
		}
		if p.bar == nil {
			p.bar = progressbar.NewOptions64(bound, progressbar.OptionSetWriter(p.w), progressbar.OptionSetDescription(p.verb),
				progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(p.unit),
				progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
		}
		if p.bar.GetMax64() != bound {
			p.bar.ChangeMax64(bound)
		}
		_ = p.bar.Set64(done)
		return
	}
	if line == nil || time.Since(p.last) < 2*time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintln(p.w, line())
}

// done clears the bar.
func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

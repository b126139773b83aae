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
	bar   *progressbar.ProgressBar // made at the first progress (see newBar)
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

// newBar returns a live bar with a rate. It is made once there is progress
// to show: a bar drawn at 0 shows its rate in the smallest unit it has
// ("0 events/hr").
func newBar(w io.Writer, max int64, verb, unit string) *progressbar.ProgressBar {
	return progressbar.NewOptions64(max, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(verb),
		progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit),
		progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
}

// update reports done of total units.
func (p *progress) update(done, total uint64) {
	if p.tty {
		if p.bar == nil {
			if done == 0 {
				return
			}
			p.bar = newBar(p.w, int64(total), p.verb, p.unit)
		}
		if p.bar.GetMax64() != int64(total) {
			p.bar.ChangeMax64(int64(total))
		}
		_ = p.bar.Set64(int64(done))
		return
	}
	if time.Since(p.last) < 2*time.Second || total == 0 {
		return
	}
	p.last = time.Now()
	el := time.Since(p.start)
	eta := time.Duration(float64(el) * (float64(total)/float64(max(done, 1)) - 1))
	fmt.Fprintf(p.w, "%s: %d/%d %s (%.0f%%), ETA %s\n", p.verb, done, total, p.unit, 100*float64(done)/float64(total), eta.Round(time.Second))
}

func (p *progress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

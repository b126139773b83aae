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
	bar   *progressbar.ProgressBar
	start time.Time
	last  time.Time
}

func newProgress(w io.Writer, verb, unit string) *progress {
	p := &progress{w: w, verb: verb, unit: unit, start: time.Now(), last: time.Now()}
	if f, ok := w.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		p.bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(w), progressbar.OptionSetDescription(verb),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString(unit),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	return p
}

// update reports done of total units.
func (p *progress) update(done, total uint64) {
	if p.bar != nil {
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

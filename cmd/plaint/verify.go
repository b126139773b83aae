package main

import (
	"fmt"
	"time"
)

// VerifyCmd checks the event log.
type VerifyCmd struct {
	File string `help:"Verify this log or backup file instead of the data directory's log." type:"path"`
}

// Run verifies every record and index and exits non-zero on any problem.
func (c *VerifyCmd) Run(g *Globals) error {
	l, err := openLogFileOffline(g, c.File)
	if err != nil {
		return err
	}
	defer l.Close()
	start := time.Now()
	p := newProgress(g.Stderr, "verify", "records")
	rep, err := l.Verify(g.Ctx, p.update)
	p.done()
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "ok: %d records, %d dictionary entries verified in %s (%s)\n",
		rep.Records, rep.DictEntries, time.Since(start).Round(time.Millisecond), l.Path())
	return nil
}

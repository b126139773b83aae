package main

import (
	"fmt"
	"io"
	"os"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/projections"
)

// ReplayCmd runs a spec once over a data directory or a backup file.
type ReplayCmd struct {
	File      string `short:"f" required:"" help:"Spec file (YAML or JSON)." type:"existingfile"`
	Out       string `short:"o" help:"Write the result to this file (atomically) instead of stdout." type:"path"`
	From      string `help:"Only events from this time on (2025-11, 2025-11-03 or RFC 3339); overrides the spec's filter.from."`
	To        string `help:"Only events before this time; overrides the spec's filter.to."`
	Format    string `help:"Output format." default:"csv" enum:"csv,json,table"`
	MaxGroups int    `name:"max-groups" help:"Most groups the result may have; past it the replay stops with an error (0: no bound)." default:"1000000" env:"PLAINT_MAX_GROUPS"`
}

// Run replays the log of --data (a data directory, or a backup file) into
// the spec, with a progress bar on stderr.
func (c *ReplayCmd) Run(g *Globals) error {
	src, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	sp, err := projections.ParseSpec(src)
	if err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	if c.From != "" {
		sp.Filter.From = c.From
	}
	if c.To != "" {
		sp.Filter.To = c.To
	}
	l, err := openForReading(g, fmt.Sprintf("replay a hot copy instead "+
		"(plaint backup --out snap.db, then plaint replay -f %s --data snap.db), "+
		"or register the spec on the server (plaint projection create -f %s)", c.File, c.File))
	if err != nil {
		return err
	}
	defer l.Close()
	p := newProgress(g.Stderr, "replaying "+sp.Name, "events")
	if c.MaxGroups < 0 {
		return domain.FieldErrorf("max-groups", "%d: must be 0 (no bound) or more", c.MaxGroups)
	}
	t, err := projections.Replay(g.Ctx, l, sp, p.update, projections.WithMaxGroups(c.MaxGroups))
	p.done()
	if err != nil {
		return err
	}
	if c.Out == "" {
		return projections.WriteTable(g.Stdout, t, c.Format)
	}
	_, err = eventstore.WriteFileAtomic(c.Out, func(w io.Writer) (int64, error) {
		cw := &countingWriter{w: w}
		err := projections.WriteTable(cw, t, c.Format)
		return cw.n, err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", c.Out, err)
	}
	fmt.Fprintf(g.Stderr, "%s: %d rows from %d events\n", c.Out, len(t.Rows), t.AsOfSeq)
	return nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

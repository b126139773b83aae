package main

import (
	"fmt"
	"io"
	"time"

	"github.com/plaint/plaint/eventstore"
)

// BackupCmd writes a consistent copy of the event log.
type BackupCmd struct {
	Out string `help:"File to write the copy to." required:"" type:"path"`
}

// Run copies the log directly when no server runs, or asks the running
// server for a hot copy.
func (c *BackupCmd) Run(g *Globals) error {
	start := time.Now()
	n, err := offlineOrServer(g, func(l *eventstore.Log) (int64, error) { return l.BackupFile(c.Out) }, func() (int64, error) {
		return eventstore.WriteFileAtomic(c.Out, func(w io.Writer) (int64, error) { return backupFromServer(g, w) })
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.Stdout, "backup: wrote %d bytes to %s in %s\n", n, c.Out, time.Since(start).Round(time.Millisecond))
	return nil
}

func backupFromServer(g *Globals, w io.Writer) (int64, error) {
	if err := serverHoldsData(g); err != nil {
		return 0, err
	}
	body, err := serverStream(g, "/v1/backup")
	if err != nil {
		return 0, fmt.Errorf("backup from %s: %w", g.Server, err)
	}
	defer body.Close()
	n, err := io.Copy(w, body)
	if err != nil {
		return n, fmt.Errorf("backup from %s: %w", g.Server, err)
	}
	return n, nil
}

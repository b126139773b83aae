package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	plainthttp "github.com/plaint/plaint/adapters/http"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// VerifyCmd checks the event log.
type VerifyCmd struct {
	File string `help:"Verify this log or backup file instead of the data directory's log." type:"path"`
}

// Run verifies every record and index and exits non-zero on any problem.
func (c *VerifyCmd) Run(g *Globals) error {
	if g.serverOnly() && c.File == "" {
		return c.throughServer(g)
	}
	l, err := openLogFileOffline(g, c.File)
	if domain.ErrorCode(err) == domain.EUNAVAILABLE {
		return c.throughServer(g)
	}
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
	snap := ""
	if rep.KeySnapshotSeq > 0 {
		snap = fmt.Sprintf(" and the dedupe key snapshot (to %d)", rep.KeySnapshotSeq)
	}
	fmt.Fprintf(g.Stdout, "ok: %d records, %d dictionary entries%s verified in %s (%s)\n",
		rep.Records, rep.DictEntries, snap, time.Since(start).Round(time.Millisecond), l.Path())
	return nil
}

// throughServer asks the server that holds the data directory to verify its
// live log.
func (c *VerifyCmd) throughServer(g *Globals) error {
	if err := serverHoldsData(g); err != nil {
		return err
	}
	start := time.Now()
	fmt.Fprintf(g.Stderr, "verify: the server at %s holds the data directory; asking it to verify the live log\n", g.Server)
	body, err := serverDo(g, http.MethodPost, "/v1/verify", nil, nil)
	if domain.ErrorCode(err) == domain.ECONFLICT {
		msg := strings.TrimPrefix(domain.ErrorMessage(err), eventstore.ErrCorrupt.Error()+": ")
		return fmt.Errorf("server %s: %w: %s", g.Server, eventstore.ErrCorrupt, msg)
	}
	if err != nil {
		return err
	}
	var res plainthttp.VerifyResult
	if err := json.Unmarshal(body, &res); err != nil {
		return fmt.Errorf("verify answer from %s: %w", g.Server, err)
	}
	fmt.Fprintf(g.Stdout, "ok: %d records, %d dictionary entries verified in %s (live log of %s)\n",
		res.Records, res.DictEntries, time.Since(start).Round(time.Millisecond), g.Server)
	return nil
}

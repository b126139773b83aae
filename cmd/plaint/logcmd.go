package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"

	plainthttp "github.com/plaint/plaint/adapters/http"
)

// LogCmd groups the log inspection commands.
type LogCmd struct {
	Tail  LogTailCmd  `cmd:"" help:"Print the last events (or follow new ones) as CloudEvents JSON lines."`
	Stats LogStatsCmd `cmd:"" help:"Events by type, first/last sequence and event time, bytes per event."`
}

// LogTailCmd prints stored events.
type LogTailCmd struct {
	N      uint64 `short:"n" help:"How many of the last events to print (0 with -f: only new ones)." default:"10"`
	From   uint64 `help:"Start at this sequence (1 is the first) instead of the last N."`
	Follow bool   `short:"f" help:"Keep printing new events as they are appended (from the data directory, or through the running server)."`
}

// Validate refuses --from 0: sequences start at 1.
func (c *LogTailCmd) Validate(kctx *kong.Context) error {
	for _, p := range kctx.Path {
		if p.Flag != nil && p.Flag.Name == "from" && c.From == 0 {
			return errors.New("--from 0: sequences start at 1")
		}
	}
	return nil
}

// Run prints events from the data directory, or from the running server when
// it holds the directory.
func (c *LogTailCmd) Run(g *Globals) error {
	if g.serverOnly() {
		return c.fromServer(g)
	}
	l, err := openLogOffline(g)
	if domain.ErrorCode(err) == domain.EUNAVAILABLE {
		return c.fromServer(g)
	}
	if err != nil {
		return err
	}
	defer l.Close()
	from := c.From
	if from == 0 {
		if last := l.LastSeq(); last > c.N {
			from = last - c.N + 1
		} else {
			from = 1
		}
	}
	w := bufio.NewWriter(g.Stdout)
	defer w.Flush()
	print := func(snap *eventstore.Snapshot) func(uint64, eventstore.Record) error {
		return func(seq uint64, rec eventstore.Record) error {
			ev, err := snap.Decode(rec)
			if err != nil {
				return fmt.Errorf("event %d: %w", seq, err)
			}
			line, err := plainthttp.MarshalStored(seq, rec, ev)
			if err != nil {
				return err
			}
			w.Write(line)
			return w.WriteByte('\n')
		}
	}
	for {
		changed := l.Changed()
		var last uint64
		err := l.View(func(s *eventstore.Snapshot) error {
			last = s.LastSeq()
			return s.Scan(from, 0, print(s))
		})
		if err != nil {
			return err
		}
		w.Flush()
		if !c.Follow {
			return nil
		}
		from = last + 1
		// A read-only open does not see another process's appends through
		// Changed; reopen now and then to see them.
		select {
		case <-g.Ctx.Done():
			return nil
		case <-changed:
		case <-time.After(500 * time.Millisecond):
			l.Close()
			if l, err = openLogOffline(g); domain.ErrorCode(err) == domain.EUNAVAILABLE {
				// A server started meanwhile: follow through it.
				c.From = from
				return c.fromServer(g)
			} else if err != nil {
				return err
			}
			defer l.Close()
		}
	}
}

// fromServer tails through the running server's /v1/events, polling it
// every half second when following.
func (c *LogTailCmd) fromServer(g *Globals) error {
	if err := serverHoldsData(g); err != nil {
		return err
	}
	from := c.From
	if from == 0 {
		st, err := serverStats(g)
		if err != nil {
			return err
		}
		from = 1
		if st.LastSeq > c.N {
			from = st.LastSeq - c.N + 1
		}
	}
	limit := max(c.N, 1)
	if c.Follow {
		limit = 10000
	}
	for {
		body, err := serverStream(g, fmt.Sprintf("/v1/events?from=%d&limit=%d", from, limit))
		if err != nil {
			return fmt.Errorf("tail from server: %w", err)
		}
		n, err := countingCopy(g.Stdout, body)
		body.Close()
		if err != nil || !c.Follow {
			return err
		}
		from += n
		if n < limit {
			select {
			case <-g.Ctx.Done():
				return nil
			case <-time.After(500 * time.Millisecond):
			}
		}
	}
}

// countingCopy copies JSON lines and returns how many it copied.
func countingCopy(w io.Writer, r io.Reader) (uint64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var n uint64
	for sc.Scan() {
		if _, err := fmt.Fprintf(w, "%s\n", sc.Bytes()); err != nil {
			return n, err
		}
		n++
	}
	return n, sc.Err()
}

// LogStatsCmd prints log statistics.
type LogStatsCmd struct {
	JSON bool `help:"Print JSON instead of a table."`
}

// Run prints stats from the data directory, or from the running server.
func (c *LogStatsCmd) Run(g *Globals) error {
	st, err := offlineOrServer(g, (*eventstore.Log).Stats, func() (eventstore.Stats, error) { return serverStats(g) })
	if err != nil {
		return err
	}
	if c.JSON {
		return writeIndentedJSON(g.Stdout, st)
	}
	tw := tabwriter.NewWriter(g.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "events\t%d\n", st.Events)
	fmt.Fprintf(tw, "sequences\t%d..%d\n", st.FirstSeq, st.LastSeq)
	if st.FirstEventTime != nil {
		fmt.Fprintf(tw, "event time\t%s .. %s\n", st.FirstEventTime.Format(time.RFC3339), st.LastEventTime.Format(time.RFC3339))
	}
	fmt.Fprintf(tw, "duplicates dropped\t%d\n", st.Duplicates)
	fmt.Fprintf(tw, "dead-lettered\t%d\n", st.DeadLettered)
	fmt.Fprintf(tw, "file size\t%d bytes\n", st.FileBytes)
	fmt.Fprintf(tw, "bytes per event\t%.1f\n", st.BytesPerEvent)
	fmt.Fprintf(tw, "dictionary entries\t%d\n", st.DictEntries)
	for _, t := range slices.Sorted(maps.Keys(st.ByType)) {
		fmt.Fprintf(tw, "  %s\t%d\n", t, st.ByType[t])
	}
	return tw.Flush()
}

// serverStats asks the running server for the log's stats.
func serverStats(g *Globals) (eventstore.Stats, error) {
	var out struct {
		Log eventstore.Stats `json:"log"`
	}
	if err := serverHoldsData(g); err != nil {
		return out.Log, err
	}
	b, err := serverGet(g, "/v1/stats", nil)
	if err != nil {
		return out.Log, fmt.Errorf("stats from %s: %w", g.Server, err)
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out.Log, fmt.Errorf("stats from %s: %w", g.Server, err)
	}
	return out.Log, nil
}

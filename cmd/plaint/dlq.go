package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
)

// DLQCmd inspects and replays the dead-letter stream.
type DLQCmd struct {
	List   DLQListCmd   `cmd:"" help:"List dead letters: id, time, reason, original subject, error and a body preview."`
	Show   DLQShowCmd   `cmd:"" help:"Show one dead letter with its whole body."`
	Replay DLQReplayCmd `cmd:"" help:"Re-publish dead letters that are valid now (or fixed with --body) to their subject; each leaves the DLQ once acked."`
}

// DLQListCmd lists dead letters.
type DLQListCmd struct {
	NATSFlags
	Reason string `help:"Only this reason (missing_field, invalid_field, bad_json, unknown_type, subject_mismatch, time_out_of_range, oversize, invalid_utf8)."`
	Since  string `help:"Only dead-lettered since: an RFC 3339 time, a date (2026-11-30) or a duration ago (24h)."`
	Limit  int    `help:"At most this many, the oldest first." default:"1000"`
	Format string `help:"Output: table for people, or json." default:"table" enum:"table,json" short:"f"`
}

// Validate checks the numeric flags and --since.
func (c *DLQListCmd) Validate() error {
	if c.Limit < 1 {
		return fmt.Errorf("--limit %d: must be at least 1", c.Limit)
	}
	_, err := parseSince(c.Since, time.Now())
	return err
}

// parseSince reads --since: an RFC 3339 time, a date or a duration ago.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: expected an RFC 3339 time (2026-11-30T08:00:00Z), a date (2026-11-30) or a duration ago (24h)", s)
}

// dlqError maps the dead-letter stream's errors to plaint's codes.
func dlqError(err error) error {
	switch {
	case errors.Is(err, plaintnats.ErrNoStream):
		return domain.Errorf(domain.EUNAVAILABLE, "%v (start `plaint serve`, which creates %s, or point --nats-url at its NATS)", err, plaintnats.DLQStream)
	case errors.Is(err, plaintnats.ErrDeadLetterNotFound):
		return domain.Errorf(domain.ENOTFOUND, "%v (replayed, aged out, or never there: `plaint dlq list` shows what is)", err)
	}
	return err
}

// Run lists the dead letters.
func (c *DLQListCmd) Run(g *Globals) error {
	client, err := c.connect("plaint-dlq")
	if err != nil {
		return err
	}
	defer client.Close()
	since, _ := parseSince(c.Since, time.Now())
	ctx, cancel := context.WithTimeout(g.Ctx, 5*time.Minute)
	defer cancel()
	letters, err := client.ListDeadLetters(ctx, plaintnats.DLQFilter{Reason: c.Reason, Since: since, Limit: c.Limit})
	if err != nil {
		return dlqError(err)
	}
	if c.Format == "json" {
		return writeIndentedJSON(g.Stdout, letters)
	}
	writeDeadLetters(g.Stdout, letters)
	switch {
	case len(letters) == 0:
		fmt.Fprintln(g.Stderr, "no dead letters match")
	case len(letters) == c.Limit:
		fmt.Fprintf(g.Stderr, "%d dead letters shown, the oldest first; there may be more (--limit, --since)\n", len(letters))
	default:
		fmt.Fprintf(g.Stderr, "%d dead letters (`plaint dlq show ID` for one, `plaint dlq replay` to re-publish)\n", len(letters))
	}
	return nil
}

// writeDeadLetters writes a table of dead letters.
func writeDeadLetters(w io.Writer, letters []plaintnats.DeadLetter) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTIME\tREASON\tSUBJECT\tERROR\tBODY")
	for _, d := range letters {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", d.ID, d.Time.Format(time.RFC3339), d.Reason, d.OriginalSubject, oneLine(d.Error, 80), oneLine(d.Preview, 60))
	}
	tw.Flush()
}

// oneLine cuts s to n runes, without tabs.
func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\t", " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// DLQShowCmd shows one dead letter.
type DLQShowCmd struct {
	NATSFlags
	ID     uint64 `arg:"" help:"Dead letter id (the ID column of dlq list)."`
	Format string `help:"Output: text for people (headers, then the body), json, or body (the body alone, to fix and replay with --body)." default:"text" enum:"text,json,body" short:"f"`
}

// dlqShown is a dead letter with its whole body, for show.
type dlqShown struct {
	plaintnats.DeadLetter
	Body string `json:"body"`
}

// Run shows the dead letter.
func (c *DLQShowCmd) Run(g *Globals) error {
	client, err := c.connect("plaint-dlq")
	if err != nil {
		return err
	}
	defer client.Close()
	d, err := client.GetDeadLetter(g.Ctx, c.ID)
	if err != nil {
		return dlqError(err)
	}
	switch c.Format {
	case "json":
		return writeIndentedJSON(g.Stdout, dlqShown{d, string(d.Body)})
	case "body":
		_, err := g.Stdout.Write(d.Body)
		return err
	}
	fmt.Fprintf(g.Stdout, "id:               %d\ntime:             %s\nreason:           %s\nerror:            %s\noriginal subject: %s\nsize:             %d bytes\n",
		d.ID, d.Time.Format(time.RFC3339Nano), d.Reason, d.Error, d.OriginalSubject, d.Size)
	if d.Truncated > 0 {
		fmt.Fprintf(g.Stdout, "truncated from:   %d bytes\n", d.Truncated)
	}
	fmt.Fprintf(g.Stdout, "\n%s\n", d.Body)
	return nil
}

// DLQReplayCmd re-publishes dead letters.
type DLQReplayCmd struct {
	NATSFlags
	IDs    []uint64 `arg:"" optional:"" name:"id" help:"Dead letters to replay (the ID column of dlq list)."`
	Reason string   `help:"Replay every dead letter with this reason."`
	All    bool     `help:"Replay every dead letter."`
	Body   string   `help:"With one ID: publish this file's content (the fixed event) instead of the dead letter's body." type:"path"`
}

// Validate checks that exactly one selection is given.
func (c *DLQReplayCmd) Validate() error {
	n := 0
	for _, set := range []bool{len(c.IDs) > 0, c.Reason != "", c.All} {
		if set {
			n++
		}
	}
	if n != 1 {
		return errors.New("give dead letter IDs, --reason R or --all")
	}
	if c.Body != "" && len(c.IDs) != 1 {
		return errors.New("--body fixes one dead letter: give exactly one ID")
	}
	return nil
}

// Run replays the selected dead letters and says what became of each.
func (c *DLQReplayCmd) Run(g *Globals) error {
	var fixed map[uint64][]byte
	if c.Body != "" {
		b, err := os.ReadFile(c.Body)
		if errors.Is(err, os.ErrNotExist) {
			return domain.Errorf(domain.EINVALID, "--body %s: the file does not exist", c.Body)
		}
		if err != nil {
			return domain.Errorf(domain.EINVALID, "--body %s: %v", c.Body, err)
		}
		fixed = map[uint64][]byte{c.IDs[0]: []byte(strings.TrimSpace(string(b)))}
	}
	client, err := c.connect("plaint-dlq")
	if err != nil {
		return err
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(g.Ctx, 30*time.Minute)
	defer cancel()
	results, err := client.Replay(ctx, c.IDs, c.Reason, fixed, &domain.Decoder{})
	if err != nil {
		return dlqError(err)
	}
	return reportReplay(g, results)
}

// reportReplay prints one line per dead letter and a summary. Dead letters
// still invalid make the exit code 2, failures 1.
func reportReplay(g *Globals, results []plaintnats.ReplayResult) error {
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Outcome]++
		switch r.Outcome {
		case plaintnats.ReplayPublished:
			fmt.Fprintf(g.Stdout, "%d: replayed to %s and removed from the DLQ\n", r.ID, r.Subject)
		case plaintnats.ReplayStillInvalid:
			fmt.Fprintf(g.Stdout, "%d: still invalid, left in the DLQ: %s (%s)\n", r.ID, r.Error, r.Reason)
		default:
			fmt.Fprintf(g.Stdout, "%d: not replayed: %s\n", r.ID, r.Error)
		}
	}
	fmt.Fprintf(g.Stdout, "replayed %d, still invalid %d (left in the DLQ; fix one with `plaint dlq show ID -f body > f.json`, edit, `plaint dlq replay ID --body f.json`), failed %d\n",
		counts[plaintnats.ReplayPublished], counts[plaintnats.ReplayStillInvalid], counts[plaintnats.ReplayFailed])
	switch {
	case counts[plaintnats.ReplayFailed] > 0:
		return fmt.Errorf("%d dead letter(s) could not be replayed (see above)", counts[plaintnats.ReplayFailed])
	case counts[plaintnats.ReplayStillInvalid] > 0:
		return domain.Errorf(domain.EINVALID, "%d dead letter(s) are still invalid and were left in the DLQ", counts[plaintnats.ReplayStillInvalid])
	}
	return nil
}

// dlqService answers /v1/dlq for the HTTP API (see plainthttp.DeadLetters).
type dlqService struct{ client *plaintnats.Client }

func (s dlqService) List(ctx context.Context, reason string, since time.Time, limit int) (any, error) {
	letters, err := s.client.ListDeadLetters(ctx, plaintnats.DLQFilter{Reason: reason, Since: since, Limit: limit})
	return letters, dlqError(err)
}

func (s dlqService) Show(ctx context.Context, id uint64) (any, error) {
	d, err := s.client.GetDeadLetter(ctx, id)
	if err != nil {
		return nil, dlqError(err)
	}
	return dlqShown{d, string(d.Body)}, nil
}

func (s dlqService) Replay(ctx context.Context, reason string, ids []uint64, fixed map[uint64][]byte) (any, error) {
	results, err := s.client.Replay(ctx, ids, reason, fixed, &domain.Decoder{})
	if err != nil {
		return nil, dlqError(err)
	}
	return results, nil
}

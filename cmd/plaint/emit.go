package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	plaintcsv "github.com/plaint/plaint/adapters/csv"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/adapters/synthetic"
	"github.com/plaint/plaint/domain"
)

// EmitCmd publishes events to NATS JetStream from a JSONL file of
// CloudEvents, a CSV file with a mapping, or a synthetic history, waiting
// for every acknowledgement.
type EmitCmd struct {
	NATSFlags

	File      string `name:"file" help:"JSONL file with one CloudEvent per line ('-' for stdin)." xor:"input" group:"Input"`
	CSV       string `name:"csv" help:"CSV file with a header row; needs --map." xor:"input" type:"path" group:"Input"`
	Map       string `name:"map" help:"Mapping of the CSV columns to event fields (.yaml, .yml or .json)." type:"path" group:"Input"`
	Synthetic bool   `name:"synthetic" help:"Generate a realistic synthetic history." xor:"input" group:"Input"`

	Customers int      `help:"Synthetic: customers acquired over the history." default:"1000" group:"Synthetic"`
	Months    int      `help:"Synthetic: months of history." default:"24" group:"Synthetic"`
	Seed      int64    `help:"Synthetic: random seed; the same seed gives the same events." default:"1" group:"Synthetic"`
	End       string   `help:"Synthetic: last month of the history (YYYY-MM)." default:"2026-10" group:"Synthetic"`
	Inject    []string `help:"Synthetic: inject a rise, e.g. category=billing,segment=smb,from=2026-03-02,factor=2.0,weeks=6 (repeatable)." sep:"none" group:"Synthetic"`
	TruthFile string   `name:"truth" help:"Synthetic: write the injected rises, the span and the categories to this JSON file (for plaint alerts score)." type:"path" group:"Synthetic"`

	PublishInvalid bool   `name:"publish-invalid" help:"Publish JSONL lines that fail validation too (to exercise the dead-letter stream)."`
	DryRun         bool   `name:"dry-run" help:"Read and validate everything, publish nothing."`
	Out            string `name:"out" help:"Write the events as JSONL to this file ('-' for stdout) instead of publishing."`
	Window         int    `help:"Maximum events awaiting their JetStream acknowledgement." default:"4096"`
	Batch          int    `help:"Publish in JetStream fast batches of this many events (one acknowledgement a batch; the stream must allow batches, as plaint serve makes it; duplicates inside a batch are dropped but not reported); 0 acknowledges each event." default:"0"`
	MaxAttempts    int    `name:"max-attempts" help:"Sends of one event before it counts as failed." default:"10"`
}

// Validate checks the flag combinations kong cannot express.
func (c *EmitCmd) Validate() error {
	n := 0
	for _, set := range []bool{c.File != "", c.CSV != "", c.Synthetic} {
		if set {
			n++
		}
	}
	var errs []error
	if n != 1 {
		errs = append(errs, errors.New("give exactly one of --file, --csv or --synthetic"))
	}
	if (c.CSV != "") != (c.Map != "") {
		errs = append(errs, errors.New("--csv and --map go together"))
	}
	if c.DryRun && c.Out != "" {
		errs = append(errs, errors.New("--dry-run and --out are exclusive"))
	}
	if _, err := time.Parse("2006-01", c.End); err != nil {
		errs = append(errs, fmt.Errorf("--end %q is not a month (YYYY-MM)", c.End))
	}
	if c.Customers < 1 || c.Customers > 10_000_000 {
		errs = append(errs, fmt.Errorf("--customers %d: must be from 1 to 10,000,000", c.Customers))
	}
	if c.Months < 1 || c.Months > 240 {
		errs = append(errs, fmt.Errorf("--months %d: must be from 1 to 240", c.Months))
	}
	if c.Window < 1 {
		errs = append(errs, fmt.Errorf("--window %d: at least 1 event must be allowed to await its acknowledgement", c.Window))
	}
	if c.Batch < 0 {
		errs = append(errs, fmt.Errorf("--batch %d: must be 0 (no batches) or more", c.Batch))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("--max-attempts %d: an event needs at least 1 send", c.MaxAttempts))
	}
	return errors.Join(errs...)
}

// maxReported bounds the invalid lines or rejected rows printed one by one.
const maxReported = 20

// Run reads the input and publishes (or writes) its events. The input is
// opened before NATS is connected, so that a missing file is reported as
// such, whether or not a server runs.
func (c *EmitCmd) Run(g *Globals) error {
	ctx := g.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	src, err := c.openSource()
	if err != nil {
		return err
	}
	defer src.close()
	snk, err := c.openSink(ctx, g)
	if err != nil {
		return err
	}
	report, readErr := src.emit(ctx, g, snk)
	st, sinkErr := snk.finish(ctx)
	for _, line := range report {
		fmt.Fprintln(g.Stdout, line)
	}
	// A summary of nothing published before the error says nothing useful.
	if st.Published > 0 || (readErr == nil && sinkErr == nil) {
		fmt.Fprintln(g.Stdout, snk.summary(st))
	}
	return errors.Join(readErr, sinkErr)
}

// source is an opened input of emit.
type source struct {
	c     *EmitCmd
	file  io.ReadCloser // --file or --csv
	m     *plaintcsv.Mapping
	check checker
}

// openSource opens the input files and the mapping. A file that does not
// exist or a mapping that does not parse is a usage error (exit 2).
func (c *EmitCmd) openSource() (*source, error) {
	src := &source{c: c}
	switch {
	case c.File == "-":
		src.file = io.NopCloser(os.Stdin)
	case c.File != "":
		f, err := openInput("--file", c.File)
		if err != nil {
			return nil, err
		}
		src.file = f
	case c.CSV != "":
		m, err := plaintcsv.LoadMapping(c.Map)
		if errors.Is(err, os.ErrNotExist) {
			return nil, domain.Errorf(domain.EINVALID, "--map %s: the file does not exist", c.Map)
		}
		if err != nil {
			return nil, domain.Errorf(domain.EINVALID, "%v", err)
		}
		f, err := openInput("--csv", c.CSV)
		if err != nil {
			return nil, err
		}
		src.file, src.m = f, m
	}
	return src, nil
}

// openInput opens a file named by a flag; one that does not exist or cannot
// be read is a usage error.
func openInput(flag, path string) (*os.File, error) {
	f, err := os.Open(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return nil, domain.Errorf(domain.EINVALID, "%s %s: the file does not exist", flag, path)
	case err != nil:
		return nil, domain.Errorf(domain.EINVALID, "%s %s: %v", flag, path, err)
	}
	return f, nil
}

func (src *source) close() {
	if src.file != nil {
		src.file.Close()
	}
}

func (src *source) emit(ctx context.Context, g *Globals, snk sink) ([]string, error) {
	switch {
	case src.m != nil:
		return src.emitCSV(ctx, g, snk)
	case src.file != nil:
		return src.emitFile(ctx, g, snk)
	}
	return src.emitSynthetic(ctx, g, snk)
}

// checker checks events plaint builds itself (CSV rows, the synthetic
// history) the way the server will: each is encoded as the CloudEvent the
// server receives and checked by the same Decoder, on its type's subject
// (Decoder.CheckBuilt, which gives Decode's answer without scanning the
// JSON it has just written). What the server would dead-letter is reported
// instead of published.
type checker struct {
	dec domain.Decoder
	buf []byte
}

// check returns the event's CloudEvent JSON, or the *domain.Error the
// server would dead-letter it with. The JSON is valid until the next call:
// the sinks copy what they keep.
func (k *checker) check(ev *domain.Event) ([]byte, error) {
	k.buf = ev.AppendJSON(k.buf[:0])
	if err := k.dec.CheckBuilt(ev, k.buf); err != nil {
		return nil, err
	}
	return k.buf, nil
}

// emitFile publishes a JSONL file, validating each line first.
func (src *source) emitFile(ctx context.Context, g *Globals, snk sink) ([]string, error) {
	c := src.c
	br := bufio.NewReaderSize(src.file, 1<<20)
	dec := &src.check.dec
	var lines, valid, invalid int
	for n := 1; ; n++ {
		line, rerr := br.ReadBytes('\n')
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return nil, fmt.Errorf("read %s line %d: %w", c.File, n, rerr)
		}
		line = bytes.TrimSpace(line)
		if len(line) > 0 {
			lines++
			ev, err := dec.Decode("", line)
			switch {
			case err == nil:
				valid++
				if err := snk.raw(ctx, ev.Type.Subject(), plaintnats.MsgID(&ev), line); err != nil {
					return nil, err
				}
			default:
				invalid++
				if invalid <= maxReported {
					fmt.Fprintf(g.Stderr, "%s line %d: invalid event: %v\n", c.File, n, err)
				}
				if c.PublishInvalid {
					if err := snk.raw(ctx, invalidSubject(line), "", line); err != nil {
						return nil, err
					}
				}
			}
		}
		if rerr != nil {
			break
		}
	}
	report := []string{fmt.Sprintf("read %d events: %d valid, %d invalid", lines, valid, invalid)}
	if invalid > maxReported {
		report = append(report, fmt.Sprintf("(%d more invalid lines not listed)", invalid-maxReported))
	}
	if invalid > 0 && !c.PublishInvalid {
		return report, domain.Errorf(domain.EINVALID, "%d invalid line(s) were not published (see above; --publish-invalid sends them anyway)", invalid)
	}
	return report, nil
}

// invalidSubject picks the subject of an invalid line: its type's subject
// when it names a plausible type, so the server dead-letters it with the
// right reason, else plaint.events.invalid.
func invalidSubject(line []byte) string {
	var probe struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(line, &probe) == nil && probe.Type != "" && len(probe.Type) <= 64 &&
		!strings.ContainsAny(probe.Type, " \t\r\n*>") && !strings.HasPrefix(probe.Type, ".") && !strings.HasSuffix(probe.Type, ".") && !strings.Contains(probe.Type, "..") {
		return domain.SubjectPrefix + probe.Type
	}
	return domain.SubjectPrefix + "invalid"
}

// emitCSV maps and publishes a CSV file. A row whose event the server would
// reject is a rejected row like any other.
func (src *source) emitCSV(ctx context.Context, g *Globals, snk sink) ([]string, error) {
	c := src.c
	reported := 0
	sum, err := plaintcsv.Import(ctx, src.file, src.m,
		func(ev *domain.Event) error {
			data, err := src.check.check(ev)
			if err != nil {
				return err
			}
			return snk.raw(ctx, ev.Type.Subject(), plaintnats.MsgID(ev), data)
		},
		func(r plaintcsv.Rejection) {
			reported++
			if reported <= maxReported {
				fmt.Fprintf(g.Stderr, "%s %s\n", c.CSV, r)
			}
		})
	report := []string{fmt.Sprintf("read %d rows: %d accepted, %d rejected", sum.Rows, sum.Accepted, sum.Rejected)}
	if reported > maxReported {
		report = append(report, fmt.Sprintf("(%d more rejected rows not listed)", reported-maxReported))
	}
	var rowErr *plaintcsv.RowError
	if errors.As(err, &rowErr) {
		return report, domain.Errorf(domain.EINVALID, "%v", err)
	}
	return report, err
}

// emitSynthetic generates and publishes a synthetic history, checking every
// event as the server will: an --end in the future makes events the server
// would dead-letter, and they are reported, not published.
func (src *source) emitSynthetic(ctx context.Context, g *Globals, snk sink) ([]string, error) {
	c := src.c
	end, _ := time.Parse("2006-01", c.End)
	invalid := 0
	var firstInvalid error
	inject, err := c.injections()
	if err != nil {
		return nil, err
	}
	sum, err := synthetic.Generate(ctx, synthetic.Config{Customers: c.Customers, Months: c.Months, Seed: c.Seed, End: end, Inject: inject},
		func(ev *domain.Event) error {
			data, err := src.check.check(ev)
			if domain.ErrorCode(err) == domain.EINVALID {
				invalid++
				firstInvalid = cmp.Or(firstInvalid, err)
				if invalid <= maxReported {
					fmt.Fprintf(g.Stderr, "synthetic event %s (%s at %s): invalid: %v\n", plaintnats.MsgID(ev), ev.Type, ev.Time.Format(time.RFC3339), err)
				}
				return nil
			}
			if err != nil {
				return err
			}
			return snk.raw(ctx, ev.Type.Subject(), plaintnats.MsgID(ev), data)
		})
	if errors.Is(err, synthetic.ErrConfig) {
		return nil, domain.Errorf(domain.EINVALID, "%v", err)
	}
	if err != nil {
		return nil, err
	}
	if err := c.writeTruth(sum, inject); err != nil {
		return nil, err
	}
	var parts []string
	for _, t := range domain.Types() {
		if n := sum.ByType[t]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", t, n))
		}
	}
	report := []string{
		fmt.Sprintf("generated %d events for %d customers (%d defected) from %s to %s (seed %d)",
			sum.Events, sum.Customers, sum.Defected, sum.Start.Format("2006-01"), sum.End.AddDate(0, 0, -1).Format("2006-01"), c.Seed),
		"  " + strings.Join(parts, ", "),
	}
	if invalid > 0 {
		if invalid > maxReported {
			report = append(report, fmt.Sprintf("(%d more invalid events not listed)", invalid-maxReported))
		}
		hint := ""
		var de *domain.Error
		if errors.As(firstInvalid, &de) && de.Reason == domain.ReasonTimeRange {
			hint = fmt.Sprintf(" (the server accepts event times up to 24 h ahead; --end %s reaches past that)", c.End)
		}
		return report, domain.Errorf(domain.EINVALID, "%d of %d generated events would be rejected by the server and were not published%s", invalid, sum.Events, hint)
	}
	return report, nil
}

// sink is where emitted events go: JetStream, a JSONL file, or nowhere.
type sink interface {
	raw(ctx context.Context, subject, msgID string, data []byte) error
	finish(ctx context.Context) (plaintnats.PublishStats, error)
	summary(plaintnats.PublishStats) string
}

func (c *EmitCmd) openSink(ctx context.Context, g *Globals) (sink, error) {
	switch {
	case c.DryRun:
		return &countSink{start: time.Now()}, nil
	case c.Out != "":
		return newFileSink(c.Out, g.Stdout)
	}
	return c.newNATSSink(ctx, g)
}

// countSink counts events and writes nothing (--dry-run).
type countSink struct {
	n     int64
	start time.Time
}

func (s *countSink) raw(context.Context, string, string, []byte) error { s.n++; return nil }

func (s *countSink) finish(context.Context) (plaintnats.PublishStats, error) {
	return plaintnats.PublishStats{Published: s.n, Elapsed: time.Since(s.start)}, nil
}

func (s *countSink) summary(st plaintnats.PublishStats) string {
	return fmt.Sprintf("dry run: %d events would be published", st.Published)
}

// natsSink publishes to JetStream through a Publisher or a BatchPublisher.
type natsSink struct {
	client *plaintnats.Client
	pub    publisher
	pr     *progress
}

// publisher is what natsSink publishes with.
type publisher interface {
	Publish(ctx context.Context, subject, msgID string, data []byte) error
	Wait(ctx context.Context) (plaintnats.PublishStats, error)
}

func (c *EmitCmd) newNATSSink(ctx context.Context, g *Globals) (sink, error) {
	client, err := c.connect("plaint-emit")
	if err != nil {
		return nil, err
	}
	// Fail early, with a hint, when no stream captures events.
	if err := client.CheckEventsStream(ctx); err != nil {
		client.Close()
		if errors.Is(err, plaintnats.ErrNoStream) {
			return nil, domain.Errorf(domain.EUNAVAILABLE, "%v; start `plaint serve` or point --nats-url at its NATS", err)
		}
		return nil, domain.Errorf(domain.EUNAVAILABLE, "%v", err)
	}
	pr := newProgress(g.Stderr, "publishing", "events")
	pcfg := plaintnats.PublisherConfig{
		Window: c.Window, MaxAttempts: c.MaxAttempts, Progress: func(st plaintnats.PublishStats) {
			pr.advance(st.Acked, 0, func() string {
				return fmt.Sprintf("publishing: %d sent, %d acked, %d pending, %d failed, %.0f events/s",
					st.Published, st.Acked, st.Pending, st.Failed, st.Rate())
			})
		},
	}
	var pub publisher
	if c.Batch > 0 {
		pub, err = client.NewBatchPublisher(ctx, plaintnats.BatchPublisherConfig{Publisher: pcfg, BatchSize: c.Batch})
	} else {
		pub, err = client.NewPublisher(pcfg)
	}
	if errors.Is(err, plaintnats.ErrConfig) {
		err = domain.Errorf(domain.EINVALID, "%v", err)
	}
	if err != nil {
		client.Close()
		return nil, err
	}
	return &natsSink{client: client, pub: pub, pr: pr}, nil
}

func (s *natsSink) raw(ctx context.Context, subject, msgID string, data []byte) error {
	return s.pub.Publish(ctx, subject, msgID, data)
}

func (s *natsSink) finish(ctx context.Context) (plaintnats.PublishStats, error) {
	st, err := s.pub.Wait(ctx)
	s.pr.done()
	_ = s.client.Close() // every ack was awaited: nothing is left to flush
	return st, err
}

func (s *natsSink) summary(st plaintnats.PublishStats) string {
	return fmt.Sprintf("published %d events: %d acked (%d duplicates reported by JetStream), %d failed, %d retries, %.0f events/s in %s",
		st.Published, st.Acked, st.Duplicates, st.Failed, st.Retries, st.Rate(), st.Elapsed.Round(time.Millisecond))
}

// fileSink writes events as JSONL (--out).
type fileSink struct {
	f     *os.File // nil for stdout
	w     *bufio.Writer
	n     int64
	start time.Time
	name  string
}

func newFileSink(path string, stdout io.Writer) (*fileSink, error) {
	s := &fileSink{start: time.Now(), name: path}
	if path == "-" {
		s.w = bufio.NewWriterSize(stdout, 1<<20)
		s.name = "stdout"
		return s, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	s.f, s.w = f, bufio.NewWriterSize(f, 1<<20)
	return s, nil
}

func (s *fileSink) raw(_ context.Context, _, _ string, data []byte) error {
	s.n++
	s.w.Write(data)
	if err := s.w.WriteByte('\n'); err != nil {
		return fmt.Errorf("write %s: %w", s.name, err)
	}
	return nil
}

func (s *fileSink) finish(context.Context) (plaintnats.PublishStats, error) {
	st := plaintnats.PublishStats{Published: s.n, Elapsed: time.Since(s.start)}
	err := s.w.Flush()
	if s.f != nil {
		// Devices and pipes (/dev/null, a FIFO) cannot be synced; that is no error.
		if serr := s.f.Sync(); err == nil && !errors.Is(serr, syscall.EINVAL) {
			err = serr
		}
		if cerr := s.f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return st, fmt.Errorf("write %s: %w", s.name, err)
	}
	return st, nil
}

func (s *fileSink) summary(st plaintnats.PublishStats) string {
	return fmt.Sprintf("wrote %d events to %s", st.Published, s.name)
}

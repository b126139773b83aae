package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	plainthttp "github.com/plaint/plaint/adapters/http"
	plaintnats "github.com/plaint/plaint/adapters/nats"
	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
	"github.com/plaint/plaint/internal/scrub"
	"github.com/plaint/plaint/projections"
)

// ForgetCmd erases a customer (GDPR art. 17).
type ForgetCmd struct {
	NATSFlags
	Customer    string `help:"Id of the customer to forget (their customer_id)." required:""`
	Reason      string `help:"Why, in free text kept with the erasure (a request number, say); it must not contain the customer id."`
	Yes         bool   `help:"Do not ask for confirmation." short:"y"`
	SkipStreams bool   `name:"skip-streams" help:"Offline, with neither a JetStream store under --data nor --nats-url: erase from the log and projections only (JetStream's copies must then be erased where that NATS runs)."`
}

// Run erases the customer: through the running server that holds --data,
// or directly in --data when none does.
func (c *ForgetCmd) Run(g *Globals) error {
	if err := c.confirm(g); err != nil {
		return err
	}
	req := plainthttp.ForgetRequest{CustomerID: c.Customer, Reason: c.Reason, RequestedBy: osUser()}
	if g.serverOnly() {
		return c.throughServer(g, req)
	}
	l, err := eventstore.Open(logPath(g.Data), eventstore.WithLockTimeout(300*time.Millisecond))
	switch {
	case errors.Is(err, eventstore.ErrLocked):
		return c.throughServer(g, req)
	case err != nil:
		if _, serr := os.Stat(logPath(g.Data)); serr != nil {
			return &domain.Error{Code: domain.ENOTFOUND, Message: fmt.Sprintf("no event log at %s (pass --data)", logPath(g.Data))}
		}
		return err
	}
	defer l.Close()
	return c.offline(g, l, req)
}

// confirm asks on a terminal, unless --yes.
func (c *ForgetCmd) confirm(g *Globals) error {
	if c.Yes {
		return nil
	}
	if !term.IsTerminal(int(os.Stdin.Fd())) {
		return domain.Errorf(domain.EINVALID, "forgetting a customer cannot be undone: pass --yes to confirm (stdin is not a terminal)")
	}
	fmt.Fprintf(g.Stderr, "Forget customer %s everywhere plaint keeps them? This cannot be undone. [y/N] ", c.Customer)
	line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
	if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
		return domain.Errorf(domain.EINVALID, "not confirmed; nothing was changed")
	}
	return nil
}

// offline erases the customer in --data, with the JetStream store of an
// embedded server started on it (or --nats-url).
func (c *ForgetCmd) offline(g *Globals, l *eventstore.Log, req plainthttp.ForgetRequest) error {
	f := &forgetter{log: l, progress: func(step string) { fmt.Fprintf(g.Stderr, "forget: %s\n", step) }}
	pe, err := projections.Open(l, filepath.Join(g.Data, projectionsFile))
	if err != nil {
		return err
	}
	defer pe.Close()
	f.proj = pe
	store := filepath.Join(g.Data, jetstreamDir)
	natsURL := c.NATSURL
	if natsURL == "" {
		if _, err := os.Stat(store); err != nil {
			if !c.SkipStreams {
				return domain.Errorf(domain.EINVALID, "no JetStream store in %s: pass --nats-url with the NATS server the events came through, or --skip-streams to leave JetStream's copies alone; nothing was changed", store)
			}
		} else {
			srv, err := plaintnats.StartServer(plaintnats.ServerConfig{Listen: "127.0.0.1:0", StoreDir: store})
			if err != nil {
				return err
			}
			defer srv.Shutdown()
			natsURL, f.storeDir = srv.ClientURL(), store
		}
	}
	if natsURL != "" {
		client, err := c.dial(natsURL, "plaint forget")
		if err != nil {
			return err
		}
		defer client.Close()
		f.streams = client
	}
	res, err := f.forget(g.Ctx, req)
	if res != nil {
		res.print(g.Stdout, g.Data)
	}
	return err
}

// throughServer asks the server that holds --data to erase the customer.
func (c *ForgetCmd) throughServer(g *Globals, req plainthttp.ForgetRequest) error {
	if err := serverHoldsData(g); err != nil {
		return err
	}
	fmt.Fprintf(g.Stderr, "forget: the server at %s holds the data directory; asking it to erase the customer\n", g.Server)
	body, _ := json.Marshal(req)
	out, err := serverDo(g, http.MethodPost, "/v1/customers/"+url.PathEscape(c.Customer)+"/forget", nil, body)
	if err != nil {
		return err
	}
	var res forgetResult
	if err := json.Unmarshal(out, &res); err != nil {
		return fmt.Errorf("forget answer from %s: %w", g.Server, err)
	}
	res.print(g.Stdout, "the server's data directory")
	return nil
}

// osUser names who runs the command, for the erasure record.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if u := os.Getenv("USER"); u != "" {
		return u
	}
	return "unknown"
}

// forgetter erases a customer from everything plaint keeps: the log (and
// its key snapshot), the projections, and JetStream's streams. serve holds
// one for POST /v1/customers/{id}/forget; `plaint forget` makes one over
// --data when no server holds it.
type forgetter struct {
	log  *eventstore.Log
	proj *projections.Engine // nil: none
	// streams erases JetStream's copies; nil: JetStream is not searched.
	streams *plaintnats.Client
	// storeDir is the embedded server's JetStream directory, searched for
	// the erased values afterwards; "" for an external NATS.
	storeDir string
	progress func(step string) // nil: silent
	mu       sync.Mutex        // one erasure at a time
}

// Forget answers POST /v1/customers/{id}/forget. The erasure goes on to
// its end if the client goes away: a half-done one would have to be asked
// again.
func (f *forgetter) Forget(ctx context.Context, req plainthttp.ForgetRequest) (any, error) {
	res, err := f.forget(context.WithoutCancel(ctx), req)
	if err != nil {
		return nil, err
	}
	return res, nil
}

// forgetResult says what an erasure did; the HTTP answer and the CLI's
// report.
type forgetResult struct {
	Pseudonym   string                    `json:"pseudonym"`
	Log         *eventstore.ForgetReport  `json:"log"`
	Events      *plaintnats.EraseReport   `json:"events_stream,omitempty"`
	DeadLetters *plaintnats.EraseReport   `json:"dead_letters,omitempty"`
	Projections *projections.ForgetReport `json:"projections,omitempty"`
	Checked     int                       `json:"values_checked"`
	Kept        int                       `json:"values_kept"`
	Unmapped    int                       `json:"events_without_stream_position,omitempty"`
	Took        time.Duration             `json:"took_ns"`
	Streams     string                    `json:"streams,omitempty"` // why they were not searched
}

func (f *forgetter) step(s string) {
	if f.progress != nil {
		f.progress(s)
	}
}

// forget runs the erasure (see run), with its failures shown in full:
// the operator who asked needs to know what is left to do.
func (f *forgetter) forget(ctx context.Context, req plainthttp.ForgetRequest) (*forgetResult, error) {
	res, err := f.run(ctx, req)
	if err != nil && domain.ErrorCode(err) == domain.EINTERNAL {
		err = &domain.Error{Code: domain.EINTERNAL, Message: "forget: " + err.Error()}
	}
	return res, err
}

// run runs the erasure. The streams are erased before the log, so that a
// failure to reach them leaves the log as it was and the erasure can simply
// be asked again; once the log has committed, a failure is reported with
// what is left to do.
func (f *forgetter) run(ctx context.Context, req plainthttp.ForgetRequest) (*forgetResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := time.Now()
	rec := domain.Forgotten{Pseudonym: domain.Pseudonym(1), Reason: req.Reason, RequestedBy: req.RequestedBy}
	if err := rec.Check(req.CustomerID); err != nil {
		return nil, err
	}
	f.step("reading the log")
	plan, err := f.log.PlanForget(ctx, req.CustomerID)
	if err != nil {
		return nil, err
	}
	if f.proj != nil {
		if names := f.proj.Naming(req.CustomerID); len(names) > 0 {
			return nil, domain.Errorf(domain.ECONFLICT, "projection(s) %s name the customer in their spec; change or drop them first; nothing was changed", strings.Join(names, ", "))
		}
	}
	res := &forgetResult{Pseudonym: plan.Pseudonym, Unmapped: plan.Unmapped}
	needles, kept := plan.Needles(), plan.Kept()
	var check [][]byte // values that must be in no file afterwards
	for i, n := range needles {
		if kept[i] {
			res.Kept++
		} else {
			check = append(check, n)
		}
	}
	res.Checked = len(check)
	if f.streams == nil {
		res.Streams = "not searched (no NATS)"
	} else {
		f.step(fmt.Sprintf("erasing %d messages from %s and searching %s", len(plan.StreamSeqs), plaintnats.EventsStream, plaintnats.DLQStream))
		if err := f.eraseStreams(ctx, plan, res); err != nil {
			return res, err
		}
	}
	f.step(fmt.Sprintf("rewriting %d records, renaming the customer to %s, scrubbing free pages", plan.Rewrite, plan.Pseudonym))
	lr, err := f.log.Forget(ctx, plan, eventstore.ForgetOptions{Reason: req.Reason, RequestedBy: req.RequestedBy})
	res.Log = lr
	if err != nil {
		return res, err
	}
	if f.streams != nil && len(lr.LateStreamSeqs) > 0 {
		er, err := f.streams.EraseMessages(ctx, plaintnats.EventsStream, lr.LateStreamSeqs)
		res.Events.Erased += er.Erased
		res.Events.Gone += er.Gone
		if err != nil {
			return res, fmt.Errorf("the log is erased; erasing the JetStream copies of %d late events failed: %w", len(lr.LateStreamSeqs), err)
		}
	}
	if f.proj != nil {
		f.step("rebuilding the projections")
		pr, err := f.proj.Forget(ctx, check)
		res.Projections = &pr
		if err != nil {
			return res, fmt.Errorf("the log is erased; the projections: %w (restarting plaint rebuilds them)", err)
		}
	}
	if f.storeDir != "" {
		if err := checkDir(f.storeDir, check); err != nil {
			return res, err
		}
	}
	res.Took = time.Since(start)
	return res, nil
}

// eraseStreams erases the copies of the customer's events from the events
// stream, and every dead letter that mentions them (see
// plaintnats.Client.EraseCustomer), before the log is touched.
func (f *forgetter) eraseStreams(ctx context.Context, plan *eventstore.ForgetPlan, res *forgetResult) error {
	ev, dl, err := f.streams.EraseCustomer(ctx, plan, f.log.Contains)
	res.Events, res.DeadLetters = &ev, &dl
	if err != nil {
		return fmt.Errorf("%w; nothing was erased from the log, ask again", err)
	}
	return nil
}

// checkDir searches every file under dir for needles, like `grep -ra`.
func checkDir(dir string, needles [][]byte) error {
	if len(needles) == 0 {
		return nil
	}
	hits, err := scrub.FindInDir(dir, needles)
	if err != nil {
		return err
	}
	for path, hs := range hits {
		return fmt.Errorf("%w: %s holds an erased value at byte %d (JetStream may keep a message it deleted without erasing, for example one removed by interest retention, until it compacts the block)", eventstore.ErrNotErased, path, hs[0].Offset)
	}
	return nil
}

// print writes the report for a person.
func (r *forgetResult) print(w io.Writer, where string) {
	if r.Log == nil {
		return
	}
	l := r.Log
	fmt.Fprintf(w, "forgotten: the customer is now %s\n", r.Pseudonym)
	fmt.Fprintf(w, "  log: %s and %s by others; %s rewritten; %s zeroed; longest lock hold %s\n",
		plural(l.Events, "event"), plural(l.Mentions, "mention"), plural(l.Rewritten, "record"), plural(l.PagesScrubbed, "free page"),
		l.MaxHold.Round(time.Millisecond))
	switch {
	case r.Events != nil:
		fmt.Fprintf(w, "  jetstream: %s erased from %s (%d already gone), %s erased from %s (%d searched)\n",
			plural(r.Events.Erased, "message"), plaintnats.EventsStream, r.Events.Gone, plural(r.DeadLetters.Erased, "dead letter"),
			plaintnats.DLQStream, r.DeadLetters.Scanned)
	case r.Streams != "":
		fmt.Fprintf(w, "  jetstream: %s\n", r.Streams)
	}
	if r.Projections != nil {
		fmt.Fprintf(w, "  projections: %d rebuilt; %s zeroed\n", r.Projections.Rebuilt, plural(r.Projections.PagesScrubbed, "free page"))
	}
	fmt.Fprintf(w, "  checked: %d erased values are in no file of %s", r.Checked, where)
	switch {
	case r.Kept == 1:
		fmt.Fprintf(w, " (1 more value is also other customers' data, so it stays)")
	case r.Kept > 1:
		fmt.Fprintf(w, " (%d more values are also other customers' data, so they stay)", r.Kept)
	}
	fmt.Fprintf(w, "\n  took %s\n", r.Took.Round(time.Millisecond))
}

// plural says n things.
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

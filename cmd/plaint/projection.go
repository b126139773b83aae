package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
)

// ProjectionFlags configure serve's projection engine.
type ProjectionFlags struct {
	TrendCacheIdle time.Duration `name:"trend-cache-idle" help:"Evict an ad-hoc trend projection (builtin/trend/...) that answered nothing for this long; it is rebuilt from the log when asked again (0: never)." default:"10m" env:"PLAINT_TREND_CACHE_IDLE" group:"Projections"`
	RestateGrace   time.Duration `name:"restate-grace" help:"How long after a trend bucket was reported (the log held events in it and after it) late complaints still count as its normal lag; later ones mark it restated." default:"24h" env:"PLAINT_RESTATE_GRACE" group:"Projections"`
	MaxGroups      int           `name:"max-groups" help:"Most groups (a bucket and a combination of grouped values) one projection may hold, and most rows one trend answer may have; past it the projection fails with an error and its build stops (0: no bound)." default:"1000000" env:"PLAINT_MAX_GROUPS" group:"Projections"`
	TrendCacheMB   int64         `name:"trend-cache-mb" help:"Memory (MiB) the ad-hoc trend projections may hold together; beyond it the least recently used are evicted (0: no bound)." default:"256" env:"PLAINT_TREND_CACHE_MB" group:"Projections"`
}

// Validate rejects negative bounds.
func (f *ProjectionFlags) Validate() error {
	var errs []error
	if f.TrendCacheIdle < 0 {
		errs = append(errs, fmt.Errorf("--trend-cache-idle %s: must be 0 (never) or more", f.TrendCacheIdle))
	}
	if f.RestateGrace < 0 {
		errs = append(errs, fmt.Errorf("--restate-grace %s: must be 0 or more", f.RestateGrace))
	}
	if f.MaxGroups < 0 {
		errs = append(errs, fmt.Errorf("--max-groups %d: must be 0 (no bound) or more", f.MaxGroups))
	}
	if f.TrendCacheMB < 0 {
		errs = append(errs, fmt.Errorf("--trend-cache-mb %d: must be 0 (no bound) or more", f.TrendCacheMB))
	}
	return errors.Join(errs...)
}

// options returns the engine options the flags set.
func (f *ProjectionFlags) options() []projections.Option {
	return []projections.Option{projections.WithTrendCache(f.TrendCacheIdle, f.TrendCacheMB<<20), projections.WithRestateGrace(f.RestateGrace),
		projections.WithMaxGroups(f.MaxGroups)}
}

// ProjectionCmd manages analysts' projections on the running server.
type ProjectionCmd struct {
	Create ProjectionCreateCmd `cmd:"" help:"Register a spec (YAML or JSON): it is built over all history, then stays live."`
	List   ProjectionListCmd   `cmd:"" help:"List projections with their state and progress."`
	Show   ProjectionShowCmd   `cmd:"" help:"Show a projection: spec, state, % done and ETA while building."`
	Drop   ProjectionDropCmd   `cmd:"" help:"Remove a projection and its stored state (or evict an ad-hoc trend from the cache)."`
	Query  ProjectionQueryCmd  `cmd:"" help:"Print a projection's result, caught up with the log."`
}

// ProjectionCreateCmd registers a spec.
type ProjectionCreateCmd struct {
	File string `short:"f" required:"" help:"Spec file (YAML or JSON)." type:"existingfile"`
	Wait bool   `help:"Wait until the build has caught up, showing progress on stderr."`
}

// Run checks the spec locally (for precise errors), then registers it.
func (c *ProjectionCreateCmd) Run(g *Globals) error {
	src, err := os.ReadFile(c.File)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	if _, err := projections.ParseSpec(src); err != nil {
		return fmt.Errorf("%s: %w", c.File, err)
	}
	b, err := serverDo(g, http.MethodPost, "/v1/projections", nil, src)
	if err != nil {
		return needServer(g, err)
	}
	var st projections.Status
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("decode status: %w", err)
	}
	if c.Wait {
		if st, err = waitBuilt(g, st); err != nil {
			return err
		}
	}
	printStatus(g, st)
	return nil
}

// waitBuilt polls the server until the projection (or its rebuild) is live.
func waitBuilt(g *Globals, st projections.Status) (projections.Status, error) {
	p := newProgress(g.Stderr, "building "+st.Name, "events")
	defer p.done()
	for {
		cur := st
		if st.Rebuild != nil {
			cur = *st.Rebuild
		}
		switch cur.State {
		case "failed":
			return st, domain.Errorf(domain.EINTERNAL, "building %s failed: %s", st.Name, cur.Error)
		case "live":
			return st, nil
		}
		p.update(cur.Checkpoint, cur.LastSeq)
		select {
		case <-g.Ctx.Done():
			return st, g.Ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		var err error
		if st, err = fetchStatus(g, st.Name); err != nil {
			return st, err
		}
	}
}

func fetchStatus(g *Globals, name string) (projections.Status, error) {
	var st projections.Status
	b, err := serverGet(g, "/v1/projections/"+url.PathEscape(name), nil)
	if err != nil {
		return st, needServer(g, err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

// needServer explains that a command needs the running server.
func needServer(g *Globals, err error) error {
	if errors.Is(err, errNoServer) {
		return &domain.Error{Code: domain.EUNAVAILABLE, Message: fmt.Sprintf(
			"projections live in the running server and none answers at %s (start `plaint serve`, or run a spec offline with `plaint replay`)", g.Server)}
	}
	return err
}

func describe(st projections.Status) string {
	s := st.State
	if st.State == "building" {
		s += fmt.Sprintf(" %.1f%%", st.Progress)
		if st.ETASeconds != nil {
			s += ", ETA " + (time.Duration(*st.ETASeconds * float64(time.Second))).Round(time.Second).String()
		}
	}
	if st.Error != "" {
		s += ": " + st.Error
	}
	if st.Cache != nil {
		s += fmt.Sprintf(" (cache, last used %s ago)", time.Since(st.Cache.LastUsed).Round(time.Second))
	}
	return s
}

// mib formats a byte count for people.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/1024)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

func printStatus(g *Globals, st projections.Status) {
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "name:\t%s\n", st.Name)
	fmt.Fprintf(w, "kind:\t%s (version %d)\n", st.Kind, st.Version)
	fmt.Fprintf(w, "state:\t%s\n", describe(st))
	fmt.Fprintf(w, "position:\t%d of %d\n", st.Checkpoint, st.LastSeq)
	if st.EventsPerSecond > 0 {
		fmt.Fprintf(w, "speed:\t%.0f events/s\n", st.EventsPerSecond)
	}
	fmt.Fprintf(w, "memory:\t%s (estimated)\n", mib(st.MemoryBytes))
	if st.Cache != nil && st.Cache.EvictAfter != nil {
		fmt.Fprintf(w, "cache:\tan ad-hoc trend: evicted after %s unless asked again (or sooner, past the memory bound), rebuilt on demand\n",
			st.Cache.EvictAfter.Local().Format("2006-01-02 15:04:05"))
	}
	if st.Rebuild != nil {
		fmt.Fprintf(w, "rebuild:\t%s (the current version serves until it has caught up)\n", describe(*st.Rebuild))
	}
	if st.Spec != nil {
		sp := st.Spec
		fmt.Fprintf(w, "group by:\t%s per %s\n", strings.Join(sp.GroupBy, ", "), sp.Bucket)
		fmt.Fprintf(w, "measures:\t%s\n", strings.Join(sp.Measures, ", "))
		if len(sp.Filter.Types) > 0 {
			fmt.Fprintf(w, "types:\t%s\n", strings.Join(sp.Filter.Types, ", "))
		}
		for _, k := range slices.Sorted(maps.Keys(sp.Filter.Where)) {
			fmt.Fprintf(w, "where:\t%s in %s\n", k, strings.Join(sp.Filter.Where[k], ", "))
		}
		switch f, to := sp.Filter.From, sp.Filter.To; {
		case f != "" && to != "":
			fmt.Fprintf(w, "time:\tfrom %s, before %s\n", f, to)
		case f != "":
			fmt.Fprintf(w, "time:\tfrom %s on\n", f)
		case to != "":
			fmt.Fprintf(w, "time:\tbefore %s\n", to)
		}
	}
	w.Flush()
}

// ProjectionListCmd lists projections.
type ProjectionListCmd struct {
	JSON bool `help:"Print JSON."`
}

// Run prints one line per projection.
func (c *ProjectionListCmd) Run(g *Globals) error {
	b, err := serverGet(g, "/v1/projections", nil)
	if err != nil {
		return needServer(g, err)
	}
	if c.JSON {
		_, err := g.Stdout.Write(b)
		return err
	}
	var out struct {
		Projections []projections.Status `json:"projections"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("decode list: %w", err)
	}
	w := tabwriter.NewWriter(g.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "NAME\tKIND\tSTATE\tPOSITION\tMEMORY")
	for _, st := range out.Projections {
		state := describe(st)
		if st.Rebuild != nil {
			state += "; rebuilding " + describe(*st.Rebuild)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%d/%d\t%s\n", st.Name, st.Kind, state, st.Checkpoint, st.LastSeq, mib(st.MemoryBytes))
	}
	return w.Flush()
}

// ProjectionShowCmd shows one projection.
type ProjectionShowCmd struct {
	Name string `arg:"" help:"Projection name."`
	JSON bool   `help:"Print JSON."`
}

// Run prints the projection's status.
func (c *ProjectionShowCmd) Run(g *Globals) error {
	st, err := fetchStatus(g, c.Name)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeIndentedJSON(g.Stdout, st)
	}
	printStatus(g, st)
	return nil
}

// ProjectionDropCmd removes a projection.
type ProjectionDropCmd struct {
	Name string `arg:"" help:"Projection name."`
}

// Run drops the projection.
func (c *ProjectionDropCmd) Run(g *Globals) error {
	if _, err := serverDo(g, http.MethodDelete, "/v1/projections/"+url.PathEscape(c.Name), nil, nil); err != nil {
		return needServer(g, err)
	}
	fmt.Fprintf(g.Stdout, "dropped %s\n", c.Name)
	return nil
}

// ProjectionQueryCmd prints a projection's result.
type ProjectionQueryCmd struct {
	Name   string `arg:"" help:"Projection name."`
	Format string `help:"Output format." default:"table" enum:"table,csv,json" short:"f"`
	AsOf   string `name:"as-of" help:"Answer as of a log sequence number (this node's), a record time (RFC 3339), or stream:N, a position of the events stream (the same on every node)."`
}

// Run prints the result.
func (c *ProjectionQueryCmd) Run(g *Globals) error {
	v := url.Values{"format": {c.Format}}
	if c.AsOf != "" {
		v.Set("as_of", c.AsOf)
	}
	b, err := serverGet(g, "/v1/projections/"+url.PathEscape(c.Name)+"/result", v)
	if err != nil {
		return needServer(g, err)
	}
	_, err = g.Stdout.Write(b)
	return err
}

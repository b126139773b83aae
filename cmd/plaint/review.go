package main

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"

	plainthttp "github.com/plaint/plaint/adapters/http"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/customers"
)

// ReviewCmd prints the lost-customer review of a month or quarter.
type ReviewCmd struct {
	Period string `help:"The month (2025-09) or quarter (2025-Q3) to review." required:""`
	Top    int    `help:"Callbacks to list per currency: the lost accounts of most value." default:"10"`
	Limit  int    `help:"Lost customers to list, by defection time (0: all); the review always says how many there were." default:"100"`
	Format string `help:"Output: markdown (ready to paste into meeting notes), csv (one row per lost customer) or json." default:"markdown" enum:"markdown,csv,json" short:"f"`
}

// Run asks the running server and, when none answers, reads the data
// directory itself.
func (c *ReviewCmd) Run(g *Globals) error {
	v := url.Values{"period": {c.Period}, "top": {strconv.Itoa(c.Top)}, "limit": {strconv.Itoa(c.Limit)}}
	return askOrAnswer(g, "/v1/review", v, c.Format, plainthttp.ParseReviewQuery, (*projections.Engine).Review, customers.WriteReview)
}

// ScorecardCmd prints the five scorecard metrics month by month.
type ScorecardCmd struct {
	From   string `help:"First month (2025-01)." required:""`
	To     string `help:"Last month (2025-12)." required:""`
	By     string `help:"Group: segment, or all customers together." default:"segment" enum:"segment,all"`
	Format string `help:"Output: table for people, csv or json (renewals broken down by reason)." default:"table" enum:"table,csv,json" short:"f"`
}

// Run asks the running server and, when none answers, reads the data
// directory itself.
func (c *ScorecardCmd) Run(g *Globals) error {
	v := url.Values{"from": {c.From}, "to": {c.To}, "by": {c.By}}
	return askOrAnswer(g, "/v1/scorecard", v, c.Format, plainthttp.ParseScorecardQuery, (*projections.Engine).Scorecard, customers.WriteScorecard)
}

// LinkageCmd prints which complaint categories are followed by defections.
type LinkageCmd struct {
	Window string `help:"A defection this long after a complaint is linked to it (days)." default:"90d"`
	By     string `help:"Breakdown: category, or category,segment." default:"category"`
	From   string `help:"First month of complaints considered (default: the whole history)."`
	To     string `help:"Last month of complaints considered."`
	AsOf   string `name:"as-of" help:"End of the history (RFC 3339 or a date; default: the latest event). Revenue at risk looks at the window before it."`
	Sort   string `help:"Row order: risk (revenue at risk) or count (complainants)." default:"risk" enum:"risk,count"`
	Format string `help:"Output: table for people, csv or json." default:"table" enum:"table,csv,json" short:"f"`
}

// Run asks the running server and, when none answers, reads the data
// directory itself.
func (c *LinkageCmd) Run(g *Globals) error {
	v := url.Values{"window": {c.Window}, "by": {c.By}, "sort": {c.Sort}}
	for k, s := range map[string]string{"from": c.From, "to": c.To, "as_of": c.AsOf} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return askOrAnswer(g, "/v1/linkage", v, c.Format, plainthttp.ParseLinkageQuery, (*projections.Engine).Linkage, customers.WriteLinkage)
}

// askOrAnswer reads the query in v with parse (refusing a bad one before
// anything is opened), then answers as askOrFold does: from the running
// server, or with answer over an engine of its own, written by write.
func askOrAnswer[Q, R any](g *Globals, path string, v url.Values, format string, parse func(url.Values) (Q, error),
	answer func(*projections.Engine, context.Context, Q) (R, error), write func(io.Writer, R, string) error) error {
	q, err := parse(v)
	if err != nil {
		return err
	}
	return askOrFold(g, path, v, format, func(e *projections.Engine, w io.Writer) error {
		r, err := answer(e, g.Ctx, q)
		if err != nil {
			return err
		}
		return write(w, r, format)
	})
}

// askOrFold asks the running server for path (which checks it holds
// --data), and when no server answers, opens the data directory and
// answers with fold over an engine of its own.
func askOrFold(g *Globals, path string, v url.Values, format string, fold func(*projections.Engine, io.Writer) error) error {
	v.Set("format", format)
	body, err := serverGet(g, path, v)
	if err == nil {
		_, err = g.Stdout.Write(body)
		return err
	}
	if !errors.Is(err, errNoServer) {
		return err
	}
	l, err := openLogOffline(g)
	if err != nil {
		return err
	}
	defer l.Close()
	e, err := projections.Open(l, "")
	if err != nil {
		return err
	}
	defer e.Close()
	return fold(e, g.Stdout)
}

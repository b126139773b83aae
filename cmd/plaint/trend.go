package main

import (
	"net/url"
	"strconv"

	plainthttp "github.com/plaint/plaint/adapters/http"
	"github.com/plaint/plaint/projections"
)

// TrendCmd prints month-over-month complaint trends.
type TrendCmd struct {
	By     string   `help:"Dimensions to break down by, comma separated, up to 3: category, segment, channel, root_cause, product, region, severity." default:"category" short:"b"`
	From   string   `help:"First bucket (2025-11, 2026-Q1, 2026-W05). Default: 11 buckets before --to, or the first bucket after that with complaints."`
	To     string   `help:"Last bucket. Default: the last bucket with complaints."`
	Bucket string   `help:"Bucket width: month, week (ISO), quarter or day." default:"month" enum:"month,week,quarter,day"`
	Where  []string `help:"Only complaints with dimension=value[,value...]; repeatable." sep:"none" placeholder:"DIM=VALUE"`
	AsOf   string   `name:"as-of" help:"Answer as plaint knew it then: a log sequence number (this node's), a record time (RFC 3339), or stream:N, the position N of the events stream (PLAINT_EVENTS), which every node of a cluster answers alike."`
	Alpha  float64  `help:"Significance level of the month-over-month test (arrows in the table)." default:"0.05"`
	Format string   `help:"Output: table for people, csv (long format) or json." default:"table" enum:"table,csv,json" short:"f"`
}

// Run asks the running server and, when none answers, reads the data
// directory itself.
func (c *TrendCmd) Run(g *Globals) error {
	v := url.Values{"by": {c.By}, "bucket": {c.Bucket}, "where": c.Where}
	for k, s := range map[string]string{"from": c.From, "to": c.To, "as_of": c.AsOf} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if c.Alpha != projections.DefaultAlpha {
		v.Set("alpha", strconv.FormatFloat(c.Alpha, 'g', -1, 64))
	}
	return askOrAnswer(g, "/v1/trends", v, c.Format, plainthttp.ParseTrendQuery, (*projections.Engine).Trends, projections.WriteTrend)
}

// errNoServer means nothing answers at --server.

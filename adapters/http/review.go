package http

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections/customers"
)

// CustomerEngine is what the review, scorecard and linkage endpoints need
// of the projection engine; *projections.Engine implements it. A
// Config.Projections without it answers them 503.
type CustomerEngine interface {
	Review(ctx context.Context, q customers.ReviewQuery) (*customers.Review, error)
	Scorecard(ctx context.Context, q customers.ScorecardQuery) (*customers.Scorecard, error)
	Linkage(ctx context.Context, q customers.LinkageQuery) (*customers.Linkage, error)
}

// DefaultReviewLimit is how many lost customers a review lists unless told.
const DefaultReviewLimit = 100

// registerReviewRoutes adds:
//
//	GET /v1/review?period=2025-09|2025-Q3&top=10&limit=100&format=json|markdown|csv
//	GET /v1/scorecard?from=2025-01&to=2025-12&by=segment|all&format=json|table|csv
//	GET /v1/linkage?window=90d&by=category[,segment]&from=&to=&as_of=&sort=risk|count&format=json|table|csv
func (s *Server) registerReviewRoutes() {
	s.handle("GET /v1/review", RoleRead, s.withCustomers(s.handleReview))
	s.handle("GET /v1/scorecard", RoleRead, s.withCustomers(s.handleScorecard))
	s.handle("GET /v1/linkage", RoleRead, s.withCustomers(s.handleLinkage))
}

func (s *Server) withCustomers(h func(http.ResponseWriter, *http.Request, CustomerEngine)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ce, ok := s.cfg.Projections.(CustomerEngine)
		if !ok {
			s.error(w, r, domain.Errorf(domain.EUNAVAILABLE, "the lost-customer review is not running on this server"))
			return
		}
		h(w, r, ce)
	}
}

// queryNow is the "now" that decides partial periods: the wall clock to
// the minute, so that answers can be shared within a minute.
func queryNow() time.Time { return time.Now().UTC().Truncate(time.Minute) }

func intParam(v url.Values, name string, def, lo, hi int) (int, error) {
	s := v.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < lo || n > hi {
		return 0, domain.FieldErrorf(name, "%q must be a whole number from %d to %d", s, lo, hi)
	}
	return n, nil
}

// ParseReviewQuery reads a review query from URL parameters: period
// (required), top (callbacks per currency, default 10), limit (lost
// customers listed, default 100, 0 for all).
func ParseReviewQuery(v url.Values) (customers.ReviewQuery, error) {
	q := customers.ReviewQuery{Period: v.Get("period"), Now: queryNow()}
	if q.Period == "" {
		return q, domain.FieldErrorf("period", "is required (a month such as 2025-09 or a quarter such as 2025-Q3)")
	}
	if _, err := customers.ParsePeriod("period", q.Period); err != nil {
		return q, err
	}
	var err error
	if q.Top, err = intParam(v, "top", customers.DefaultTop, 1, 10000); err != nil {
		return q, err
	}
	q.Limit, err = intParam(v, "limit", DefaultReviewLimit, 0, 1<<30)
	return q, err
}

// ParseScorecardQuery reads from, to (months, required) and by (segment,
// the default, or all).
func ParseScorecardQuery(v url.Values) (customers.ScorecardQuery, error) {
	q := customers.ScorecardQuery{From: v.Get("from"), To: v.Get("to"), Now: queryNow(), BySegment: true}
	for _, f := range []struct{ name, val string }{{"from", q.From}, {"to", q.To}} {
		if f.val == "" {
			return q, domain.FieldErrorf(f.name, "is required (a month such as 2025-01)")
		}
		if _, err := customers.ParseMonth(f.name, f.val); err != nil {
			return q, err
		}
	}
	switch v.Get("by") {
	case "", "segment":
	case "all", "none":
		q.BySegment = false
	default:
		return q, domain.FieldErrorf("by", "%q must be segment or all", v.Get("by"))
	}
	return q, q.Validate()
}

// ParseLinkageQuery reads window (90d, default 90 days), by (category or
// category,segment), from and to (months), as_of (RFC 3339 or a date) and
// sort (risk or count).
func ParseLinkageQuery(v url.Values) (customers.LinkageQuery, error) {
	q := customers.LinkageQuery{From: v.Get("from"), To: v.Get("to"), Sort: v.Get("sort")}
	if w := v.Get("window"); w != "" {
		days, err := strconv.Atoi(strings.TrimSuffix(w, "d"))
		if err != nil || days < 1 || days > 3650 {
			return q, domain.FieldErrorf("window", "%q must be a number of days from 1d to 3650d", w)
		}
		q.Window = time.Duration(days) * 24 * time.Hour
	}
	switch strings.ReplaceAll(v.Get("by"), " ", "") {
	case "", "category":
	case "category,segment", "segment,category":
		q.BySegment = true
	default:
		return q, domain.FieldErrorf("by", "%q must be category or category,segment", v.Get("by"))
	}
	for _, f := range []struct{ name, val string }{{"from", q.From}, {"to", q.To}} {
		if f.val != "" {
			if _, err := customers.ParseMonth(f.name, f.val); err != nil {
				return q, err
			}
		}
	}
	if a := v.Get("as_of"); a != "" {
		t, err := time.Parse(time.RFC3339, a)
		if err != nil {
			t, err = time.Parse("2006-01-02", a)
		}
		if err != nil || t.Year() < 1990 || t.Year() > 2200 {
			return q, domain.FieldErrorf("as_of", "%q must be a time (RFC 3339) or a date (2025-10-01)", a)
		}
		q.AsOf = t
	}
	switch q.Sort {
	case "", "risk", "count":
	default:
		return q, domain.FieldErrorf("sort", "%q must be risk or count", q.Sort)
	}
	return q, q.Validate()
}

// answerCustomers is the review, scorecard and linkage endpoints' one
// shape: the format (JSON unless asked, one of formats), the query parsed
// from the URL, the answer, and the answer written whole in the format.
func answerCustomers[Q, R any](s *Server, w http.ResponseWriter, r *http.Request, formats []string,
	parse func(url.Values) (Q, error), answer func(context.Context, Q) (R, error), write func(io.Writer, R, string) error) {
	f, err := answerFormat(r, customers.FormatJSON, formats...)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := parse(r.URL.Query())
	if err != nil {
		s.error(w, r, err)
		return
	}
	res, err := answer(r.Context(), q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := write(&buf, res, f); err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType(f))
	_, _ = w.Write(buf.Bytes())
}

var (
	reviewFormats = []string{customers.FormatJSON, customers.FormatMarkdown, customers.FormatCSV}
	tableFormats  = []string{customers.FormatJSON, customers.FormatTable, customers.FormatCSV}
)

func (s *Server) handleReview(w http.ResponseWriter, r *http.Request, ce CustomerEngine) {
	answerCustomers(s, w, r, reviewFormats, ParseReviewQuery, ce.Review, customers.WriteReview)
}

func (s *Server) handleScorecard(w http.ResponseWriter, r *http.Request, ce CustomerEngine) {
	answerCustomers(s, w, r, tableFormats, ParseScorecardQuery, ce.Scorecard, customers.WriteScorecard)
}

func (s *Server) handleLinkage(w http.ResponseWriter, r *http.Request, ce CustomerEngine) {
	answerCustomers(s, w, r, tableFormats, ParseLinkageQuery, ce.Linkage, customers.WriteLinkage)
}

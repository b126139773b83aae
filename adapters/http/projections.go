package http

import (
	"context"
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
	"github.com/plaint/plaint/projections/customers"
)

// ProjectionEngine is what the API needs of the projection engine;
// *projections.Engine implements it.
type ProjectionEngine interface {
	Trends(ctx context.Context, q projections.TrendQuery) (*projections.TrendResult, error)
	Create(sp *projections.Spec) (projections.Status, error)
	Drop(name string) error
	Status(name string) (projections.Status, error)
	List() []projections.Status
	Query(ctx context.Context, name string, asOf projections.AsOf) (*projections.Table, error)
}

var _ ProjectionEngine = (*projections.Engine)(nil)

// registerProjectionRoutes adds the trend and projection endpoints:
//
//	GET    /v1/trends?by=category&from=2025-11&to=2026-10&bucket=month&where=segment=enterprise&as_of=&format=json|csv|table
//	GET    /v1/projections                      every projection's status
//	POST   /v1/projections                      register a spec (YAML or JSON body); 202 and its status
//	GET    /v1/projections/{name}               status, with % done and ETA while building
//	DELETE /v1/projections/{name}
//	GET    /v1/projections/{name}/result?format=json|csv|table&as_of=
//
// Built-in names hold slashes (builtin/trend/month/category): {name} may be
// given with them as they are or escaped (%2F). Analysts' names cannot hold
// a slash, and no built-in name ends in /result, so the suffix is never
// ambiguous.
func (s *Server) registerProjectionRoutes() {
	s.handle("GET /v1/trends", RoleRead, s.withProjections(s.handleTrends))
	s.handle("GET /v1/projections", RoleRead, s.withProjections(s.handleProjectionList))
	s.handle("POST /v1/projections", RoleAdmin, s.withProjections(s.handleProjectionCreate))
	s.handle("GET /v1/projections/{name...}", RoleRead, s.withProjections(func(w http.ResponseWriter, r *http.Request) {
		if name, ok := strings.CutSuffix(r.PathValue("name"), "/result"); ok {
			s.handleProjectionResult(w, r, name)
			return
		}
		s.handleProjectionStatus(w, r, r.PathValue("name"))
	}))
	s.handle("DELETE /v1/projections/{name...}", RoleAdmin, s.withProjections(s.handleProjectionDrop))
}

func (s *Server) withProjections(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Projections == nil {
			s.error(w, r, domain.Errorf(domain.EUNAVAILABLE, "projections are not running on this server"))
			return
		}
		h(w, r)
	}
}

// format returns the requested output format of a table: json by
// default, csv or table.
func format(r *http.Request) (string, error) {
	return answerFormat(r, projections.FormatJSON, projections.FormatJSON, projections.FormatCSV, projections.FormatTable)
}

// contentType is the media type of an answer's format (csv, table,
// markdown; JSON otherwise).
func contentType(f string) string {
	switch f {
	case projections.FormatCSV:
		return "text/csv; charset=utf-8"
	case projections.FormatTable:
		return "text/plain; charset=utf-8"
	case customers.FormatMarkdown:
		return "text/markdown; charset=utf-8"
	}
	return "application/json"
}

func (s *Server) handleTrends(w http.ResponseWriter, r *http.Request) {
	f, err := format(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	q, err := ParseTrendQuery(r.URL.Query())
	if err != nil {
		s.error(w, r, err)
		return
	}
	res, err := s.cfg.Projections.Trends(r.Context(), q)
	if err != nil {
		s.error(w, r, err)
		return
	}
	w.Header().Set("Content-Type", contentType(f))
	if err := res.Write(w, f); err != nil {
		s.abort(r, err)
	}
}

// abort ends a streamed answer that failed after its headers were sent:
// the client sees a cut body, never a complete-looking partial answer.
func (s *Server) abort(r *http.Request, err error) {
	s.cfg.Logger.Warn("answer failed while streaming", requestAttrs(r, "err", err)...)
	panic(http.ErrAbortHandler)
}

// handleProjectionList answers every projection's status, as JSON or, with
// format=csv, one row a projection.
func (s *Server) handleProjectionList(w http.ResponseWriter, r *http.Request) {
	list := s.cfg.Projections.List()
	f, err := answerFormat(r, projections.FormatJSON, projections.FormatJSON, projections.FormatCSV)
	if err != nil {
		s.error(w, r, err)
		return
	}
	switch f {
	case projections.FormatJSON:
		writeJSON(w, http.StatusOK, map[string]any{"projections": list})
	case projections.FormatCSV:
		w.Header().Set("Content-Type", contentType(f))
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"name", "kind", "state", "checkpoint", "last_seq", "progress_pct", "memory_bytes", "error"})
		for _, st := range list {
			_ = cw.Write([]string{st.Name, st.Kind, st.State, strconv.FormatUint(st.Checkpoint, 10), strconv.FormatUint(st.LastSeq, 10),
				strconv.FormatFloat(st.Progress, 'f', -1, 64), strconv.FormatInt(st.MemoryBytes, 10), st.Error})
		}
		cw.Flush()
	}
}

func (s *Server) handleProjectionCreate(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	sp, err := projections.ParseSpec(body)
	if err != nil {
		s.error(w, r, err)
		return
	}
	st, err := s.cfg.Projections.Create(sp)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, st)
}

func (s *Server) handleProjectionStatus(w http.ResponseWriter, r *http.Request, name string) {
	st, err := s.cfg.Projections.Status(name)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (s *Server) handleProjectionDrop(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Projections.Drop(r.PathValue("name")); err != nil {
		s.error(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleProjectionResult(w http.ResponseWriter, r *http.Request, name string) {
	f, err := format(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	asOf, err := projections.ParseAsOf(r.URL.Query().Get("as_of"))
	if err != nil {
		s.error(w, r, err)
		return
	}
	t, err := s.cfg.Projections.Query(r.Context(), name, asOf)
	if err != nil {
		s.error(w, r, err)
		return
	}
	// Written as it is encoded: a large table is never held twice.
	w.Header().Set("Content-Type", contentType(f))
	if err := projections.WriteTable(w, t, f); err != nil {
		s.abort(r, err)
	}
}

package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/projections"
)

// DeadLetters is the dead-letter stream behind /v1/dlq. Its answers are
// JSON-encodable (the dead letters, a list of objects with the fields of
// dlqColumns; one with its body; the replay results);
// not-found and invalid selections are *domain.Error values.
type DeadLetters interface {
	// List returns the dead letters with the reason (all when ""),
	// dead-lettered at or after since, at most limit, the oldest first.
	List(ctx context.Context, reason string, since time.Time, limit int) (any, error)
	// Show returns one dead letter with its whole body.
	Show(ctx context.Context, id uint64) (any, error)
	// Replay re-publishes the dead letters with the ids (or the reason, or
	// all when both are empty) that are valid now, a body in fixed
	// replacing that id's, and says what became of each.
	Replay(ctx context.Context, reason string, ids []uint64, fixed map[uint64][]byte) (any, error)
}

func (s *Server) registerDLQRoutes() {
	if s.cfg.DLQ == nil {
		return
	}
	s.handle("GET /v1/dlq", RoleRead, s.handleDLQList)
	s.handle("GET /v1/dlq/{id}", RoleRead, s.handleDLQShow)
	s.handle("POST /v1/dlq/replay", RoleAdmin, s.handleDLQReplay)
}

// dlqColumns are the columns of GET /v1/dlq as CSV: the fields of each
// dead letter.
var dlqColumns = []string{"id", "reason", "error", "original_subject", "time", "size", "truncated", "preview"}

// handleDLQList answers GET /v1/dlq?reason=R&since=RFC3339&limit=N (limit
// 1 to 10000, default 1000)&format=json|csv.
func (s *Server) handleDLQList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f, err := answerFormat(r, projections.FormatJSON, projections.FormatJSON, projections.FormatCSV)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var since time.Time
	if v := q.Get("since"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			s.error(w, r, domain.FieldErrorf("since", "%q is not an RFC 3339 time", v))
			return
		}
		since = t
	}
	limit, err := parseUint(q.Get("limit"), 1000)
	if err != nil || limit == 0 || limit > 10000 {
		s.error(w, r, domain.FieldErrorf("limit", "%q must be a number from 1 to 10000", q.Get("limit")))
		return
	}
	out, err := s.cfg.DLQ.List(r.Context(), q.Get("reason"), since, int(limit))
	if err != nil {
		s.error(w, r, err)
		return
	}
	if f == projections.FormatCSV {
		if err := writeObjectsCSV(w, out, dlqColumns); err != nil {
			s.abort(r, err)
		}
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleDLQShow answers GET /v1/dlq/{id}.
func (s *Server) handleDLQShow(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseUint(r.PathValue("id"), 10, 64)
	if err != nil || id == 0 {
		s.error(w, r, domain.FieldErrorf("id", "%q is not a dead letter id", r.PathValue("id")))
		return
	}
	out, err := s.cfg.DLQ.Show(r.Context(), id)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// DLQReplayRequest is the body of POST /v1/dlq/replay: ids, or a reason,
// or all; body replaces the body of the one id given (a fixed event).
type DLQReplayRequest struct {
	IDs    []uint64        `json:"ids"`
	Reason string          `json:"reason"`
	All    bool            `json:"all"`
	Body   json.RawMessage `json:"body"`
}

// handleDLQReplay answers POST /v1/dlq/replay with what became of each dead
// letter.
func (s *Server) handleDLQReplay(w http.ResponseWriter, r *http.Request) {
	var req DLQReplayRequest
	body, err := readBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		s.error(w, r, domain.Errorf(domain.EINVALID, "replay request: %v", err))
		return
	}
	n := 0
	for _, set := range []bool{len(req.IDs) > 0, req.Reason != "", req.All} {
		if set {
			n++
		}
	}
	if n != 1 {
		s.error(w, r, domain.Errorf(domain.EINVALID, "give one of ids, reason or all"))
		return
	}
	var fixed map[uint64][]byte
	if len(req.Body) > 0 {
		if len(req.IDs) != 1 {
			s.error(w, r, domain.Errorf(domain.EINVALID, "body fixes one dead letter: give exactly one id"))
			return
		}
		fixed = map[uint64][]byte{req.IDs[0]: req.Body}
	}
	out, err := s.cfg.DLQ.Replay(r.Context(), req.Reason, req.IDs, fixed)
	if err != nil {
		s.error(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

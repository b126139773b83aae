package http

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/plaint/plaint/domain"
)

// Forgetter erases a customer for POST /v1/customers/{id}/forget. Its
// answer is JSON-encodable (what was erased where); an unknown customer is
// an ENOTFOUND *domain.Error, a refused erasure EINVALID or ECONFLICT.
type Forgetter interface {
	Forget(ctx context.Context, req ForgetRequest) (any, error)
}

// ForgetRequest is the body of POST /v1/customers/{id}/forget (the id is
// in the path).
type ForgetRequest struct {
	CustomerID string `json:"-"`
	// Reason is free text kept with the erasure; it must not contain the
	// customer id.
	Reason string `json:"reason,omitempty"`
	// RequestedBy names who asked (plaint forget sends the OS user).
	// Default "http".
	RequestedBy string `json:"requested_by,omitempty"`
}

// maxForgetBody bounds the request body.
const maxForgetBody = 16 << 10

func (s *Server) registerForgetRoutes() {
	if s.cfg.Forget == nil {
		return
	}
	s.handle("POST /v1/customers/{id}/forget", RoleAdmin, s.handleForget)
}

// handleForget erases the customer named in the path (URL-escaped) and
// answers 200 with what was done.
func (s *Server) handleForget(w http.ResponseWriter, r *http.Request) {
	req := ForgetRequest{CustomerID: r.PathValue("id")}
	r.Body = http.MaxBytesReader(w, r.Body, maxForgetBody)
	body, err := readBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	if len(body) > 0 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			s.error(w, r, domain.Errorf(domain.EINVALID, "the body must be {\"reason\": ..., \"requested_by\": ...}: %v", err))
			return
		}
	}
	if req.RequestedBy == "" {
		req.RequestedBy = "http"
	}
	out, err := s.cfg.Forget.Forget(r.Context(), req)
	if err != nil {
		s.error(w, r, err)
		return
	}
	s.cfg.Logger.Info("customer forgotten", "requested_by", req.RequestedBy)
	writeJSON(w, http.StatusOK, out)
}

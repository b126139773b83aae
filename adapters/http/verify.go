package http

import (
	"net/http"

	"github.com/plaint/plaint/domain"
	"github.com/plaint/plaint/eventstore"
)

// VerifyResult is the answer of POST /v1/verify. A corrupt log answers 409
// with the usual error object (code "conflict"), whose message lists the
// problems.
type VerifyResult struct {
	OK bool `json:"ok"`
	eventstore.VerifyReport
	Error *ErrorBody `json:"error,omitempty"`
}

// handleVerify checks the live log (one consistent read transaction; appends
// go on meanwhile) and answers 200 with ok true, or 409 with the problems.
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := s.cfg.Log.Verify(r.Context(), nil)
	switch {
	case err == nil:
		writeJSON(w, http.StatusOK, VerifyResult{OK: true, VerifyReport: rep})
	case eventstore.IsCorrupt(err):
		writeJSON(w, http.StatusConflict, VerifyResult{VerifyReport: rep, Error: &ErrorBody{Code: domain.ECONFLICT, Message: err.Error()}})
	default:
		s.error(w, r, err)
	}
}

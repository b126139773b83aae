package http

import (
	"errors"
	"io"
	"net/http"

	"github.com/plaint/plaint/domain"
)

// ErrorBody is the error object of every error answer:
// {"error": {"code": "invalid", "message": "..."}}.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// errorStatus is the HTTP status of each of plaint's error codes; any
// other code is a 500.
var errorStatus = map[string]int{
	domain.EINVALID:      http.StatusBadRequest,
	domain.EUNAUTHORIZED: http.StatusUnauthorized,
	domain.EFORBIDDEN:    http.StatusForbidden,
	domain.ENOTFOUND:     http.StatusNotFound,
	domain.ENOTALLOWED:   http.StatusMethodNotAllowed,
	domain.ECONFLICT:     http.StatusConflict,
	domain.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	domain.EUNAVAILABLE:  http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status of err's code.
func StatusOf(err error) int {
	if st, ok := errorStatus[domain.ErrorCode(err)]; ok {
		return st
	}
	return http.StatusInternalServerError
}

// error writes err as the JSON error object with the status of its code.
// Internal details are logged (with the request id), not sent.
func (s *Server) error(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	code := domain.ErrorCode(err)
	if status == http.StatusInternalServerError {
		code = domain.EINTERNAL
		s.cfg.Logger.Error("request failed", requestAttrs(r, "err", err)...)
	}
	writeJSON(w, status, map[string]ErrorBody{"error": {Code: code, Message: domain.ErrorMessage(err)}})
}

// readBody reads the request body, which the body limit bounds: a body
// over it is an ETOOLARGE error.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, domain.Errorf(domain.ETOOLARGE, "the body is over %d bytes", tooBig.Limit)
	case err != nil:
		return nil, domain.Errorf(domain.EINVALID, "reading the body: %v", err)
	}
	return b, nil
}

package http

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/plaint/plaint/domain"
)

// SessionCookie is the cookie the dashboard signs in with: it holds the
// token, HttpOnly (no script reads it) and SameSite=Strict (no other site
// sends it).
const SessionCookie = "plaint_session"

// allows reports whether a caller of role may use a route that needs need.
func allows(role, need Role) bool {
	return need == RolePublic || role == RoleAdmin || role == need
}

// credential returns the caller's token: a bearer token, else the session
// cookie's; "" when it sent none.
func credential(r *http.Request) string {
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, tok, _ := strings.Cut(a, " ")
		if strings.EqualFold(scheme, "Bearer") {
			return strings.TrimSpace(tok)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// authorize checks the caller's token against the route's role. Without
// tokens (a loopback server without --tokens) everyone is admin. Public
// routes need nothing; a path no route has needs read, so that callers
// without a token learn nothing of the routes.
func (s *Server) authorize(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rq := requestOf(r)
		if s.cfg.Tokens == nil {
			rq.role = RoleAdmin
			next.ServeHTTP(w, r)
			return
		}
		need, ok := s.roles[rq.route]
		if !ok {
			need = RoleRead
		}
		tok := credential(r)
		if tok != "" {
			if role, ok := s.cfg.Tokens.Role(tok); ok {
				rq.role = role
			}
		}
		switch {
		case allows(rq.role, need):
			next.ServeHTTP(w, r)
		case rq.role == RolePublic:
			w.Header().Set("WWW-Authenticate", `Bearer realm="plaint"`)
			msg := "this needs a token: send Authorization: Bearer TOKEN (a line of the server's --tokens file), or sign in on the dashboard"
			if tok != "" {
				msg = "the token is not one of the server's"
			}
			s.error(w, r, domain.Errorf(domain.EUNAUTHORIZED, "%s", msg))
		default:
			s.error(w, r, domain.Errorf(domain.EFORBIDDEN, "a %s token may not do this (it needs %s)", rq.role, need))
		}
	})
}

// Session is the answer of /v1/session: whether the server asks for
// tokens, and the caller's role ("" when not signed in).
type Session struct {
	Auth bool `json:"auth"`
	Role Role `json:"role"`
}

func (s *Server) registerSessionRoutes() {
	s.handle("GET /v1/session", RolePublic, s.handleSession)
	s.handle("POST /v1/session", RolePublic, s.handleSignIn)
	s.handle("DELETE /v1/session", RolePublic, s.handleSignOut)
}

func (s *Server) handleSession(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusOK, Session{Role: RoleAdmin})
		return
	}
	out := Session{Auth: true}
	if role, ok := s.cfg.Tokens.Role(credential(r)); ok {
		out.Role = role
	}
	writeJSON(w, http.StatusOK, out)
}

// handleSignIn takes {"token": ...} once and sets the session cookie;
// the token never goes in a URL.
func (s *Server) handleSignIn(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(r)
	if err != nil {
		s.error(w, r, err)
		return
	}
	var in struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal(body, &in); err != nil || in.Token == "" {
		s.error(w, r, domain.FieldErrorf("token", "send {\"token\": \"...\"}"))
		return
	}
	if s.cfg.Tokens == nil {
		writeJSON(w, http.StatusOK, Session{Role: RoleAdmin})
		return
	}
	role, ok := s.cfg.Tokens.Role(in.Token)
	if !ok {
		s.error(w, r, domain.Errorf(domain.EUNAUTHORIZED, "the token is not one of the server's"))
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: in.Token, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	writeJSON(w, http.StatusOK, Session{Auth: true, Role: role})
}

func (s *Server) handleSignOut(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
	w.WriteHeader(http.StatusNoContent)
}

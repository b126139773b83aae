package http

import (
	"net/http"
	"strings"
)

// Role is what a caller may do; every route names the role it needs.
type Role string

// The roles of --tokens. RolePublic routes need no token at all.
const (
	RolePublic Role = ""
	RoleRead   Role = "read"   // queries and the dashboard
	RoleIngest Role = "ingest" // POST /v1/events only
	RoleAdmin  Role = "admin"  // everything
)

// Route is one registered endpoint: its method, its path pattern (as
// net/http.ServeMux reads it) and the role it needs.
type Route struct {
	Method string
	Path   string
	Role   Role
}

// handle registers h for pattern ("METHOD /path"), which the role guards.
func (s *Server) handle(pattern string, role Role, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, Route{Method: method, Path: path, Role: role})
	s.roles[pattern] = role
	s.mux.HandleFunc(pattern, h)
}

// Routes returns every registered route, in registration order.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plaint/plaint/domain"
)

// The middleware chain every request goes through, outermost first:
//
//	recover      a panic becomes a logged 500 JSON error, never a dead connection
//	request id   X-Request-Id (the client's when well formed, else a new one)
//	metrics      plaint_http_request_duration_seconds by route and status
//	access log   one line a request: method, route pattern, status, bytes, time, request id
//	auth         the route's role against the caller's token (see auth.go)
//	body limit   Config.MaxBody (413 beyond it)
//	router       the routes, with JSON 404 and 405 answers
//
// The access log names the route's pattern (/v1/customers/{id}/forget),
// never the path or query, which can hold a customer id, and never a header.

// Middleware wraps a handler.
type Middleware func(http.Handler) http.Handler

// Chain applies middleware so that the first given is outermost.
func Chain(h http.Handler, mw ...Middleware) http.Handler {
	for i := len(mw) - 1; i >= 0; i-- {
		h = mw[i](h)
	}
	return h
}

// request is what the chain knows of one request, shared by its layers
// through the context.
type request struct {
	id    string
	route string // the matched pattern, "" when no route matches
	role  Role   // the caller's role once auth ran
}

type requestKey struct{}

func requestOf(r *http.Request) *request {
	if rq, ok := r.Context().Value(requestKey{}).(*request); ok {
		return rq
	}
	return &request{}
}

// RequestID returns the id of the request that ctx belongs to, "" outside one.
func RequestID(ctx context.Context) string {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return rq.id
	}
	return ""
}

// requestAttrs returns the log attributes that identify a request without
// personal data, followed by more.
func requestAttrs(r *http.Request, more ...any) []any {
	rq := requestOf(r)
	return append([]any{"request_id", rq.id, "method", r.Method, "route", routeLabel(rq.route)}, more...)
}

// routeLabel is the route's path pattern, or "unmatched".
func routeLabel(pattern string) string {
	if pattern == "" {
		return "unmatched"
	}
	if _, p, ok := strings.Cut(pattern, " "); ok {
		return p
	}
	return pattern
}

// recorder remembers the status and size of an answer. It unwraps to the
// writer it wraps, so http.ResponseController reaches Flush and deadlines
// (server-sent events need them), and it is a Flusher itself.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (rec *recorder) WriteHeader(code int) {
	if rec.status == 0 {
		rec.status = code
	}
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(b []byte) (int, error) {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	n, err := rec.ResponseWriter.Write(b)
	rec.bytes += int64(n)
	return n, err
}

// Flush sends what is buffered to the client.
func (rec *recorder) Flush() {
	if rec.status == 0 {
		rec.status = http.StatusOK
	}
	_ = http.NewResponseController(rec.ResponseWriter).Flush()
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

func (rec *recorder) code() int {
	if rec.status == 0 {
		return http.StatusOK
	}
	return rec.status
}

// recoverPanics turns a handler's panic into a 500 JSON error (when
// nothing was sent yet) and a log line with the stack. http.ErrAbortHandler,
// the way a streamed answer that failed is cut, passes through.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &recorder{ResponseWriter: w}
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.cfg.Logger.Error("handler panicked", requestAttrs(r, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))...)
			if rec.status != 0 {
				panic(http.ErrAbortHandler)
			}
			s.error(rec, r, fmt.Errorf("panic: %v", v))
		}()
		next.ServeHTTP(rec, r)
	})
}

// requestIDPattern is what a client's X-Request-Id must look like to be kept.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// identify gives the request its id and finds its route.
func (s *Server) identify(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-Id")
		if !requestIDPattern.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		_, pattern := s.mux.Handler(r)
		rq := &request{id: id, route: pattern}
		w.Header().Set("X-Request-Id", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestKey{}, rq)))
	})
}

// httpMetrics are the chain's Prometheus metrics.
type httpMetrics struct {
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg *prometheus.Registry) (*httpMetrics, error) {
	m := &httpMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "plaint_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by method, route pattern and status.",
		Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"method", "route", "status"})}
	if err := reg.Register(m.duration); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			return nil, fmt.Errorf("http metrics: %w", err)
		}
		m.duration = are.ExistingCollector.(*prometheus.HistogramVec)
	}
	return m, nil
}

// measure observes each request's duration by route and status.
func (s *Server) measure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			s.metrics.duration.WithLabelValues(r.Method, routeLabel(requestOf(r).route), strconv.Itoa(rec.code())).Observe(time.Since(start).Seconds())
		}()
		next.ServeHTTP(rec, r)
	})
}

// accessLog writes one line a request, at info level (debug for health
// probes and metrics scrapes, which come every few seconds).
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		defer func() {
			rq := requestOf(r)
			level := slog.LevelInfo
			switch rq.route {
			case "GET /healthz", "GET /readyz", "GET /metrics":
				level = slog.LevelDebug
			}
			s.cfg.Logger.Log(r.Context(), level, "http request", requestAttrs(r, "status", rec.code(), "bytes", rec.bytes,
				"duration_ms", float64(time.Since(start).Microseconds())/1000, "role", string(rq.role))...)
		}()
		next.ServeHTTP(rec, r)
	})
}

// limitBody bounds every request body by Config.MaxBody: a declared
// length over it is refused at once, a longer body fails when read.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > s.cfg.MaxBody {
			s.error(w, r, domain.Errorf(domain.ETOOLARGE, "the body is over %d bytes", s.cfg.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, s.cfg.MaxBody)
		next.ServeHTTP(w, r)
	})
}

// dispatch routes the request; a path no route has is a JSON 404, a method
// its route does not take a JSON 405 with Allow.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if requestOf(r).route != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	h, _ := s.mux.Handler(r)
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	if probe.status == http.StatusMethodNotAllowed {
		allow := probe.header.Get("Allow")
		w.Header().Set("Allow", allow)
		s.error(w, r, domain.Errorf(domain.ENOTALLOWED, "%s is not allowed here (allowed: %s)", r.Method, allow))
		return
	}
	s.error(w, r, domain.Errorf(domain.ENOTFOUND, "no such endpoint: %s %s (see /openapi.json)", r.Method, r.URL.EscapedPath()))
}

// headerProbe records what the router's own 404 or 405 handler answers.
type headerProbe struct {
	header http.Header
	status int
}

func (p *headerProbe) Header() http.Header { return p.header }
func (p *headerProbe) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
func (p *headerProbe) Write(b []byte) (int, error) { p.WriteHeader(http.StatusOK); return len(b), nil }

package http

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

func init() {
	// Text answers are checked as strings.
	for _, ct := range []string{"text/csv", "text/markdown", "application/x-ndjson", "text/html", "text/javascript", "text/css", "image/svg+xml"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
	}
}

// docRouter finds a request's operation in the OpenAPI document.
type docRouter struct {
	doc    *openapi3.T
	router routers.Router
}

func newDocRouter(t *testing.T) *docRouter {
	t.Helper()
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	// Routes are matched by path, whatever host the test server has.
	doc.Servers = openapi3.Servers{{URL: "http://{host}", Variables: map[string]*openapi3.ServerVariable{"host": {Default: "localhost"}}}}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &docRouter{doc: doc, router: r}
}

var docOnce struct {
	sync.Once
	r *docRouter
}

// sharedDocRouter is one docRouter for the tests that have no testServer.
func sharedDocRouter(t *testing.T) *docRouter {
	docOnce.Do(func() { docOnce.r = newDocRouter(t) })
	return docOnce.r
}

// checkResponse fails the test when an answer is not what the document
// says the operation answers (status, content type, body schema). A
// request the document has no operation for is checked by
// TestOpenAPIMatchesTheRoutes, not here; so is a built-in name whose
// slashes the document's {name} cannot hold.
func (d *docRouter) checkResponse(t *testing.T, req *http.Request, status int, h http.Header, body []byte) {
	t.Helper()
	if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
		return
	}
	route, params, err := d.router.FindRoute(req)
	if err != nil {
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc}},
		Status: status, Header: h,
		Options: &openapi3filter.Options{IncludeResponseStatus: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		t.Errorf("%s %s answered %d, not as /openapi.json says: %v\n%.500s", req.Method, req.URL.RequestURI(), status, err, body)
	}
}

// docPath is the OpenAPI path of a ServeMux pattern's path.
func docPath(p string) string {
	p = strings.TrimSuffix(p, "{$}")
	return regexp.MustCompile(`\{([a-z_]+)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

// TestOpenAPIMatchesTheRoutes: every registered route is in the document
// with its method and role, and every operation of the document is served
// by a registered route.
func TestOpenAPIMatchesTheRoutes(t *testing.T) {
	ts := newTestServer(t, nil, fullConfig)
	d := newDocRouter(t)
	seen := map[string]bool{}
	for _, rt := range ts.srv.Routes() {
		item := d.doc.Paths.Find(docPath(rt.Path))
		if item == nil || item.GetOperation(rt.Method) == nil {
			t.Errorf("route %s %s is not in the OpenAPI document (as %s)", rt.Method, rt.Path, docPath(rt.Path))
			continue
		}
		role, _ := item.GetOperation(rt.Method).Extensions["x-plaint-role"].(string)
		if want := string(rt.Role); role != want && !(want == "" && role == "public") {
			t.Errorf("%s %s needs role %q, the document says %q", rt.Method, rt.Path, rt.Role, role)
		}
		seen[rt.Method+" "+docPath(rt.Path)] = true
	}
	fill := regexp.MustCompile(`\{[a-z_]+\}`)
	for path, item := range d.doc.Paths.Map() {
		for method := range item.Operations() {
			req := httptest.NewRequest(method, fill.ReplaceAllString(path, "x1"), nil)
			_, pattern := ts.srv.mux.Handler(req)
			m, _, _ := strings.Cut(pattern, " ")
			if pattern == "" || (m != method && !(m == "GET" && method == "HEAD")) {
				t.Errorf("the document has %s %s, which no route serves", method, path)
			}
		}
	}
	if len(seen) < 20 {
		t.Errorf("only %d routes checked", len(seen))
	}
}

// TestOpenAPIServed: /openapi.json is the embedded document as JSON, and
// valid OpenAPI 3.
func TestOpenAPIServed(t *testing.T) {
	ts := newTestServer(t, nil, nil)
	code, h, body := ts.do(t, "GET", "/openapi.json", "", nil)
	if code != 200 || h.Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", code, h.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if doc.Paths.Find("/v1/trends") == nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("served document: %.300s", body)
	}
}

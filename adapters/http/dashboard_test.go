package http

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path"
	"regexp"
	"strings"
	"testing"

	"github.com/plaint/plaint/internal/testutil"
)

func newDashboardServer(t *testing.T) *httptest.Server {
	t.Helper()
	return newTestServer(t, nil, func(c *Config) { c.Projections = nil }).Server
}

var (
	htmlRef = regexp.MustCompile(`(?:src|href)="([^"#?]+)"`)
	jsRef   = regexp.MustCompile(`(?m)^(?:import|export)\b[^'"\n]*\bfrom\s+'([^']+)'`)
	cssRef  = regexp.MustCompile(`url\(\s*['"]?([^'")]+)`)
)

// TestDashboardServesEveryReferencedFile follows every reference from the
// page (links, scripts, module imports, stylesheet urls) and checks each is
// served from the binary with the right type: a file missing from the
// embedded set would leave the dashboard blank.
func TestDashboardServesEveryReferencedFile(t *testing.T) {
	ts := newDashboardServer(t)
	wantType := map[string]string{".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml"}
	seen := map[string]bool{}
	queue := []string{"/"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		resp, b := testutil.Get(t, ts.URL+p)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", p, resp.StatusCode)
		}
		ext := path.Ext(p)
		if p == "/" {
			ext = ".html"
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, wantType[ext]) || wantType[ext] == "" {
			t.Fatalf("GET %s: Content-Type %q", p, ct)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "ETag"} {
			if resp.Header.Get(h) == "" {
				t.Fatalf("GET %s has no %s header", p, h)
			}
		}
		var refs [][]string
		switch ext {
		case ".html":
			refs = htmlRef.FindAllStringSubmatch(string(b), -1)
		case ".js":
			refs = jsRef.FindAllStringSubmatch(string(b), -1)
		case ".css":
			refs = cssRef.FindAllStringSubmatch(string(b), -1)
		}
		dir := path.Dir(p)
		if p == "/" {
			dir = "/"
		}
		for _, m := range refs {
			ref := m[1]
			if strings.HasPrefix(ref, "data:") || strings.HasPrefix(ref, "v1/") {
				continue // inline images; API links
			}
			if strings.Contains(ref, "//") {
				t.Fatalf("%s refers to %s: the dashboard must work offline", p, ref)
			}
			queue = append(queue, path.Join(dir, ref))
		}
	}
	for _, want := range []string{"/ui/js/app.js", "/ui/js/charts.js", "/ui/vendor/uplot/uPlot.esm.js", "/ui/vendor/uplot/uPlot.min.css", "/ui/app.css"} {
		if !seen[want] {
			t.Errorf("%s is not reached from the page (reached: %v)", want, seen)
		}
	}
}

// TestDashboardIsSelfContained checks that no file of plaint's own in the
// dashboard names another host: the page works offline and its CSP allows
// only this server.
func TestDashboardIsSelfContained(t *testing.T) {
	d, err := newDashboard()
	if err != nil {
		t.Fatal(err)
	}
	for name, a := range d.assets {
		if strings.HasPrefix(name, "vendor/") {
			continue // the chart library names its home page in comments only; its imports are checked above
		}
		body := strings.ReplaceAll(string(a.body), `xmlns="http://www.w3.org/2000/svg"`, "") // a namespace, not a place
		if i := strings.Index(body, "://"); i >= 0 {
			t.Errorf("%s names a URL: %q", name, body[max(0, i-30):min(len(body), i+40)])
		}
	}
	if !strings.Contains(dashboardCSP, "default-src 'none'") || strings.Contains(dashboardCSP, "unsafe") {
		t.Errorf("CSP %q", dashboardCSP)
	}
}

// TestDashboardRevalidates checks the ETag round trip: an unchanged file is
// answered 304 with no body.
func TestDashboardRevalidates(t *testing.T) {
	ts := newDashboardServer(t)
	resp, _ := testutil.Get(t, ts.URL+"/ui/js/app.js")
	etag := resp.Header.Get("ETag")
	if etag == "" || resp.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("ETag %q, Cache-Control %q", etag, resp.Header.Get("Cache-Control"))
	}
	req, _ := http.NewRequest("GET", ts.URL+"/ui/js/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Fatalf("revalidation: %d with %d bytes", resp.StatusCode, len(b))
	}
}

// TestDashboardUnknownFiles checks that a file the dashboard does not have is
// a JSON 404, and that the page is served at / only, not for every path.
func TestDashboardUnknownFiles(t *testing.T) {
	ts := newDashboardServer(t)
	for _, p := range []string{"/ui/nope.js", "/ui/", "/ui/index.html", "/ui/js/"} {
		resp, b := testutil.Get(t, ts.URL+p)
		var body struct {
			Error struct{ Code, Message string }
		}
		err := json.Unmarshal(b, &body)
		if resp.StatusCode != http.StatusNotFound || err != nil || body.Error.Code != "not_found" {
			t.Fatalf("GET %s: %d %+v (%v)", p, resp.StatusCode, body, err)
		}
	}
	resp, _ := testutil.Get(t, ts.URL+"/no-such-page")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /no-such-page: %d, want 404", resp.StatusCode)
	}
}
